package sqlstore_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/senfi-sharif/senfi/jwtauth"
	"github.com/senfi-sharif/senfi/jwtauth/sqlstore"
)

// BenchmarkRevoked measures the per-request check against tables holding
// 10,000 revoked families and subjects, for a token that is not revoked (the
// common case: both lookups miss), serially and from parallel goroutines.
func BenchmarkRevoked(b *testing.B) {
	for _, d := range databases {
		b.Run(d.name, func(b *testing.B) {
			s := newStore(b, d.open(b), sqlstore.Options{})
			ctx := b.Context()
			now := time.Now()
			for i := range 10_000 {
				id := fmt.Sprintf("id-%d", i)
				if err := s.RevokeFamily(ctx, id, now.Add(time.Hour)); err != nil {
					b.Fatal(err)
				}
				if err := s.RevokeSubject(ctx, id, now, now.Add(time.Hour)); err != nil {
					b.Fatal(err)
				}
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
		})
	}
}
