package app_test

import (
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// pollBody is a poll as the generation B poll-create page sends it.
func pollBody(title string, extra map[string]any) map[string]any {
	b := map[string]any{
		"title": title, "description": "<p>کدام گزینه بهتر است؟</p>",
		"options":      []map[string]any{{"text": "گزینه الف"}, {"text": "گزینه ب"}, {"text": "گزینه ج"}},
		"is_anonymous": true, "is_multiple_choice": false, "category": general, "image_url": "",
	}
	for k, v := range extra {
		b[k] = v
	}
	return b
}

// optionIDs returns the option IDs of a poll object, in order.
func optionIDs(t *testing.T, poll any) []int64 {
	t.Helper()
	var out []int64
	for _, o := range poll.(map[string]any)["options"].([]any) {
		out = append(out, itemID(t, o, "id"))
	}
	return out
}

// TestPollFlow is the frontend generation B flow: create → approve → vote →
// results → voters, with the weaknesses of HEAD closed on the way (a
// self-approving author, unenforced max_choices, duplicate and foreign
// option IDs, votes deleted by an edit).
func TestPollFlow(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		s := start(t, b, options{env: headEnv(nil)})
		head, _ := s.member("head@sharif.edu", "head", nil)
		author, _ := s.member("author@sharif.edu", "simple_user", nil)
		voter, _ := s.member("voter@sharif.edu", "simple_user", nil)
		bystander, _ := s.member("bystander@sharif.edu", "simple_user", nil)

		// Create: pending whatever the body says; not yet listed or votable.
		r := s.expect(201, "POST", "/api/polls", author, pollBody("انتخاب غذای سلف", map[string]any{
			"is_anonymous": false, "is_multiple_choice": true, "max_choices": 2, "status": "approved",
			"deadline": s.clock.Now().Add(48 * time.Hour).Format(time.RFC3339),
		}))
		assert.Equal(t, true, r.JSON["success"])
		poll := r.JSON["poll"].(map[string]any)
		assert.Equal(t, "pending", poll["status"])
		id := str(itemID(t, poll, "id"))
		opts := optionIDs(t, poll)
		require.Len(t, opts, 3)
		assert.True(t, s.hasEvent("poll_created", "success"))
		r = s.expect(200, "GET", "/api/polls", voter, nil)
		assert.Empty(t, r.list(t, "polls"))
		s.expect(404, "GET", "/api/polls/"+id, voter, nil)
		s.expect(404, "POST", "/api/polls/"+id+"/vote", voter, map[string]any{"option_ids": []int64{opts[0]}})
		s.expect(200, "GET", "/api/polls/"+id, author, nil)

		// The author cannot approve it through an edit (HEAD's PUT /polls
		// took status), nor through the status routes.
		r = s.expect(200, "PUT", "/api/polls/"+id, author, map[string]any{"status": "approved", "title": "انتخاب غذای سلف مرکزی"})
		assert.Equal(t, "pending", r.JSON["poll"].(map[string]any)["status"])
		s.expect(403, "PUT", "/api/polls/"+id+"/status", author, map[string]any{"status": "approved"})
		s.expect(403, "POST", "/api/admin/polls/approve", author, map[string]any{"poll_id": mustID(id), "approved": true})

		// A moderator lists and approves it.
		r = s.expect(200, "GET", "/api/admin/polls", head, nil)
		assert.Equal(t, []int64{mustID(id)}, ids(t, r.list(t, "polls")))
		s.expect(400, "POST", "/api/admin/polls/approve", head, map[string]any{"poll_id": mustID(id), "approved": "yes"})
		r = s.expect(200, "POST", "/api/admin/polls/approve", head, map[string]any{"poll_id": mustID(id), "approved": true})
		assert.Equal(t, "approved", r.str("new_status"))
		assert.True(t, s.hasEvent("poll_status_change", "success"))
		r = s.expect(200, "GET", "/api/polls/", voter, nil)
		polls := r.list(t, "polls")
		require.Len(t, polls, 1)
		assert.Equal(t, false, polls[0]["has_voted"])
		assert.Nil(t, polls[0]["author_email"])

		// Votes that do not fit are refused.
		other := s.expect(201, "POST", "/api/polls", author, pollBody("نظرسنجی دیگر", nil)).JSON["poll"]
		foreign := optionIDs(t, other)[0]
		for name, body := range map[string]any{
			"over max_choices":  map[string]any{"option_ids": opts},
			"duplicate IDs":     map[string]any{"option_ids": []int64{opts[0], opts[0]}},
			"another poll's":    map[string]any{"option_ids": []int64{opts[0], foreign}},
			"no option":         map[string]any{"option_ids": []int64{}},
			"strings":           map[string]any{"option_ids": []string{"1"}},
			"a fraction":        map[string]any{"option_ids": 1.5},
			"missing":           map[string]any{},
			"null":              map[string]any{"option_ids": nil},
			"an unknown option": map[string]any{"option_ids": 987654},
		} {
			r := s.call("POST", "/api/polls/"+id+"/vote", voter, body)
			assert.Equal(t, 400, r.Status, "%s: %s", name, r.Raw)
		}
		r = s.expect(201, "POST", "/api/polls/"+id+"/vote/", voter, map[string]any{"option_ids": []int64{opts[0], opts[2]}})
		assert.EqualValues(t, 1, r.num("total_voters"))
		assert.True(t, s.hasEvent("vote_cast", "success"))
		r = s.expect(409, "POST", "/api/polls/"+id+"/vote", voter, map[string]any{"option_ids": []int64{opts[1]}})
		assert.Contains(t, r.str("detail"), "قبلاً")
		s.expect(201, "POST", "/api/polls/"+id+"/vote", head, map[string]any{"option_ids": opts[0]})
		s.expect(401, "POST", "/api/polls/"+id+"/vote", "", map[string]any{"option_ids": opts[0]})

		// Results: public for an approved poll.
		r = s.expect(200, "GET", "/api/polls/"+id+"/results", "", nil)
		res := r.JSON["results"].(map[string]any)
		assert.EqualValues(t, 3, res["total_votes"])
		assert.EqualValues(t, 2, res["total_voters"])
		counts := map[int64]float64{}
		for _, o := range res["options"].([]any) {
			counts[itemID(t, o, "id")] = o.(map[string]any)["votes_count"].(float64)
		}
		assert.Equal(t, map[int64]float64{opts[0]: 2, opts[1]: 0, opts[2]: 1}, counts)
		r = s.expect(200, "GET", "/api/polls/"+id, voter, nil)
		assert.Equal(t, true, r.JSON["poll"].(map[string]any)["has_voted"])

		// Voters of a public poll: to those who voted, the author and
		// moderators; not to bystanders.
		r = s.expect(200, "GET", "/api/polls/"+id+"/voters", voter, nil)
		voters := r.list(t, "voters")
		require.Len(t, voters, 3)
		assert.Equal(t, "voter@sharif.edu", voters[0]["user_email"])
		assert.Equal(t, "گزینه الف", voters[0]["option_text"])
		assert.NotEmpty(t, voters[0]["voted_at"])
		s.expect(200, "GET", "/api/polls/"+id+"/voters", author, nil)
		s.expect(403, "GET", "/api/polls/"+id+"/voters", bystander, nil)
		s.expect(401, "GET", "/api/polls/"+id+"/voters", "", nil)

		// My polls and the polls I voted in.
		r = s.expect(200, "GET", "/api/user/voted-polls", voter, nil)
		voted := r.list(t, "polls")
		require.Len(t, voted, 1)
		var mine []string
		for _, v := range voted[0]["user_vote"].([]any) {
			mine = append(mine, v.(map[string]any)["option_text"].(string))
		}
		assert.Equal(t, []string{"گزینه الف", "گزینه ج"}, mine)
		r = s.expect(200, "GET", "/api/user/created-polls", author, nil)
		assert.Len(t, r.list(t, "polls"), 2)

		// Edits never delete votes: the same options are fine, replacing
		// them or changing how votes count is 409.
		sameOptions := []map[string]any{{"text": "گزینه الف"}, {"text": "گزینه ب"}, {"text": "گزینه ج"}}
		s.expect(200, "PUT", "/api/polls/"+id, head, map[string]any{"options": sameOptions, "is_multiple_choice": true, "max_choices": 2, "title": "عنوان جدید"})
		r = s.expect(409, "PUT", "/api/polls/"+id, head, map[string]any{"options": []string{"بله", "خیر"}})
		assert.Contains(t, r.str("detail"), "رأی")
		s.expect(409, "PUT", "/api/polls/"+id, head, map[string]any{"is_multiple_choice": false})
		s.expect(409, "PUT", "/api/polls/"+id, head, map[string]any{"is_anonymous": true})
		s.expect(409, "PUT", "/api/polls/"+id, author, map[string]any{"title": "پس از تأیید"})
		r = s.expect(200, "GET", "/api/polls/"+id+"/results", "", nil)
		assert.EqualValues(t, 3, r.JSON["results"].(map[string]any)["total_votes"], "no vote was lost")

		// Closing stops voting; deleting takes the votes along.
		s.expect(200, "PUT", "/api/polls/"+id+"/status", head, map[string]any{"status": "closed"})
		r = s.expect(400, "POST", "/api/polls/"+id+"/vote", bystander, map[string]any{"option_ids": []int64{opts[1]}})
		assert.Equal(t, "option_ids", r.JSON["errors"].([]any)[0].(map[string]any)["field"])
		s.expect(403, "DELETE", "/api/polls/"+id+"/delete", bystander, nil)
		s.expect(200, "DELETE", "/api/polls/"+id+"/delete", author, nil)
		s.expect(404, "GET", "/api/polls/"+id, head, nil)
		r = s.expect(200, "GET", "/api/user/voted-polls", voter, nil)
		assert.Empty(t, r.list(t, "polls"))
	})
}

// TestPollAnonymity: an anonymous poll keeps tallies only, so nothing links
// a voter to a choice, and no route lists its voters.
func TestPollAnonymity(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		s := start(t, b, options{env: headEnv(nil)})
		admin, _ := s.member("admin@sharif.edu", "superadmin", nil)
		a, _ := s.member("a@sharif.edu", "simple_user", nil)
		c, _ := s.member("c@sharif.edu", "simple_user", nil)

		r := s.expect(201, "POST", "/api/polls", admin, pollBody("رأی مخفی", nil))
		id := str(itemID(t, r.JSON["poll"], "id"))
		opts := optionIDs(t, r.JSON["poll"])
		s.expect(200, "PUT", "/api/polls/"+id+"/status", admin, map[string]any{"approved": true})
		r = s.expect(400, "POST", "/api/polls/"+id+"/vote", a, map[string]any{"option_ids": []int64{opts[0], opts[1]}})
		assert.Contains(t, r.str("detail"), "تک‌گزینه‌ای", "a single-choice poll takes one option")
		s.expect(201, "POST", "/api/polls/"+id+"/vote", a, map[string]any{"option_ids": opts[1]})
		s.expect(201, "POST", "/api/polls/"+id+"/vote", c, map[string]any{"option_ids": []int64{opts[2]}})

		r = s.expect(403, "GET", "/api/polls/"+id+"/voters", admin, nil)
		assert.Contains(t, r.str("detail"), "ناشناس")
		r = s.expect(200, "GET", "/api/user/voted-polls", a, nil)
		voted := r.list(t, "polls")
		require.Len(t, voted, 1)
		assert.Nil(t, voted[0]["user_vote"], "not even the voter gets the choice back: it is not stored")
		assert.Equal(t, true, voted[0]["has_voted"])
		r = s.expect(200, "GET", "/api/polls/"+id+"/results", a, nil)
		assert.EqualValues(t, 2, r.JSON["results"].(map[string]any)["total_votes"])

		// The database: participations say who voted, tallies what was
		// chosen, and no row joins the two.
		x := s.app.DB.X()
		var votes, parts int
		require.NoError(t, x.Get(&votes, x.Rebind(`SELECT COUNT(*) FROM poll_votes WHERE poll_id = ?`), mustID(id)))
		require.NoError(t, x.Get(&parts, x.Rebind(`SELECT COUNT(*) FROM poll_participations WHERE poll_id = ?`), mustID(id)))
		assert.Zero(t, votes)
		assert.Equal(t, 2, parts)
		var cols []string
		require.NoError(t, x.Select(&cols, colsQuery(b.name)))
		for _, col := range cols {
			assert.NotContains(t, strings.ToLower(col), "option", "poll_participations has no column naming a choice")
		}

		if b.name != "sqlite" {
			// PostgreSQL's row versions: every option was last written by
			// the same (latest) vote, so none points to who chose it.
			var xmins int
			require.NoError(t, x.Get(&xmins, x.Rebind(`SELECT COUNT(DISTINCT xmin::text) FROM poll_options WHERE poll_id = ?`), mustID(id)))
			assert.Equal(t, 1, xmins)
		}

		// 10 parallel votes by one user: exactly one counts.
		d, _ := s.member("d@sharif.edu", "simple_user", nil)
		var wg sync.WaitGroup
		var mu sync.Mutex
		codes := map[int]int{}
		for i := 0; i < 10; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				r := s.call("POST", "/api/polls/"+id+"/vote", d, map[string]any{"option_ids": []int64{opts[0]}})
				mu.Lock()
				codes[r.Status]++
				mu.Unlock()
			}()
		}
		wg.Wait()
		assert.Equal(t, map[int]int{201: 1, 409: 9}, codes)
		r = s.expect(200, "GET", "/api/polls/"+id+"/results", a, nil)
		assert.EqualValues(t, 3, r.JSON["results"].(map[string]any)["total_votes"])
	})
}

// colsQuery lists the columns of poll_participations on the backend.
func colsQuery(backend string) string {
	if backend == "sqlite" {
		return `SELECT name FROM pragma_table_info('poll_participations')`
	}
	return `SELECT column_name FROM information_schema.columns WHERE table_name = 'poll_participations'`
}

// TestPollRules: input validation, categories and the council, deadlines,
// scoped moderators, and the rate limits (429, not HEAD's 403).
func TestPollRules(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		s := start(t, b, options{env: headEnv(map[string]string{"SENFI_RATE_VOTE": "3/m", "SENFI_RATE_POLL_CREATE": "14/h"})})
		user, _ := s.member("user@sharif.edu", "simple_user", faculty(computer))
		observer, _ := s.member("observer@sharif.edu", "simple_user", councilAs("observer"))
		compMod, _ := s.member("cmod@sharif.edu", "faculty_member", faculty(computer))
		physMod, _ := s.member("pmod@sharif.edu", "faculty_member", faculty(physics))
		future := s.clock.Now().Add(time.Hour).Format(time.RFC3339)

		for name, body := range map[string]map[string]any{
			"one option":         pollBody("نظرسنجی", map[string]any{"options": []string{"تنها"}}),
			"same option twice":  pollBody("نظرسنجی", map[string]any{"options": []string{"الف", " الف "}}),
			"empty option":       pollBody("نظرسنجی", map[string]any{"options": []map[string]any{{"text": "الف"}, {"text": " "}}}),
			"options of numbers": pollBody("نظرسنجی", map[string]any{"options": []int{1, 2}}),
			"max over options":   pollBody("نظرسنجی", map[string]any{"is_multiple_choice": true, "max_choices": 4}),
			"max zero":           pollBody("نظرسنجی", map[string]any{"is_multiple_choice": true, "max_choices": 0}),
			"past deadline":      pollBody("نظرسنجی", map[string]any{"deadline": "2020-01-01T00:00:00Z"}),
			"short title":        pollBody("ab", nil),
			"long description":   pollBody("نظرسنجی", map[string]any{"description": strings.Repeat("x", 10001)}),
			"other faculty":      pollBody("نظرسنجی", map[string]any{"category": physics}),
			"bad image":          pollBody("نظرسنجی", map[string]any{"image_url": "data:text/html,x"}),
			"anonymity as text":  pollBody("نظرسنجی", map[string]any{"is_anonymous": "yes"}),
		} {
			r := s.call("POST", "/api/polls", user, body)
			assert.Equal(t, 400, r.Status, "%s: %s", name, r.Raw)
		}
		s.expect(400, "POST", "/api/polls", observer, pollBody("جلسه شورا", map[string]any{"category": council}))
		s.expect(401, "POST", "/api/polls", "", pollBody("نظرسنجی", nil))

		// "content" is rich text, sanitised; -1 and null mean no limit.
		r := s.expect(201, "POST", "/api/polls", user, pollBody("نظرسنجی دانشکده", map[string]any{
			"category": computer, "description": nil, "content": `<p>متن</p><script>alert(1)</script>`,
			"is_multiple_choice": true, "max_choices": -1, "deadline": future,
		}))
		poll := r.JSON["poll"].(map[string]any)
		id := str(itemID(t, poll, "id"))
		opts := optionIDs(t, poll)
		assert.Equal(t, "<p>متن</p>", poll["description"])
		assert.Nil(t, poll["max_choices"])

		// Scoped moderators: the computer faculty's only.
		s.expect(404, "PUT", "/api/polls/"+id+"/status", physMod, map[string]any{"status": "approved"})
		r = s.expect(200, "GET", "/api/admin/polls", physMod, nil)
		assert.Empty(t, r.list(t, "polls"))
		r = s.expect(200, "GET", "/api/admin/polls?status=pending", compMod, nil)
		assert.Equal(t, []int64{mustID(id)}, ids(t, r.list(t, "polls")))
		s.expect(400, "GET", "/api/admin/polls?status=open", compMod, nil)
		s.expect(403, "GET", "/api/admin/polls", user, nil)
		// Before approval, options may still be replaced (no votes).
		r = s.expect(200, "PUT", "/api/polls/"+id, compMod, map[string]any{"options": []string{"یک", "دو", "سه", "چهار"}})
		opts = optionIDs(t, r.JSON["poll"])
		require.Len(t, opts, 4)
		s.expect(200, "PUT", "/api/polls/"+id+"/status", compMod, map[string]any{"status": "approved"})
		s.expect(404, "GET", "/api/polls/"+id, physMod, nil)
		s.expect(404, "POST", "/api/polls/"+id+"/vote", physMod, map[string]any{"option_ids": opts[0]})
		r = s.expect(201, "POST", "/api/polls/"+id+"/vote", user, map[string]any{"option_ids": opts})
		assert.EqualValues(t, 1, r.num("total_voters"), "no limit: every option")

		// The vote limit is 429 with Retry-After (HEAD's was a 403).
		for i := 0; i < 3; i++ {
			s.call("POST", "/api/polls/"+id+"/vote", compMod, map[string]any{"option_ids": opts[0]})
		}
		r = s.expect(429, "POST", "/api/polls/"+id+"/vote", compMod, map[string]any{"option_ids": opts[0]})
		assert.NotEmpty(t, r.Header.Get("Retry-After"))

		// Creation is limited per user (the invalid attempts above counted
		// against user's budget too).
		for i := 0; i < 14; i++ {
			s.expect(201, "POST", "/api/polls", compMod, pollBody("نظرسنجی شماره", nil))
		}
		s.expect(429, "POST", "/api/polls", compMod, pollBody("نظرسنجی شماره", nil))
		s.expect(201, "POST", "/api/polls", user, pollBody("نظرسنجی شماره", nil))
		r = s.expect(200, "GET", "/api/user/created-polls", compMod, nil)
		slugs := map[string]bool{}
		for _, p := range r.list(t, "polls") {
			slugs[p["slug"].(string)] = true
		}
		assert.Len(t, slugs, 14, "each poll has its own slug")

		// The deadline ends voting.
		s.clock.Advance(2 * time.Hour)
		late, _ := s.member("late@sharif.edu", "simple_user", faculty(computer))
		r = s.expect(400, "POST", "/api/polls/"+id+"/vote", late, map[string]any{"option_ids": opts[0]})
		assert.Contains(t, r.str("detail"), "مهلت")
	})
}
