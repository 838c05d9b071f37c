package redisstore_test

import (
	"crypto/ed25519"
	"crypto/rand"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/senfi-sharif/senfi/internal/testenv"
	"github.com/senfi-sharif/senfi/jwtauth"
	"github.com/senfi-sharif/senfi/jwtauth/redisstore"
)

// BenchmarkRevoked measures the per-request check for a token that is not
// revoked, with 10,000 revoked families and subjects in Redis, serially and
// from parallel goroutines.
func BenchmarkRevoked(b *testing.B) {
	client, prefix := testenv.Redis(b)
	s := newStore(b, client, redisstore.Options{Prefix: prefix})
	ctx := b.Context()
	now := time.Now()
	pipe := client.Pipeline()
	for i := range 10_000 {
		pipe.Set(ctx, fmt.Sprintf("%sfam:id-%d", prefix, i), "1", time.Hour)
		pipe.Set(ctx, fmt.Sprintf("%ssub:id-%d", prefix, i), now.UnixMicro(), time.Hour)
	}
	if _, err := pipe.Exec(ctx); err != nil {
		b.Fatal(err)
	}
	ref := jwtauth.TokenRef{Subject: "user-1", Family: "family-1", IssuedAt: now}

	b.Run("serial", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if revoked, err := s.Revoked(ctx, ref); err != nil || revoked {
				b.Fatalf("Revoked = %v, %v", revoked, err)
			}
		}
	})
	b.Run("parallel", func(b *testing.B) {
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if revoked, err := s.Revoked(ctx, ref); err != nil || revoked {
					b.Errorf("Revoked = %v, %v", revoked, err)
					return
				}
			}
		})
	})
}

// nopWriter is a ResponseWriter that costs nothing.
type nopWriter struct{ h http.Header }

func (w *nopWriter) Header() http.Header         { return w.h }
func (w *nopWriter) Write(p []byte) (int, error) { return len(p), nil }
func (w *nopWriter) WriteHeader(int)             {}

// BenchmarkAuthenticate measures jwtauth's middleware with revocation kept in
// Redis: a session presenting its access token again, HS256 and EdDSA. The
// round trip to Redis dominates; compare with jwtauth's own
// BenchmarkAuthenticate (memory store).
func BenchmarkAuthenticate(b *testing.B) {
	client, prefix := testenv.Redis(b)
	s := newStore(b, client, redisstore.Options{Prefix: prefix})
	_, edKey, _ := ed25519.GenerateKey(rand.Reader)
	for _, k := range []jwtauth.Key{
		{ID: "hs", Algorithm: jwtauth.HS256, Secret: []byte("0123456789abcdef0123456789abcdef-bench")},
		{ID: "ed", Algorithm: jwtauth.EdDSA, PrivateKey: edKey},
	} {
		b.Run(string(k.Algorithm), func(b *testing.B) {
			a, err := jwtauth.New(jwtauth.Options{Keys: []jwtauth.Key{k}, Issuer: "i", Audience: "a", Store: s})
			if err != nil {
				b.Fatal(err)
			}
			p, err := a.Issue(b.Context(), jwtauth.IssueOptions{Subject: "42"})
			if err != nil {
				b.Fatal(err)
			}
			status := 0
			h := a.Authenticate(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { status = 200 }))
			r := httptest.NewRequest(http.MethodGet, "/", nil)
			r.Header.Set("Authorization", "Bearer "+p.AccessToken)
			w := &nopWriter{h: http.Header{}}
			h.ServeHTTP(w, r)
			if status != 200 {
				b.Fatal("token refused")
			}
			b.ReportAllocs()
			for b.Loop() {
				h.ServeHTTP(w, r)
			}
		})
	}
}
