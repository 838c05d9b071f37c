// Package senfi is a kit of net/http security middleware, born from the
// Django backend of Senfi (the campaigns and signatures site of Sharif
// University's student guild) and built so that any Go service can import
// one package of it on its own.
//
// Every middleware has the shape func(http.Handler) http.Handler and composes
// with github.com/justinas/alice. Each package is configured by an Options
// struct whose zero value is the safe one; New validates it, refuses
// dangerous combinations with an error that names the option and the fix,
// and precomputes what the request path needs. Default error responses are
// RFC 9457 application/problem+json.
//
// The packages:
//
//   - [github.com/senfi-sharif/senfi/secure]: security headers (OWASP
//     preset), HTTPS redirect and HSTS, allowed hosts, CORS, the client IP
//     behind trusted proxies, body limits and strict JSON decoding.
//   - [github.com/senfi-sharif/senfi/jwtauth]: access and refresh JWTs with
//     rotation, reuse detection, revocation and key rotation, with the
//     revocation state in memory, SQL ([github.com/senfi-sharif/senfi/jwtauth/sqlstore])
//     or Redis ([github.com/senfi-sharif/senfi/jwtauth/redisstore]).
//   - [github.com/senfi-sharif/senfi/jwtauth/password]: password policy
//     (NIST SP 800-63B-4) and argon2id hashing that accepts Django's pbkdf2
//     hashes.
//   - [github.com/senfi-sharif/senfi/ratelimit]: rate limits ("5/m") keyed
//     by client IP, user or route, in memory or shared across replicas
//     through Redis ([github.com/senfi-sharif/senfi/ratelimit/redisstore]),
//     and login lockout.
//   - [github.com/senfi-sharif/senfi/audit]: a security event log that
//     drops nothing, leaks no secrets and can prove it was not edited (HMAC
//     chain, Verify), request logging with request IDs, and panic recovery;
//     an SQL sink in [github.com/senfi-sharif/senfi/audit/sqlsink].
//   - [github.com/senfi-sharif/senfi/perf]: per-route latency and error
//     tracking, slow requests, system and cgroup metrics, JSON endpoints, a
//     dashboard, and Prometheus ([github.com/senfi-sharif/senfi/perf/promperf]).
//   - [github.com/senfi-sharif/senfi/backup]: consistent, verified,
//     crash-safe backups of SQLite and PostgreSQL.
//   - example (a command, not a library): the whole Senfi backend assembled
//     from the kit.
//
// # Composing a chain
//
// Order matters. The client IP is resolved first, once, so every later layer
// sees the same address; metrics and logs come next so that they record
// refused requests too; the secure headers come before rate limiting and
// authentication so that a 429 or a 401 still carries them; rate limiting
// comes before authentication so that floods are shed before signatures are
// checked. With guard a *secure.Guard, rec a *perf.Recorder, events an
// *audit.Logger, limiter a *ratelimit.Limiter and auth a
// *jwtauth.Authenticator, each built by its package's New:
//
//	chain := alice.New(
//		guard.ClientIP,    // client IP behind trusted proxies
//		rec.Handler,       // perf: per-route figures
//		events.Requests,   // audit: request log and request IDs
//		events.Recover,    // audit: panics become a 500 problem
//		guard.Handler,     // headers, hosts, HTTPS, CORS, body limits
//		limiter.Handler,   // rate limits by client IP
//		auth.Authenticate, // JWT access tokens, revocation checked
//	)
//	srv := &http.Server{Addr: ":8000", Handler: chain.Then(mux), ConnContext: guard.ConnContext}
//	log.Fatal(srv.ListenAndServe())
package senfi
