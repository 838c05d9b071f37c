package app_test

import (
	"context"
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/senfi-sharif/senfi/example/internal/data"
	"github.com/senfi-sharif/senfi/jwtauth"
)

// Helpers of the generation B/C route tests (issue 10).

// Categories used by the tests (reference §2.3, §9.5).
const (
	general  = "مسائل دانشگاهی"
	computer = "کامپیوتر"
	physics  = "فیزیک"
	tarasht2 = "طرشت ۲"
	council  = "شورای عمومی"
)

// headEnv relaxes the limits of issue 10's routes, as start does for the
// contract's, plus env.
func headEnv(env map[string]string) map[string]string {
	out := map[string]string{
		"SENFI_RATE_POLL_CREATE":        "1000/m",
		"SENFI_RATE_VOTE":               "1000/m",
		"SENFI_RATE_BLOG_CREATE":        "1000/m",
		"SENFI_RATE_SEND_MOBILE_CODE":   "1000/m",
		"SENFI_RATE_VERIFY_MOBILE_CODE": "1000/m",
	}
	for k, v := range env {
		out[k] = v
	}
	return out
}

// member creates an account directly in the database (role, and profile
// through set) and returns an access token issued for it, without the
// Argon2 cost of a signup or login (those paths have tests of their own).
func (s *server) member(email, role string, set func(u *data.User)) (token string, id int64) {
	s.t.Helper()
	u := data.User{Email: email, Password: "!no-password-login", Role: role}
	if set != nil {
		set(&u)
	}
	u, err := s.app.DB.CreateUser(context.Background(), u)
	require.NoError(s.t, err)
	p, err := s.app.Auth.Issue(context.Background(), jwtauth.IssueOptions{Subject: strconv.FormatInt(u.ID, 10), Role: u.Role})
	require.NoError(s.t, err)
	return p.AccessToken, u.ID
}

// faculty and dorm set a profile for member.
func faculty(f string) func(*data.User)   { return func(u *data.User) { u.Faculty = f } }
func dorm(d string) func(*data.User)      { return func(u *data.User) { u.Dormitory = d } }
func councilAs(c string) func(*data.User) { return func(u *data.User) { u.CouncilStatus = c } }

// itemID reads a numeric member of a JSON object.
func itemID(t *testing.T, m any, key string) int64 {
	t.Helper()
	obj, ok := m.(map[string]any)
	require.True(t, ok, "not an object: %v", m)
	f, ok := obj[key].(float64)
	require.True(t, ok, "%s is not a number in %v", key, obj)
	return int64(f)
}

// list returns the objects of a top-level array member.
func (r resp) list(t *testing.T, key string) []map[string]any {
	t.Helper()
	raw, ok := r.JSON[key].([]any)
	require.True(t, ok, "%s is not an array in %s", key, r.Raw)
	out := make([]map[string]any, len(raw))
	for i, x := range raw {
		out[i] = x.(map[string]any)
	}
	return out
}

// ids returns the "id" of each object.
func ids(t *testing.T, objs []map[string]any) []int64 {
	t.Helper()
	out := make([]int64, len(objs))
	for i, o := range objs {
		out[i] = itemID(t, o, "id")
	}
	return out
}

func str(id int64) string { return strconv.FormatInt(id, 10) }
