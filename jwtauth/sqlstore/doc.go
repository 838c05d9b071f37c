// Package sqlstore keeps the revocation state of jwtauth — consumed refresh
// tokens, revoked token families and per-subject revocation times — in
// PostgreSQL or SQLite, so that every replica of an application sees the
// same state. [Store] implements [jwtauth.Store] and passes
// jwtauth/storetest.
//
//	db := sqlx.MustOpen("pgx", os.Getenv("DATABASE_URL"))
//	store, err := sqlstore.New(db, sqlstore.Options{})
//	if err != nil { ... }
//	if err := store.Migrate(ctx); err != nil { ... } // or run sqlstore.Schema's SQL with your migration tool
//	go store.RunSweeper(ctx, 10*time.Minute)         // optional: keeps the tables small
//
// The dialect is detected from db.DriverName(): pgx, pgx/v5 or postgres for
// PostgreSQL 9.5+, sqlite or sqlite3 for SQLite 3.24+. This package imports
// no driver: the application imports the one it opens db with.
//
// # Schema
//
// Three tables, named with Options.TablePrefix ("jwtauth_" by default):
// families (fid, expires_at_ms), subjects (sub, before_us, expires_at_ms)
// and used_tokens (jti, used_at_us, expires_at_ms). A subject's revocation
// time and a token's first use are integer Unix microseconds, the precision
// of a token's iat; expiries are integer Unix milliseconds. [Schema] returns
// the DDL; [Store.Migrate] runs it.
//
// # Cost
//
// Revoked, which the middleware calls on every authenticated request, is one
// SELECT over two primary-key lookups: one round trip. Consume is one
// INSERT ... ON CONFLICT statement, atomic by the primary key; only a reuse
// (the token was already consumed) needs a second query to read when.
// RevokeFamily and RevokeSubject are one upsert each, keeping the latest
// time. Every ID travels as a bound parameter. (PostgreSQL refuses text
// with NUL bytes or invalid UTF-8; IDs from JWT claims, decoded from JSON,
// never contain either.)
//
// # Expiry
//
// An entry counts until its expiry by Options.Now, and is ignored after it.
// Expired rows stay in the tables until [Store.Sweep] deletes them: call it
// periodically, or run [Store.RunSweeper].
//
// # SQLite
//
// Open SQLite with a busy timeout and in WAL mode, e.g. with
// modernc.org/sqlite "file.db?_pragma=busy_timeout(5000)&_pragma=journal_mode(WAL)",
// so that concurrent writers queue for the write lock; the store also
// retries statements refused with SQLITE_BUSY. SQLite is right for a single
// machine; replicas on several machines need PostgreSQL (or
// jwtauth/redisstore).
package sqlstore
