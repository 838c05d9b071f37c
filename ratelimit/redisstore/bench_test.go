package redisstore_test

import (
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/senfi-sharif/senfi/internal/testenv"
	"github.com/senfi-sharif/senfi/ratelimit"
	"github.com/senfi-sharif/senfi/ratelimit/redisstore"
)

// BenchmarkTake measures one Take, serially on one key and from parallel
// goroutines on 1024 keys, against a MemoryStore baseline. The round trip to
// Redis dominates.
func BenchmarkTake(b *testing.B) {
	client, prefix := testenv.Redis(b)
	p, err := ratelimit.ParsePolicy("100/s burst 50")
	if err != nil {
		b.Fatal(err)
	}
	keys := make([]string, 1024)
	for i := range keys {
		keys[i] = "bench:ip:198.51.100." + strconv.Itoa(i)
	}
	for _, st := range []struct {
		name  string
		store ratelimit.Store
	}{
		{"memory", ratelimit.NewMemoryStore(ratelimit.MemoryStoreOptions{})},
		{"redis", newStore(b, client, redisstore.Options{Prefix: prefix})},
	} {
		b.Run(st.name+"/serial", func(b *testing.B) {
			ctx := b.Context()
			now := time.Now()
			b.ReportAllocs()
			for b.Loop() {
				now = now.Add(5 * time.Millisecond) // half the allowed rate: a mix of decisions
				if _, err := st.store.Take(ctx, keys[0], p, now); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(st.name+"/parallel", func(b *testing.B) {
			ctx := b.Context()
			now := time.Now()
			var next atomic.Uint32
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				i := next.Add(1)
				for pb.Next() {
					i += 7
					if _, err := st.store.Take(ctx, keys[i%uint32(len(keys))], p, now); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
}
