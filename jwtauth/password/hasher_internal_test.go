package password

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// work is what one hash computation did: the algorithm and its cost
// parameters.
type work struct {
	alg                 algorithm
	memory, time        uint32
	threads             uint8
	saltLen, keyLen     int
	iterations, bcryptN int
}

func workOf(ph parsedHash) work {
	return work{ph.alg, ph.memory, ph.time, ph.threads, len(ph.salt), len(ph.key), ph.iterations, ph.cost}
}

// recorder collects the work of every computation of h.
func recorder(h *Hasher) *[]work {
	var mu sync.Mutex
	var got []work
	h.onCompute = func(ph parsedHash) {
		mu.Lock()
		defer mu.Unlock()
		w := workOf(ph)
		if ph.alg == algArgon2id && ph.key == nil { // Hash: the key is not known yet
			w.keyLen = h.keyLen
		}
		got = append(got, w)
	}
	return &got
}

func TestDummyVerifyDoesTheWorkOfARealVerify(t *testing.T) {
	ctx := t.Context()
	h, err := newHasher(Options{MemoryKiB: 64, Iterations: 1}, true)
	require.NoError(t, err)
	got := recorder(h)

	hash, err := h.Hash(ctx, "correct horse battery staple")
	require.NoError(t, err)
	_, err = h.Verify(ctx, hash, "correct horse battery staple") // a known user, right password
	require.NoError(t, err)
	_, err = h.Verify(ctx, hash, "wrong password") // a known user, wrong password
	require.ErrorIs(t, err, ErrMismatch)
	err = h.DummyVerify(ctx, "correct horse battery staple") // an unknown user
	require.ErrorIs(t, err, ErrMismatch)
	_, err = h.Verify(ctx, "!unusableDjangoPassword", "x") // a Django user without a password
	require.ErrorIs(t, err, ErrMismatch)

	want := work{alg: algArgon2id, memory: 64, time: 1, threads: 1, saltLen: 16, keyLen: 32}
	assert.Equal(t, []work{want, want, want, want, want}, *got,
		"hashing, verifying, dummy verification and unusable hashes run one identical argon2id computation each")
}

func TestRefusedHashesAreNotComputed(t *testing.T) {
	h, err := New(Options{})
	require.NoError(t, err)
	got := recorder(h)
	for _, s := range []string{
		"$argon2id$v=19$m=4000000000,t=2,p=1$c2l4dGVlbiBieXRlIHNsdA$k81ovk8fkH1PorA/36zCkEKia28tQyMQYijfaS5RQy4",
		"pbkdf2_sha256$1000000000000$salt$1ZbpQ8q5/nJfAEeuKnRJiLm0nnnJosFR9NnaL2Pctvk=",
		"$2b$31$abcdefghijklmnopqrstuuFiPhXf1sVd3pCCRO.uVh34H/qI/ZsuS",
		"$argon2id$v=19$m=64,t=0,p=1$c2l4dGVlbiBieXRlIHNsdA$k81ovk8fkH1PorA/36zCkEKia28tQyMQYijfaS5RQy4",
		"garbage",
	} {
		_, err := h.Verify(t.Context(), s, "pw")
		assert.Error(t, err)
	}
	assert.Empty(t, *got)
}

func TestConcurrencyIsBounded(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		// Everything that blocks must be created inside the bubble.
		h, err := newHasher(Options{MemoryKiB: 64, Iterations: 1, MaxConcurrent: 2}, true)
		require.NoError(t, err)
		gate := make(chan struct{})
		var running, peak atomic.Int32
		h.onCompute = func(parsedHash) {
			n := running.Add(1)
			for {
				p := peak.Load()
				if n <= p || peak.CompareAndSwap(p, n) {
					break
				}
			}
			<-gate
			running.Add(-1)
		}

		// Five logins arrive; two get a slot and hold it.
		var wg sync.WaitGroup
		errs := make([]error, 5)
		for i := range errs {
			wg.Go(func() { _, errs[i] = h.Hash(context.Background(), "correct horse battery staple") })
		}
		synctest.Wait()
		assert.Equal(t, int32(2), running.Load(), "two computations run, three wait")

		// A sixth caller gives up when its deadline passes.
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		start := time.Now()
		err = h.DummyVerify(ctx, "pw")
		assert.ErrorIs(t, err, ErrBusy)
		assert.ErrorIs(t, err, context.DeadlineExceeded)
		assert.Equal(t, time.Second, time.Since(start), "it waited exactly until its deadline (fake clock)")

		// Open the gate: the queue drains, never more than two at once.
		close(gate)
		wg.Wait()
		for _, err := range errs {
			assert.NoError(t, err)
		}
		assert.Equal(t, int32(2), peak.Load())
		assert.Empty(t, h.sem, "every slot was released")
	})
}
