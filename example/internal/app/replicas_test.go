package app_test

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
)

// TestReplicas runs two app instances on one PostgreSQL database and one
// Redis key space, as two replicas behind a load balancer.
func TestReplicas(t *testing.T) {
	b := postgresRedis(t)
	clk := newClock()
	a := start(t, b, options{clock: clk, env: map[string]string{"SENFI_RATE_LOGIN": "5/m"}})
	c := start(t, b, options{clock: clk, env: map[string]string{"SENFI_RATE_LOGIN": "5/m"}, smtp: a.smtp})

	// A code sent through one replica is verified on the other.
	code := a.codeAfter("rep@sharif.edu", func() {
		a.expect(200, "POST", "/api/auth/send-code", "", map[string]any{"email": "rep@sharif.edu"})
	})
	r := c.expect(200, "POST", "/api/auth/verify-code", "", map[string]any{"email": "rep@sharif.edu", "code": code})
	assert.Equal(t, true, r.JSON["valid"])
	r = a.expect(201, "POST", "/api/auth/register", "", map[string]any{"email": "rep@sharif.edu", "password": testPassword})
	access, refresh := r.str("access_token"), r.str("refresh_token")

	// Rotated on A, replayed on B: refused, and the family is dead on both.
	r = a.expect(200, "POST", "/api/auth/refresh", "", map[string]any{"refresh_token": refresh})
	newRefresh, newAccess := r.str("refresh_token"), r.str("access_token")
	c.expect(401, "POST", "/api/auth/refresh", "", map[string]any{"refresh_token": refresh})
	a.expect(401, "POST", "/api/auth/refresh", "", map[string]any{"refresh_token": newRefresh})
	c.expect(401, "GET", "/api/auth/user", newAccess, nil)
	a.expect(401, "GET", "/api/auth/user", access, nil)

	// Logout on A stops the access token on B at once.
	access, _ = c.login("rep@sharif.edu", testPassword) // login 1 of 5 (shared budget)
	c.expect(200, "GET", "/api/auth/user", access, nil)
	a.expect(200, "POST", "/api/auth/logout", access, nil)
	c.expect(401, "GET", "/api/auth/user", access, nil)

	// The login limit is one budget for both replicas: 5 per minute in all.
	for i := 0; i < 4; i++ {
		s := []*server{a, c}[i%2]
		s.expect(401, "POST", "/api/auth/login", "", map[string]any{"email": fmt.Sprintf("n%d@sharif.edu", i), "password": "wrong wrong"})
	}
	c.expect(429, "POST", "/api/auth/login", "", map[string]any{"email": "rep@sharif.edu", "password": testPassword})
	a.expect(429, "POST", "/api/auth/login", "", map[string]any{"email": "rep@sharif.edu", "password": testPassword})
}
