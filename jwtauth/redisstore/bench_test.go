package redisstore_test

import (
	"fmt"
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
