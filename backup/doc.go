// Package backup makes consistent, verified, crash-safe backups of a
// SQLite or PostgreSQL database, and restores them all or nothing.
//
// A [Manager] looks after one database and one directory of backups. It
// creates backups ([Manager.Create], or on a schedule with
// [Manager.Schedule]), lists them ([Manager.List], [Manager.Stats]),
// proves that one restores ([Manager.Verify]), restores one
// ([Manager.Restore]) and deletes old ones by a retention policy
// ([Manager.Cleanup] with [Retention]). [Manager.Health] gives the figures
// to monitor: how old the newest good backup is, and the last failure.
//
// # Use
//
//	mgr, err := backup.New(backup.Options{
//		Dir:         "/var/backups/senfi",
//		DatabaseURL: os.Getenv("SENFI_DATABASE_URL"), // sqlite:///var/lib/senfi/senfi.db or postgres://…
//		Recipients:  []string{"age1…"},              // optional: encrypt to this public key
//		AppVersion:  version,
//		OnEvent:     func(e backup.Event) { /* to the audit log */ },
//	})
//	if err != nil { … }
//	go mgr.Schedule(ctx, 6*time.Hour, backup.Retention{KeepLast: 10, Daily: 7, Weekly: 4, Monthly: 6})
//
// and, in an operator's command, with the application stopped:
//
//	ids, _ := backup.ParseIdentities(keyFile)
//	mgr, _ := backup.New(backup.Options{Dir: dir, DatabaseURL: url, Identities: ids})
//	res, err := mgr.Restore(ctx, name, backup.RestoreOptions{Confirm: askOperator})
//
// # What a backup is
//
// A backup is two files in the directory: the data file
// <name>.<sqlite|pgdump>[.zst|.gz][.age] and its metadata <name>.json
// ([Info]: UTC time, engine, database, size, SHA-256, compression,
// encryption recipient fingerprints, schema version, application version,
// and the row count of every table). Both are written under temporary
// names, fsynced, renamed into place and the directory fsynced, data
// first: a backup is good only once its metadata is in place, so a crash
// at any instant leaves nothing that lists or verifies as good. What a
// crash leaves is removed by the next Manager that finds the directory
// idle. Files are private to the owner (0600 in a 0700 directory).
//
// SQLite is copied with its online backup API inside one read
// transaction, which also counts the rows: one consistent instant, taken
// while the application keeps writing (never a plain file copy, which can
// catch a half-written page or miss the WAL). PostgreSQL is dumped with
// pg_dump's custom format inside a snapshot exported by the transaction
// that counts the rows. The data is then compressed (zstd by default) and,
// with Options.Recipients, encrypted with age (filippo.io/age).
//
// # Verify and restore
//
// Verify checks the SHA-256, then restores into a scratch database (a
// file in the backup directory; a database created on the PostgreSQL
// server and dropped afterwards), runs the integrity check (PRAGMA
// integrity_check; pg_restore and psql succeeding) and compares every row
// count and the schema version with the metadata.
//
// Restore refuses a backup of another engine or with a newer schema
// version than the application knows (Options.AppSchemaVersion), verifies
// it, asks for confirmation unless forced, takes a safety backup of the
// live database, then replaces it all or nothing: SQLite by renaming the
// verified copy over the live file; PostgreSQL in one transaction that
// drops every schema, runs pg_restore's script through psql, checks the
// row counts and commits only if all of that and a second SHA-256 check
// passed. A failure at any step leaves the live database as it was.
//
// The application must not use the database while it is restored: stop
// it, or (SQLite) close its pool and open it again afterwards, because
// connections opened earlier keep seeing the old file. SQLite refuses with
// ErrDatabaseInUse when it can see other connections (in WAL mode);
// PostgreSQL waits at most a minute for the locks it needs.
//
// # Requirements and limits
//
//   - SQLite through modernc.org/sqlite (no cgo). In-memory databases
//     cannot be backed up.
//   - PostgreSQL needs pg_dump, pg_restore and psql (postgresql-client) of
//     a major version at least the server's, found on PATH or set in
//     Options. Verify needs CREATEDB on the scratch server; Restore needs
//     to own the database (PostgreSQL 15+) or be superuser, because it
//     recreates the public schema. Objects outside schemas that the
//     database already has (event triggers, publications) make a restore
//     fail, safely.
//   - The directory needs room for one more backup plus, for SQLite, an
//     uncompressed copy of the database while a backup or verify runs.
//   - The SHA-256 detects damage and edits of a data file, but someone who
//     can write the directory can also rewrite the metadata: keep copies
//     elsewhere (off the host), and encrypt them.
//   - Backups are made under an exclusive lock on the directory (flock on
//     Unix; elsewhere run one Manager per directory), so Managers in
//     several processes can share it.
package backup
