package app_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// loginAs logs in with a User-Agent and returns the tokens.
func (s *server) loginAs(email, agent string) (access, refresh string) {
	s.t.Helper()
	r := s.callWith("POST", "/api/auth/login", "", map[string]any{"email": email, "password": testPassword}, map[string]string{"User-Agent": agent})
	require.Equal(s.t, 200, r.Status, "%s", r.Raw)
	return r.str("access_token"), r.str("refresh_token")
}

// sessionsOf lists the sessions the token sees, by user agent.
func (s *server) sessionsOf(tok string) map[string]map[string]any {
	s.t.Helper()
	r := s.expect(200, "GET", "/api/auth/sessions", tok, nil)
	out := map[string]map[string]any{}
	for _, x := range r.list(s.t, "sessions") {
		out[x["user_agent"].(string)] = x
	}
	require.EqualValues(s.t, len(out), r.num("total"))
	return out
}

// TestSessions: list and end the caller's sessions; revocation by any
// route removes them from the list.
func TestSessions(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		s := start(t, b, options{})
		s.signup("erin@sharif.edu")
		other, _ := s.signup("frank@sharif.edu")
		phone, phoneRefresh := s.loginAs("erin@sharif.edu", "Phone/1.0")
		laptop, _ := s.loginAs("erin@sharif.edu", "Laptop/2.0")

		list := s.sessionsOf(laptop)
		require.Contains(t, list, "Phone/1.0")
		require.Contains(t, list, "Laptop/2.0")
		assert.Len(t, list, 3, "the signup's session too")
		assert.Equal(t, true, list["Laptop/2.0"]["current"])
		assert.Equal(t, false, list["Phone/1.0"]["current"])
		assert.Equal(t, "127.0.0.0/24", list["Phone/1.0"]["ip"])
		phoneID := str(itemID(t, list["Phone/1.0"], "id"))

		// A refresh moves last_used_at and keeps the session.
		s.clock.Advance(1000)
		r := s.callWith("POST", "/api/auth/refresh", "", map[string]any{"refresh_token": phoneRefresh}, map[string]string{"User-Agent": "Phone/1.1"})
		require.Equal(t, 200, r.Status)
		phone = r.str("access_token")
		list = s.sessionsOf(laptop)
		require.Contains(t, list, "Phone/1.1")
		assert.Equal(t, phoneID, str(itemID(t, list["Phone/1.1"], "id")))
		assert.NotEqual(t, list["Phone/1.1"]["created_at"], list["Phone/1.1"]["last_used_at"])

		// Bad IDs and other users' sessions are 404.
		for _, id := range []string{"abc", "0", "-1", "+1", "99999999"} {
			r := s.expect(404, "DELETE", "/api/auth/sessions/"+id, laptop, nil)
			assert.Equal(t, "نشست یافت نشد", r.str("detail"))
		}
		s.expect(404, "DELETE", "/api/auth/sessions/"+phoneID, other, nil)
		s.expect(401, "DELETE", "/api/auth/sessions/"+phoneID, "", nil)
		s.expect(401, "GET", "/api/auth/sessions", "", nil)
		s.expect(200, "GET", "/api/auth/user", phone, nil)

		// Ending the phone's session stops its tokens at once.
		r = s.expect(200, "DELETE", "/api/auth/sessions/"+phoneID+"/", laptop, nil)
		assert.Equal(t, true, r.JSON["success"])
		assert.True(t, s.hasEvent("session_ended", "success"))
		s.expect(401, "GET", "/api/auth/user", phone, nil)
		s.expect(404, "DELETE", "/api/auth/sessions/"+phoneID, laptop, nil)
		list = s.sessionsOf(laptop)
		assert.NotContains(t, list, "Phone/1.1")
		assert.Len(t, list, 2)

		// Logout ends the current session; logout-all every one; a password
		// change too.
		tablet, _ := s.loginAs("erin@sharif.edu", "Tablet/3.0")
		s.expect(200, "POST", "/api/auth/logout", tablet, nil)
		assert.NotContains(t, s.sessionsOf(laptop), "Tablet/3.0")
		s.expect(200, "POST", "/api/auth/logout-all", laptop, nil)
		fresh, _ := s.loginAs("erin@sharif.edu", "Fresh/4.0")
		list = s.sessionsOf(fresh)
		assert.Len(t, list, 1)
		assert.Contains(t, list, "Fresh/4.0")
		s.expect(200, "POST", "/api/auth/change-password", fresh, map[string]any{
			"current_password": testPassword, "new_password": testPassword + " new", "confirm_password": testPassword + " new",
		})
		r = s.expect(200, "POST", "/api/auth/login", "", map[string]any{"email": "erin@sharif.edu", "password": testPassword + " new"})
		assert.Len(t, s.sessionsOf(r.str("access_token")), 1, "only the login after the change")

		// The other user's list was never touched.
		assert.Len(t, s.sessionsOf(other), 1)
	})
}

// TestSessionsAcrossReplicas: a session started on one replica is listed
// and ended on the other, and its token stops working on both.
func TestSessionsAcrossReplicas(t *testing.T) {
	b := postgresRedis(t)
	clk := newClock()
	a := start(t, b, options{clock: clk})
	c := start(t, b, options{clock: clk, smtp: a.smtp})
	a.signup("grace@sharif.edu")
	onA, refreshA := a.loginAs("grace@sharif.edu", "ReplicaA")
	onC, _ := c.loginAs("grace@sharif.edu", "ReplicaC")

	list := c.sessionsOf(onC)
	require.Contains(t, list, "ReplicaA")
	require.Contains(t, list, "ReplicaC")
	assert.Equal(t, true, list["ReplicaC"]["current"])
	c.expect(200, "DELETE", "/api/auth/sessions/"+str(itemID(t, list["ReplicaA"], "id")), onC, nil)
	a.expect(401, "GET", "/api/auth/user", onA, nil)
	c.expect(401, "GET", "/api/auth/user", onA, nil)
	a.expect(401, "POST", "/api/auth/refresh", "", map[string]any{"refresh_token": refreshA})
	list = a.sessionsOf(onC)
	assert.NotContains(t, list, "ReplicaA")
	assert.Contains(t, list, "ReplicaC")

	// Logout-all on one replica empties the list on the other.
	a.expect(200, "POST", "/api/auth/logout-all", onC, nil)
	c.expect(401, "GET", "/api/auth/sessions", onC, nil)
	fresh, _ := a.loginAs("grace@sharif.edu", "After")
	assert.Len(t, c.sessionsOf(fresh), 1)
}

// TestInvalidUserAgent: a User-Agent that is not UTF-8 is stored without
// its invalid bytes (PostgreSQL refuses them in text; this was a 500).
func TestInvalidUserAgent(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		s := start(t, b, options{})
		s.signup("ua@sharif.edu")
		tok, _ := s.loginAs("ua@sharif.edu", "Mozilla/5.0 \xff\xfe(bad)")
		assert.Contains(t, s.sessionsOf(tok), "Mozilla/5.0 (bad)")
	})
}
