package jwtauth_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/senfi-sharif/senfi/jwtauth"
)

func TestMemoryStoreBounded(t *testing.T) {
	clk := newClock()
	s := jwtauth.NewMemoryStore(jwtauth.MemoryStoreOptions{MaxEntries: 10, Now: clk.Now})
	ctx := context.Background()
	now := clk.Now()
	for i := range 10 {
		first, _, err := s.Consume(ctx, fmt.Sprint("jti", i), now, now.Add(time.Minute))
		require.NoError(t, err)
		require.True(t, first)
	}
	// Full of live entries: refuse rather than forget a revocation.
	_, _, err := s.Consume(ctx, "one-more", now, now.Add(time.Minute))
	require.ErrorIs(t, err, jwtauth.ErrStoreFull)
	require.ErrorIs(t, s.RevokeFamily(ctx, "f", now.Add(time.Minute)), jwtauth.ErrStoreFull)
	require.ErrorIs(t, s.RevokeSubject(ctx, "s", now, now.Add(time.Minute)), jwtauth.ErrStoreFull)
	assert.Equal(t, 10, s.Len())

	// Once they expire they are swept and there is room again.
	clk.Advance(2 * time.Minute)
	require.NoError(t, s.RevokeFamily(ctx, "f", clk.Now().Add(time.Minute)))
	assert.Equal(t, 1, s.Len())

	// Updating an existing entry needs no room.
	require.NoError(t, s.RevokeFamily(ctx, "f", clk.Now().Add(time.Hour)))
}

func TestMemoryStoreSweepsAsItGoes(t *testing.T) {
	clk := newClock()
	s := jwtauth.NewMemoryStore(jwtauth.MemoryStoreOptions{Now: clk.Now})
	ctx := context.Background()
	for i := range 5000 {
		now := clk.Now()
		_, _, err := s.Consume(ctx, fmt.Sprint("jti", i), now, now.Add(time.Second))
		require.NoError(t, err)
		clk.Advance(10 * time.Millisecond)
	}
	assert.Less(t, s.Len(), 1500, "expired entries are swept without a background goroutine")
}

func TestMemoryStoreExpiry(t *testing.T) {
	clk := newClock()
	s := jwtauth.NewMemoryStore(jwtauth.MemoryStoreOptions{Now: clk.Now})
	ctx := context.Background()
	now := clk.Now()
	ref := jwtauth.TokenRef{Subject: "1", Family: "f", IssuedAt: now}
	require.NoError(t, s.RevokeFamily(ctx, "f", now.Add(time.Minute)))
	revoked, err := s.Revoked(ctx, ref)
	require.NoError(t, err)
	assert.True(t, revoked)
	clk.Advance(time.Minute)
	revoked, err = s.Revoked(ctx, ref)
	require.NoError(t, err)
	assert.False(t, revoked, "forgotten after its expiry, when every token it concerned has expired")

	first, _, err := s.Consume(ctx, "j", now, now.Add(time.Minute))
	require.NoError(t, err)
	assert.True(t, first)
	clk.Advance(time.Minute)
	first, _, err = s.Consume(ctx, "j", clk.Now(), clk.Now().Add(time.Minute))
	require.NoError(t, err)
	assert.True(t, first, "an expired mark no longer counts")
}

func BenchmarkMemoryStoreRevoked(b *testing.B) {
	s := jwtauth.NewMemoryStore(jwtauth.MemoryStoreOptions{})
	ctx := context.Background()
	now := time.Now()
	for i := range 10000 {
		_ = s.RevokeFamily(ctx, fmt.Sprint("f", i), now.Add(time.Hour))
	}
	ref := jwtauth.TokenRef{Subject: "42", Family: "live-family", IssuedAt: now}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if revoked, _ := s.Revoked(ctx, ref); revoked {
				b.Fatal("revoked")
			}
		}
	})
}
