package bench

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"testing"

	"github.com/senfi-sharif/senfi/bench/cmd/chainserver/chain"
)

// BenchmarkChain compares whole middleware chains around the same trivial
// handler (served by an http.ServeMux in every case), on an authenticated
// cross-origin GET from numClients addresses:
//
//   - bare: the mux alone;
//   - senfi: the example application's full chain (client IP, perf, problem
//     shape, audit request log to an HMAC-chained file with synchronous
//     delivery, panic recovery, secure headers/hosts/
//     CORS, global rate limit in memory, jwtauth with revocation in a
//     memory store, user and route reporting), see package chain;
//   - senfi-sqlstore: the same with revocation in SQLite (jwtauth/sqlstore,
//     WAL), as the example runs without Redis;
//   - peers: unrolled/secure → rs/cors → httprate → golang-jwt;
//   - headers: bare, but answering with the senfi chain's response header
//     fields (copied from its answer): the part of the chain's cost that
//     is the size of its response, not its work;
//   - layers-NN-name: the first NN layers of the senfi chain only, adding
//     one layer at a time, to show what each costs (senfi is all of them).
//
// Each runs serially and with b.RunParallel (-parallel). The benchmark
// fails before measuring unless every chain answers the authenticated
// request 200 with its headers and (once authentication is in it) the
// anonymous one 401: no measurement is of a refusal.
func BenchmarkChain(b *testing.B) {
	ctx := context.Background()
	opts := chain.Options{
		Hosts:  []string{benchHost},
		Origin: benchOrigin,
		Secret: chain.NewSecret(),
		Dir:    b.TempDir(),
	}
	senfi := newChain(b, opts)
	token, err := senfi.Token(ctx)
	if err != nil {
		b.Fatal(err)
	}
	sqlOpts := opts
	sqlOpts.Dir, sqlOpts.SQLite = b.TempDir(), true
	senfiSQL := newChain(b, sqlOpts)
	peers, err := chain.Peers(opts)
	if err != nil {
		b.Fatal(err)
	}

	header := http.Header{
		"Origin":        {benchOrigin},
		"Accept":        {"application/json"},
		"Authorization": {"Bearer " + token},
	}
	reqs := withConnContext(senfi, makeRequests(http.MethodGet, header))

	type impl struct {
		name    string
		handler http.Handler
		want    chain.Expect
	}
	impls := []impl{
		{"bare", chain.Bare(), chain.ExpectBare},
		{"senfi", senfi.Handler(), chain.ExpectSenfi},
		{"senfi-sqlstore", senfiSQL.Handler(), chain.ExpectSenfi},
		{"peers", peers, chain.ExpectPeers},
		{"headers", chain.HeaderFloor(chain.ResponseHeader(senfi.Handler(), reqs[0])), chain.ExpectHeaders},
	}
	anonymous := http.StatusOK
	for i, l := range senfi.Layers()[:len(senfi.Layers())-1] {
		if l.Name == "jwtauth" {
			anonymous = http.StatusUnauthorized
		}
		name := fmt.Sprintf("layers-%02d-%s", i+1, l.Name)
		impls = append(impls, impl{name, senfi.Upto(i + 1), chain.Expect{Name: name, Anonymous: anonymous}})
	}

	// Check every implementation before measuring any.
	anon := header.Clone()
	anon.Del("Authorization")
	anonReqs := withConnContext(senfi, makeRequests(http.MethodGet, anon))
	for _, im := range impls {
		for _, k := range []int{0, len(reqs) / 2, len(reqs) - 1} {
			if err := im.want.Check(answer(im.handler, reqs[k]), answer(im.handler, anonReqs[k])); err != nil {
				b.Fatal(err)
			}
		}
	}

	for _, im := range impls {
		b.Run(im.name, func(b *testing.B) { serve(b, im.handler, reqs) })
	}
	for _, im := range impls {
		b.Run(im.name+"-parallel", func(b *testing.B) { serveParallel(b, im.handler, reqs) })
	}
}

// newChain builds the senfi chain and closes it with the benchmark,
// failing it unless the security log then verifies.
func newChain(b *testing.B, opts chain.Options) *chain.Senfi {
	s, err := chain.NewSenfi(opts)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		if err := s.Close(); err != nil {
			b.Error(err)
		}
		if _, err := s.VerifyLog(opts.Secret); err != nil {
			b.Errorf("security log: %v", err)
		}
	})
	return s
}

// withConnContext gives each request the context the server's ConnContext
// (the senfi chain's) gives a request on a connection from its address.
func withConnContext(s *chain.Senfi, reqs []*http.Request) []*http.Request {
	for i, r := range reqs {
		peer := net.TCPAddrFromAddrPort(netip.MustParseAddrPort(r.RemoteAddr))
		reqs[i] = r.WithContext(s.ConnContext(context.Background(), peerConn{remote: peer}))
	}
	return reqs
}

// answer serves r through h and returns the response.
func answer(h http.Handler, r *http.Request) chain.Answer {
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, r)
	return chain.Answer{Status: rec.Code, Header: rec.Header(), Body: rec.Body.String()}
}
