// Package audit is the security log of an HTTP API: named security events,
// a request log, and panic recovery, written as JSON lines that lose
// nothing under load, leak no secrets and show any tampering.
//
// An audit log that drops events when busy, records passwords, or can be
// edited without trace is worse than none: it is trusted and wrong. This
// package is built against those three failures.
//
// # Use
//
//	file, err := audit.NewFileSink(audit.FileOptions{Path: "/var/log/senfi/audit.log"})
//	...
//	stdout := audit.NewWriterSink("stdout", os.Stdout)
//	chained, err := audit.NewChain(file, audit.ChainOptions{Key: key, Checkpoints: stdout})
//	...
//	log, err := audit.New(audit.Options{
//		Sinks: []audit.Sink{chained, stdout},
//		User: func(ctx context.Context) (string, string) {
//			if c, ok := jwtauth.FromContext(ctx); ok {
//				return c.Subject, ""
//			}
//			return "", ""
//		},
//	})
//	...
//	defer log.Close() // after srv.Shutdown: flushes, final checkpoint, closes the file
//
//	handler := alice.New(guard.ClientIP, log.Requests, log.Recover, guard.Handler, limiter.Handler, auth.Authenticate).
//		Then(audit.ReportRoute(mux))
//
// and in handlers:
//
//	log.Log(r.Context(), audit.AuthnLoginFail, audit.Failure,
//		slog.String(audit.KeyUserEmail, email), slog.String("reason", "bad_password"))
//
// # Records
//
// Every record is one JSON object on one line: time (UTC, RFC 3339 with
// milliseconds), level, event, outcome, request_id, client_ip, user_id and
// user_email when known, the event's own attributes, and, in a chained
// sink, seq, prev and mac (see the Key constants). Values are escaped, so a
// user-supplied email containing a newline cannot forge a line (the Django
// original's logs could be forged that way). The request ID and client
// address come from the context that [Logger.Requests] prepares; the user
// from Options.User or explicit attributes. audit imports neither jwtauth
// nor secure: both are reached through these injectable functions, and the
// client address through the kit's internal/clientip, which secure's
// resolver fills.
//
// Event names follow the OWASP Application Logging Vocabulary
// (authn_login_fail, authn_token_reuse, authz_fail, user_created,
// excess_rate_limit_exceeded, ...), with names of the same style where it
// has none (verification_code_sent, backup_created, http_request). They
// replace the dotted names (login.failed, token.reuse_detected) of the
// kit's first design notes. Levels follow the vocabulary too, with
// [LevelCritical] for its CRITICAL events.
//
// # Middleware
//
// [Logger.Requests] writes one record per request (method, route pattern,
// path, status, bytes, duration, client address, user, user agent, request
// ID), assigns the request ID (a well-formed incoming X-Request-ID, or a
// new random one), and sets it on the response before the handler runs, so
// every error body can quote it. It runs outside authentication so that
// refused requests are logged too; inner layers report the user with
// [SetUser] and the route with [SetRoute] or [ReportRoute], which find the
// request log's ResponseWriter through Unwrap chains without allocating.
// [Logger.Recover] turns a panic into a 500 problem+json carrying the
// request ID and nothing else, and logs the stack. The wrapped
// ResponseWriter keeps Flusher, Hijacker, io.ReaderFrom and
// http.ResponseController working.
//
// # Delivery
//
// No record is dropped. By default delivery is synchronous with group
// commit: Log returns once every sink has the record, and callers arriving
// while a batch is being written are written together in the next one, so
// throughput grows with concurrency while each caller waits for one write.
// With Options.QueueSize, records go through a bounded queue written by one
// goroutine; a full queue blocks the caller (back-pressure) rather than
// discarding. A failing sink is counted ([Logger.Stats]) and reported to
// stderr at most once a second; the record still reaches the other sinks,
// and a record no sink accepts is written to stderr. A panicking sink is
// contained. [Logger.Close] writes everything logged before it.
//
// # Redaction
//
// Attribute keys on a deny-list ([DefaultRedactKeys]: password, token,
// secret, authorization, cookie, code, session, api_key, ...) have their
// values replaced by [Redacted] at any depth: in groups, in maps, in
// structs (marshaled with encoding/json, then walked) and in values
// resolved from slog.LogValuer. String values that look like credentials
// whatever their key (JWTs, "Bearer ..." and "Basic ..." values) are
// redacted too. Long values are cut, and a record's size, depth and width
// are bounded, so a client cannot blow up a log line.
//
// # Tamper evidence
//
// A [Chain] over a sink adds a sequence number and an HMAC-SHA-256 over
// each record and the previous record's mac. Without the key, edited,
// removed, inserted, replayed and reordered records are detectable;
// checkpoints (seq and mac) sent to a second sink make removal of the
// newest records detectable too. [Verify] checks a file sink's files,
// rotated and gzipped ones included, and reports the first problem with its
// file and line; [ReadCheckpoints] reads the checkpoints back. The chain
// continues across restarts and rotations. Retention (MaxBackups,
// MaxAgeDays) deletes the oldest files: the report then starts at a seq
// above 1, which is expected, not tampering.
//
// # Limits
//
// The chain proves integrity against whoever lacks the key; an attacker
// who holds it (e.g. root on the host that stores it) can rewrite history
// consistently, and only checkpoints already shipped elsewhere then
// disagree. Synchronous delivery makes each request wait for the slowest
// sink: give a Logger with a remote SQL sink a queue. A crash loses what is
// still queued, never what synchronous delivery acknowledged. Timestamps
// come from the local clock.
package audit
