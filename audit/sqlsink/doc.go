// Package sqlsink stores audit records in a PostgreSQL or SQLite table, so
// that administrators can query security events with SQL:
//
//	SELECT time, user_email, client_ip, attrs
//	FROM audit_events
//	WHERE event = 'authn_login_fail' AND time > now() - interval '1 day'
//	ORDER BY time;
//
// It is a separate package so that importing audit does not pull in a SQL
// library; it uses github.com/jmoiron/sqlx over any database/sql driver of
// the two databases (pgx or lib/pq; modernc.org/sqlite or mattn/go-sqlite3).
//
// # Use
//
//	sink, err := sqlsink.New(db, sqlsink.Options{})
//	if err != nil { ... }
//	if err := sink.Migrate(ctx); err != nil { ... } // or ship Schema with your migrations
//	log, err := audit.New(audit.Options{Sinks: []audit.Sink{fileChain, sink}, QueueSize: 4096})
//
// Each batch of records is one transaction of multi-row INSERTs: a batch is
// stored whole or not at all. Every value is a bound parameter; the table
// name is validated and written into the SQL once, by New. A write that
// takes longer than Options.Timeout fails (and the Logger reports it), so a
// database outage cannot hang the application; with synchronous delivery
// every request then waits up to that long, so give a Logger with an SQL
// sink a queue (audit.Options.QueueSize).
//
// # Tamper evidence
//
// Wrap the sink in an audit.Chain to chain its rows like a file's lines:
// the record column holds the chained line, seq its sequence number, and
// [Sink.Verify] checks the rows in id order. Someone with write access to
// the table can delete or edit rows but cannot forge their mac without the
// key. The sink is an audit.Resumer, so the chain continues across restarts.
// It can also be the checkpoint sink of a chained file: [Sink.Checkpoints]
// reads them back for audit.Verify.
//
// # Schema
//
// One table (default name audit_events): id (ascending, never reused),
// time, level, event, outcome, message, request_id, client_ip, user_id,
// user_email, seq, attrs (the event's own fields, jsonb on PostgreSQL, JSON
// text on SQLite) and record (the complete JSON line as written to files).
// Indexes cover time, (event, time), (user_id, time) and request_id.
// [Schema] returns the DDL; [Sink.Migrate] runs it.
package sqlsink
