package app_test

import (
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestCampaignRules(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		clk := newClock()
		s := start(t, b, options{clock: clk})
		user, _ := s.signup("author@sharif.edu")
		admin := s.admin("center@sharif.edu", "center_member")
		future := clk.Now().Add(48 * time.Hour).Format(time.RFC3339)

		bad := []struct {
			name  string
			body  map[string]any
			field string
		}{
			{"no title", map[string]any{"description": "long enough text here", "end_datetime": future}, "title"},
			{"short title", map[string]any{"title": "ab", "description": "long enough text here", "end_datetime": future}, "title"},
			{"long title", map[string]any{"title": strings.Repeat("ع", 256), "description": "long enough text here", "end_datetime": future}, "title"},
			{"short description", map[string]any{"title": "title", "description": "کوتاه", "end_datetime": future}, "description"},
			{"huge description", map[string]any{"title": "title", "description": strings.Repeat("x", 50001), "end_datetime": future}, "description"},
			{"no deadline", map[string]any{"title": "title", "description": "long enough text here"}, "end_datetime"},
			{"past deadline", map[string]any{"title": "title", "description": "long enough text here", "deadline": "2020-01-01T00:00:00Z"}, "end_datetime"},
			{"bad deadline", map[string]any{"title": "title", "description": "long enough text here", "end_datetime": "tomorrow"}, "end_datetime"},
			{"bad label", map[string]any{"title": "title", "description": "long enough text here", "end_datetime": future, "label": "nope"}, "label"},
			{"other faculty", map[string]any{"title": "title", "description": "long enough text here", "end_datetime": future, "category": "برق"}, "label"},
			{"sentinel dorm", map[string]any{"title": "title", "description": "long enough text here", "end_datetime": future, "label": "خوابگاهی نیستم"}, "label"},
			{"bad anonymity", map[string]any{"title": "title", "description": "long enough text here", "end_datetime": future, "is_anonymous": "maybe"}, "is_anonymous"},
			{"javascript image", map[string]any{"title": "title", "description": "long enough text here", "end_datetime": future, "image_url": "javascript:alert(1)"}, "image_url"},
			{"tags of numbers", map[string]any{"title": "title", "description": "long enough text here", "end_datetime": future, "tags": []int{1, 2}}, "tags"},
		}
		for _, tt := range bad {
			r := s.expect(400, "POST", "/api/campaigns/submit", user, tt.body)
			require.NotEmpty(t, r.JSON["errors"], tt.name)
			assert.Equal(t, tt.field, r.JSON["errors"].([]any)[0].(map[string]any)["field"], tt.name)
		}
		s.expect(401, "POST", "/api/campaigns/submit", "", map[string]any{"title": "x"})

		// HEAD field names, status forced to pending, HTML content
		// sanitised, plain description verbatim.
		r := s.expect(201, "POST", "/api/campaigns/submit", user, map[string]any{
			"title": "  <b>عنوان</b> ' OR 1=1 --  ", "content": `<p>متن <script>alert(1)</script><a href="javascript:x()">x</a> کافی</p>`,
			"deadline": future, "category": "مسائل دانشگاهی", "anonymous_allowed": true, "status": "approved",
			"tags": []string{"a", "b", "a"}, "image_url": "https://example.com/x.png",
		})
		assert.Equal(t, "pending", r.str("status"))
		assert.Equal(t, r.str("deadline"), r.str("end_datetime"))
		id := strconv.FormatInt(r.num("campaignId"), 10)
		r = s.expect(200, "GET", "/api/admin/campaigns", admin, nil)
		c := r.JSON["campaigns"].([]any)[0].(map[string]any)
		assert.Equal(t, "<b>عنوان</b> ' OR 1=1 --", c["title"], "stored verbatim, trimmed")
		assert.NotContains(t, c["content"], "<script")
		assert.NotContains(t, c["content"], "javascript:")
		assert.Contains(t, c["content"], "متن")
		assert.Equal(t, "anonymous", c["is_anonymous"])
		assert.Equal(t, true, c["anonymous_allowed"])
		assert.Equal(t, []any{"a", "b"}, c["tags"])
		assert.NotEmpty(t, c["slug"])

		// approve: a boolean only.
		s.expect(400, "POST", "/api/admin/campaigns/approve", admin, map[string]any{"campaign_id": r.JSON["campaigns"].([]any)[0].(map[string]any)["id"], "approved": "false"})
		s.expect(400, "POST", "/api/admin/campaigns/approve", admin, map[string]any{"campaign_id": "abc", "approved": true})
		s.expect(400, "POST", "/api/admin/campaigns/approve", admin, map[string]any{"approved": true})
		s.expect(404, "POST", "/api/admin/campaigns/approve", admin, map[string]any{"campaign_id": 999999, "approved": true})
		s.expect(403, "POST", "/api/admin/campaigns/approve", user, map[string]any{"campaign_id": 1, "approved": true})
		r = s.expect(200, "POST", "/api/admin/campaigns/approve", admin, map[string]any{"campaign_id": c["id"], "approved": false})
		assert.Equal(t, "rejected", r.str("new_status"))
		r = s.expect(200, "GET", "/api/campaigns/rejected", admin, nil)
		assert.EqualValues(t, 1, r.num("total"))
		s.expect(400, "PUT", "/api/campaigns/"+id+"/status", admin, map[string]any{"status": "deleted"})
		s.expect(400, "PUT", "/api/campaigns/"+id+"/status", admin, map[string]any{})
		s.expect(404, "PUT", "/api/campaigns/999999/status", admin, map[string]any{"status": "approved"})
		s.expect(404, "PUT", "/api/campaigns/x1/status", admin, map[string]any{"status": "approved"})
		r = s.expect(200, "PUT", "/api/campaigns/"+id+"/status", admin, map[string]any{"approved": true})
		assert.Equal(t, "کارزار با موفقیت تایید شد", r.str("message"))

		// A campaign with hidden signers: the list is empty, the count is not.
		s.expect(201, "POST", "/api/campaigns/"+id+"/sign", user, nil)
		r = s.expect(200, "GET", "/api/campaigns/"+id+"/signatures", "", nil)
		assert.Equal(t, []any{}, r.JSON["signatures"])
		assert.EqualValues(t, 1, r.num("total"))
		assert.Equal(t, "anonymous", r.str("campaign_is_anonymous"))
		assert.Equal(t, true, r.JSON["campaign_anonymous_allowed"])
		// Anonymous visitors see general campaigns, without author e-mails.
		r = s.expect(200, "GET", "/api/campaigns/approved", "", nil)
		require.EqualValues(t, 1, r.num("total"))
		c = r.JSON["campaigns"].([]any)[0].(map[string]any)
		assert.Nil(t, c["author_email"])
		assert.Nil(t, c["email"])
		assert.Equal(t, false, c["has_signed"])
		assert.NotContains(t, string(r.Raw), "author@sharif.edu")

		// Signing after the deadline is refused; is_anonymous must be one
		// of the two values.
		s.expect(400, "POST", "/api/campaigns/"+id+"/sign", admin, map[string]any{"is_anonymous": "yes"})
		s.expect(404, "POST", "/api/campaigns/999999/sign", admin, nil)
		clk.Advance(49 * time.Hour)
		admin, _ = s.login("center@sharif.edu", testPassword) // the old token expired
		r = s.expect(400, "POST", "/api/campaigns/"+id+"/sign", admin, map[string]any{"is_anonymous": "public"})
		assert.Contains(t, r.str("detail"), "مهلت")
	})
}

// TestConcurrentSigning: 20 parallel sign requests by one user make exactly
// one signature.
func TestConcurrentSigning(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		s := start(t, b, options{})
		user, _ := s.signup("signer@sharif.edu")
		admin := s.admin("boss@sharif.edu", "superadmin")
		id := strconv.FormatInt(s.campaign(admin, admin, nil), 10)

		var wg sync.WaitGroup
		var mu sync.Mutex
		codes := map[int]int{}
		for i := 0; i < 20; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				r := s.call("POST", "/api/campaigns/"+id+"/sign", user, map[string]any{"is_anonymous": "public"})
				mu.Lock()
				codes[r.Status]++
				mu.Unlock()
			}()
		}
		wg.Wait()
		assert.Equal(t, map[int]int{201: 1, 409: 19}, codes)
		r := s.expect(200, "GET", "/api/campaigns/"+id+"/signatures", user, nil)
		assert.EqualValues(t, 1, r.num("total"))
		assert.Equal(t, "signer@sharif.edu", r.JSON["signatures"].([]any)[0].(map[string]any)["user_email"])
	})
}

// TestBadInput: wrong types, huge bodies, unknown fields, non-numeric IDs,
// Unicode and SQL-looking strings give 4xx problem+json or are stored
// verbatim; never a 500 (the harness asserts that on every response).
func TestBadInput(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		s := start(t, b, options{})
		user, _ := s.signup("input@sharif.edu")
		admin := s.admin("root@sharif.edu", "superadmin")

		r := s.expect(400, "POST", "/api/auth/login", "", `{"email": ["a"], "password": "x"}`)
		assert.Equal(t, "email", r.JSON["errors"].([]any)[0].(map[string]any)["field"])
		assert.Contains(t, r.JSON["type"], "secure#ErrWrongType", "the problem type names the decoding error, as the Guard's own problems do")
		s.expect(400, "POST", "/api/auth/login", "", `{"email": "a@sharif.edu",`)
		s.expect(400, "POST", "/api/auth/login", "", `{"email": "a@sharif.edu"} {}`)
		s.expect(400, "POST", "/api/auth/login", "", `{"email": "a", "Email": "b", "password": "x"}`)
		s.expect(400, "POST", "/api/auth/login", "", `[]`)
		s.expect(400, "POST", "/api/auth/send-code", "", `{"email": null}`)
		// Contract §1: validation errors name their field.
		r = s.expect(400, "POST", "/api/auth/send-code", "", map[string]any{"email": "not an address"})
		assert.Equal(t, "email", r.JSON["errors"].([]any)[0].(map[string]any)["field"])
		r = s.expect(400, "POST", "/api/auth/verify-code", "", map[string]any{"email": "a@sharif.edu", "code": ""})
		assert.Equal(t, "code", r.JSON["errors"].([]any)[0].(map[string]any)["field"])
		assert.Equal(t, false, r.JSON["valid"])
		s.expect(400, "POST", "/api/auth/send-code", "", "")
		s.expect(413, "POST", "/api/auth/login", "", `{"email":"`+strings.Repeat("a", 2<<20)+`"}`)
		r = s.callWith("POST", "/api/auth/login", "", nil, map[string]string{"Content-Type": "text/plain"})
		assert.Equal(t, 400, r.Status, "no body at all")
		req := s.callWith("POST", "/api/auth/check-email", "", "email=a", map[string]string{"Content-Type": "application/x-www-form-urlencoded"})
		assert.Equal(t, 415, req.Status)
		s.expect(200, "POST", "/api/auth/check-email", "", map[string]any{"email": "x@sharif.edu", "unknown": map[string]any{"deep": 1}})
		s.expect(400, "POST", "/api/auth/check-email", "", map[string]any{"email": 5})
		s.expect(400, "POST", "/api/auth/check-email", "", strings.Repeat("[", 100)+strings.Repeat("]", 100))

		for _, id := range []string{"abc", "0", "-5", "1.5", "1e3", "%20", "9223372036854775808", "١"} {
			s.expect(404, "GET", "/api/campaigns/"+id+"/signatures", "", nil)
			s.expect(404, "POST", "/api/campaigns/"+id+"/sign", user, nil)
		}

		// Unicode and SQL-looking text round-trips verbatim.
		weird := []string{
			`Robert'); DROP TABLE campaigns;--`,
			`" OR ""="`,
			"emoji 🚀 and zero\u200cwidth and RTL \u202e mark",
			"مسائل «صنفی» — ۱۴۰۳",
			`<img src=x onerror=alert(1)>`,
		}
		for _, title := range weird {
			r := s.expect(201, "POST", "/api/campaigns/submit", admin, map[string]any{
				"title": title, "description": title + " — description long enough",
				"end_datetime": time.Now().Add(time.Hour).Format(time.RFC3339),
			})
			id := strconv.FormatInt(r.num("campaignId"), 10)
			s.expect(200, "PUT", "/api/campaigns/"+id+"/status", admin, map[string]any{"status": "approved"})
		}
		r = s.expect(200, "GET", "/api/campaigns/approved", admin, nil)
		var titles []string
		for _, c := range r.JSON["campaigns"].([]any) {
			titles = append(titles, c.(map[string]any)["title"].(string))
		}
		for _, w := range weird {
			assert.Contains(t, titles, strings.TrimSpace(w))
		}
		// The tables are all still there.
		s.expect(200, "GET", "/api/auth/users", admin, nil)
		s.expect(400, "POST", "/api/auth/register", "", map[string]any{"email": "x@sharif.edu'--", "password": testPassword})
		s.expect(400, "POST", "/api/auth/check-email", "", map[string]any{"email": 1.5})
	})
}

// TestRoutesAndHeaders: trailing slashes, 404/405 problems, security headers.
func TestRoutesAndHeaders(t *testing.T) {
	s := start(t, backend{env: map[string]string{"SENFI_DATABASE_URL": "sqlite://senfi.db"}}, options{})
	r := s.expect(200, "GET", "/api/campaigns/approved/", "", nil)
	assert.Equal(t, true, r.JSON["success"])
	r = s.expect(405, "GET", "/api/auth/login", "", nil)
	assert.Equal(t, "POST", r.Header.Get("Allow"))
	r = s.expect(405, "DELETE", "/api/campaigns/1/status", "", nil)
	assert.Equal(t, "PUT", r.Header.Get("Allow"))
	s.expect(404, "GET", "/api/nothing/here", "", nil)
	s.expect(404, "GET", "/admin/", "", nil)
	r = s.expect(200, "GET", "/", "", nil)
	assert.Equal(t, "nosniff", r.Header.Get("X-Content-Type-Options"))
	assert.Equal(t, "DENY", r.Header.Get("X-Frame-Options"))
	r = s.expect(200, "GET", "/health/", "", nil)
	assert.Equal(t, "OK", string(r.Raw))
	s.expect(200, "GET", "/healthz", "", nil)
	r = s.expect(200, "GET", "/readyz", "", nil)
	assert.Equal(t, "ready", r.str("status"))

	// CORS preflight from the frontend's development origin.
	r = s.callWith("OPTIONS", "/api/auth/login", "", nil, map[string]string{
		"Origin": "http://localhost:3000", "Access-Control-Request-Method": "POST",
		"Access-Control-Request-Headers": "authorization,content-type",
	})
	assert.Equal(t, 204, r.Status)
	assert.Equal(t, "http://localhost:3000", r.Header.Get("Access-Control-Allow-Origin"))
	assert.Equal(t, "true", r.Header.Get("Access-Control-Allow-Credentials"))
	r = s.callWith("OPTIONS", "/api/auth/login", "", nil, map[string]string{
		"Origin": "https://evil.example", "Access-Control-Request-Method": "POST",
	})
	assert.Empty(t, r.Header.Get("Access-Control-Allow-Origin"))

	// The empty-body rule: logout needs no Content-Type.
	tok := s.admin("a@sharif.edu", "head")
	s.expect(200, "POST", "/api/auth/logout/", tok, nil)
	// A Host outside the allowed list.
	r = s.callWith("GET", "/", "", nil, map[string]string{"Host": "evil.example"})
	assert.Equal(t, 400, r.Status)
}
