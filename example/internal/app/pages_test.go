package app_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/senfi-sharif/senfi/example/internal/data"
)

// TestCampaignPages: the campaign page, its edit and deletion, categories,
// my campaigns, and the category-scoped moderators faculty_member and
// dorm_member (reference §9.5, §9.7).
func TestCampaignPages(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		s := start(t, b, options{env: headEnv(nil)})
		admin, _ := s.member("center@sharif.edu", "center_member", nil)
		author, _ := s.member("author@sharif.edu", "simple_user", faculty(computer))
		other, _ := s.member("other@sharif.edu", "simple_user", nil)
		compMod, _ := s.member("cmod@sharif.edu", "faculty_member", faculty(computer))
		physMod, _ := s.member("pmod@sharif.edu", "faculty_member", faculty(physics))
		dormMod, _ := s.member("dmod@sharif.edu", "dorm_member", dorm(tarasht2))
		future := s.clock.Now().Add(72 * time.Hour).Format(time.RFC3339)

		// Categories: what each caller sees and the forms offer.
		r := s.expect(200, "GET", "/api/campaigns/categories", "", nil)
		assert.Equal(t, []any{general}, r.JSON["categories"])
		r = s.expect(200, "GET", "/api/campaigns/categories/", author, nil)
		assert.Equal(t, []any{general, computer}, r.JSON["categories"])
		r = s.expect(200, "GET", "/api/campaigns/categories", admin, nil)
		assert.Len(t, r.JSON["categories"], 18, "the 19 of HEAD but the no-dormitory sentinel")
		assert.Contains(t, r.JSON["categories"], council)
		assert.NotContains(t, r.JSON["categories"], data.NoDormitory)

		// A pending campaign of the computer faculty; HTML content is
		// sanitised, the client's status ignored.
		r = s.expect(201, "POST", "/api/campaigns/submit", author, map[string]any{
			"title": "آزمایشگاه شبکه", "content": `<p onclick="steal()">متن کامل کارزار<script>alert(1)</script><img src=x onerror=alert(2)></p>`,
			"deadline": future, "category": computer, "status": "approved",
		})
		comp := str(r.num("campaignId"))
		for tok, want := range map[string]int{author: 200, admin: 200, compMod: 200, physMod: 404, dormMod: 404, other: 404, "": 404} {
			s.expect(want, "GET", "/api/campaigns/"+comp, tok, nil)
		}
		r = s.expect(200, "GET", "/api/campaigns/"+comp+"/", compMod, nil)
		assert.Equal(t, "pending", r.str("status"))
		assert.Equal(t, "author@sharif.edu", r.str("author_email"), "the category's moderator sees the author")
		assert.NotContains(t, r.str("content"), "<script")
		assert.NotContains(t, r.str("content"), "onclick")
		assert.NotContains(t, r.str("content"), "onerror")
		assert.Contains(t, r.str("content"), "متن کامل کارزار")
		for _, id := range []string{"abc", "0", "-1", "1.5", "99999999999999999999"} {
			s.expect(404, "GET", "/api/campaigns/"+id, admin, nil)
			s.expect(404, "PUT", "/api/campaigns/"+id, admin, map[string]any{"title": "x"})
			s.expect(404, "DELETE", "/api/campaigns/"+id+"/delete", admin, nil)
		}

		// Moderation is scoped by category: lists, status, approval.
		gen := str(s.campaign(other, "", nil)) // pending, general
		dormID := str(s.campaign(admin, "", map[string]any{"label": tarasht2}))
		s.expect(403, "GET", "/api/admin/campaigns", other, nil)
		r = s.expect(200, "GET", "/api/admin/campaigns", compMod, nil)
		assert.Equal(t, []int64{mustID(comp)}, ids(t, r.list(t, "campaigns")))
		r = s.expect(200, "GET", "/api/admin/campaigns", dormMod, nil)
		assert.Equal(t, []int64{mustID(dormID)}, ids(t, r.list(t, "campaigns")))
		r = s.expect(200, "GET", "/api/admin/campaigns", admin, nil)
		assert.Len(t, r.list(t, "campaigns"), 3)
		s.expect(404, "PUT", "/api/campaigns/"+comp+"/status", physMod, map[string]any{"status": "approved"})
		s.expect(404, "POST", "/api/admin/campaigns/approve", dormMod, map[string]any{"campaign_id": mustID(comp), "approved": true})
		s.expect(403, "PUT", "/api/campaigns/"+comp+"/status", other, map[string]any{"status": "approved"})
		s.expect(200, "PUT", "/api/campaigns/"+comp+"/status", compMod, map[string]any{"status": "approved"})
		s.expect(200, "POST", "/api/admin/campaigns/approve", admin, map[string]any{"campaign_id": mustID(gen), "approved": true})
		r = s.expect(403, "PUT", "/api/campaigns/"+gen+"/status", physMod, map[string]any{"status": "rejected"})
		assert.Equal(t, "دسترسی ندارید.", r.str("detail"), "seen (general) but not moderated")
		assert.True(t, s.hasEvent("authz_fail", "failure"))
		r = s.expect(200, "GET", "/api/admin/campaigns?status=all", compMod, nil)
		assert.Len(t, r.list(t, "campaigns"), 1)
		s.expect(400, "GET", "/api/admin/campaigns?status=deleted", admin, nil)
		r = s.expect(200, "GET", "/api/admin/campaigns?status=approved", admin, nil)
		assert.Len(t, r.list(t, "campaigns"), 2)

		// Approved: the computer campaign is for its faculty; the author's
		// address only for the author and moderators.
		for tok, want := range map[string]int{author: 200, compMod: 200, admin: 200, physMod: 404, other: 404, "": 404} {
			s.expect(want, "GET", "/api/campaigns/"+comp, tok, nil)
		}
		r = s.expect(200, "GET", "/api/campaigns/"+gen, physMod, nil)
		assert.Nil(t, r.JSON["author_email"])
		r = s.expect(200, "GET", "/api/campaigns/"+gen, "", nil)
		assert.Nil(t, r.JSON["author_email"])
		assert.Equal(t, "approved", r.str("status"))

		// Edit: the author while pending or rejected (never the status),
		// moderators always, within their scope.
		r = s.expect(409, "PUT", "/api/campaigns/"+comp, author, map[string]any{"title": "عنوان تازه"})
		s.expect(403, "PUT", "/api/campaigns/"+gen, physMod, map[string]any{"title": "عنوان تازه"})
		s.expect(403, "PUT", "/api/campaigns/"+gen, author, map[string]any{"title": "عنوان تازه"})
		s.expect(401, "PUT", "/api/campaigns/"+gen, "", map[string]any{"title": "عنوان تازه"})
		r = s.expect(200, "PUT", "/api/campaigns/"+comp, compMod, map[string]any{
			"title": "آزمایشگاه شبکه (ویرایش)", "content": `<b>متن ویرایش‌شده</b><script>x()</script> کافی است`, "tags": "شبکه, آزمایشگاه",
		})
		c := r.JSON["campaign"].(map[string]any)
		assert.Equal(t, "approved", c["status"], "a moderator's edit keeps the status")
		assert.Equal(t, "<b>متن ویرایش‌شده</b> کافی است", c["content"])
		assert.Equal(t, []any{"شبکه", "آزمایشگاه"}, c["tags"])
		assert.True(t, s.hasEvent("campaign_updated", "success"))
		r = s.expect(400, "PUT", "/api/campaigns/"+comp, compMod, map[string]any{"category": general})
		assert.Equal(t, "label", r.JSON["errors"].([]any)[0].(map[string]any)["field"], "a scoped moderator cannot move content out of scope")
		s.expect(400, "PUT", "/api/campaigns/"+comp, compMod, map[string]any{"image_url": "javascript:alert(1)"})
		s.expect(400, "PUT", "/api/campaigns/"+comp, compMod, map[string]any{"deadline": "2020-01-01T00:00:00Z"})
		s.expect(400, "PUT", "/api/campaigns/"+comp, compMod, map[string]any{"title": 5})

		mine := str(s.campaign(author, "", map[string]any{"label": general}))
		r = s.expect(200, "PUT", "/api/campaigns/"+mine, author, map[string]any{"title": "عنوان بهتر", "status": "approved", "slug": "better-title"})
		c = r.JSON["campaign"].(map[string]any)
		assert.Equal(t, "pending", c["status"], "an author cannot approve through an edit")
		assert.Equal(t, "better-title", c["slug"])
		s.expect(409, "PUT", "/api/campaigns/"+gen, admin, map[string]any{"slug": "better-title"})
		s.expect(400, "PUT", "/api/campaigns/"+gen, admin, map[string]any{"slug": "Not A Slug!"})
		s.expect(400, "PUT", "/api/campaigns/"+mine, author, map[string]any{"category": physics})
		s.expect(200, "PUT", "/api/campaigns/"+mine+"/status", admin, map[string]any{"status": "rejected"})
		r = s.expect(200, "GET", "/api/campaigns/rejected", compMod, nil)
		assert.Empty(t, r.list(t, "campaigns"), "a general-category campaign is not the computer moderator's")
		r = s.expect(200, "GET", "/api/campaigns/rejected", admin, nil)
		assert.Equal(t, []int64{mustID(mine)}, ids(t, r.list(t, "campaigns")))
		s.expect(403, "GET", "/api/campaigns/rejected", author, nil)
		r = s.expect(200, "PUT", "/api/campaigns/"+mine+"/", author, map[string]any{"content": "<p>متن بهتر برای بررسی دوباره</p>"})
		assert.Equal(t, "pending", r.JSON["campaign"].(map[string]any)["status"], "an edited rejected campaign goes back to review")

		// Signers of a campaign that hides them stay hidden.
		hidden := str(s.campaign(admin, admin, map[string]any{"is_anonymous": "anonymous"}))
		s.expect(201, "POST", "/api/campaigns/"+hidden+"/sign", other, map[string]any{"is_anonymous": "public"})
		r = s.expect(400, "PUT", "/api/campaigns/"+hidden, admin, map[string]any{"anonymous_allowed": false})
		assert.Equal(t, "is_anonymous", r.JSON["errors"].([]any)[0].(map[string]any)["field"])

		// My campaigns: every status.
		r = s.expect(200, "GET", "/api/user/created-campaigns", author, nil)
		assert.ElementsMatch(t, []int64{mustID(comp), mustID(mine)}, ids(t, r.list(t, "campaigns")))
		s.expect(401, "GET", "/api/user/created-campaigns", "", nil)

		// Delete: moderators within their scope; the signatures go too.
		s.expect(403, "DELETE", "/api/campaigns/"+gen+"/delete", other, nil)
		s.expect(403, "DELETE", "/api/campaigns/"+gen+"/delete", physMod, nil)
		s.expect(404, "DELETE", "/api/campaigns/"+comp+"/delete", physMod, nil)
		s.expect(405, "GET", "/api/campaigns/"+comp+"/delete", compMod, nil)
		r = s.expect(200, "DELETE", "/api/campaigns/"+comp+"/delete/", compMod, nil)
		assert.Equal(t, true, r.JSON["success"])
		s.expect(404, "GET", "/api/campaigns/"+comp, admin, nil)
		s.expect(404, "DELETE", "/api/campaigns/"+comp+"/delete", admin, nil)
		s.expect(200, "DELETE", "/api/campaigns/"+hidden+"/delete", admin, nil)
		var n int
		require.NoError(t, s.app.DB.X().Get(&n, s.app.DB.X().Rebind(`SELECT COUNT(*) FROM signatures WHERE campaign_id = ?`), mustID(hidden)))
		assert.Zero(t, n)
		assert.True(t, s.hasEvent("campaign_deleted", "success"))
	})
}

// TestCouncilCategory: the General Council's category (reference §8 item 21:
// not enforced in HEAD) and council membership.
func TestCouncilCategory(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		s := start(t, b, options{env: headEnv(nil)})
		head, _ := s.member("head@sharif.edu", "head", nil)
		plain, plainID := s.member("plain@sharif.edu", "simple_user", nil)
		observer, _ := s.member("observer@sharif.edu", "simple_user", councilAs(data.CouncilObserver))
		member, _ := s.member("member@sharif.edu", "simple_user", councilAs(data.CouncilMember))

		r := s.expect(200, "GET", "/api/campaigns/categories", observer, nil)
		assert.Equal(t, []any{general, council}, r.JSON["categories"])
		r = s.expect(200, "GET", "/api/campaigns/categories", plain, nil)
		assert.Equal(t, []any{general}, r.JSON["categories"])

		// Posting: voting members only (HEAD let non-members post).
		body := map[string]any{"category": council}
		r = s.expect(400, "POST", "/api/campaigns/submit", plain, map[string]any{
			"title": "جلسه شورا", "description": "دستور جلسه بعدی شورا", "deadline": s.clock.Now().Add(time.Hour).Format(time.RFC3339), "category": council,
		})
		assert.Equal(t, "label", r.JSON["errors"].([]any)[0].(map[string]any)["field"])
		s.expect(400, "POST", "/api/campaigns/submit", observer, map[string]any{
			"title": "جلسه شورا", "description": "دستور جلسه بعدی شورا", "deadline": s.clock.Now().Add(time.Hour).Format(time.RFC3339), "category": council,
		})
		// A simple user cannot pick a faculty through the body's "faculty"
		// (HEAD took it as the category).
		s.expect(400, "POST", "/api/campaigns/submit", plain, map[string]any{
			"title": "کارزار فیزیک", "description": "متن کافی برای کارزار", "deadline": s.clock.Now().Add(time.Hour).Format(time.RFC3339),
			"category": physics, "faculty": physics,
		})
		id := str(s.campaign(member, head, body))

		// Seeing: members, observers and HEAD2; signing: members and HEAD2.
		for tok, want := range map[string]int{plain: 404, "": 404, observer: 200, member: 200, head: 200} {
			s.expect(want, "GET", "/api/campaigns/"+id, tok, nil)
		}
		r = s.expect(200, "GET", "/api/campaigns/approved", observer, nil)
		assert.Equal(t, []int64{mustID(id)}, ids(t, r.list(t, "campaigns")))
		r = s.expect(403, "POST", "/api/campaigns/"+id+"/sign", observer, nil)
		assert.Contains(t, r.str("detail"), "شورای عمومی")
		s.expect(404, "POST", "/api/campaigns/"+id+"/sign", plain, nil)
		s.expect(201, "POST", "/api/campaigns/"+id+"/sign", member, nil)
		s.expect(201, "POST", "/api/campaigns/"+id+"/sign", head, nil)

		// Membership is kept by HEAD2 and applies at once.
		path := "/api/user/" + str(plainID) + "/council-status"
		s.expect(403, "PUT", path, member, map[string]any{"council_member_status": "member"})
		s.expect(400, "PUT", path, head, map[string]any{"council_member_status": "chair"})
		s.expect(404, "PUT", "/api/user/999999/council-status", head, map[string]any{"council_member_status": "member"})
		r = s.expect(200, "PUT", path, head, map[string]any{"council_member_status": "member"})
		assert.Equal(t, "member", r.JSON["user"].(map[string]any)["council_member_status"])
		s.expect(201, "POST", "/api/campaigns/"+id+"/sign", plain, nil)
		r = s.expect(200, "GET", "/api/auth/user/"+str(plainID), head, nil)
		assert.Equal(t, "member", r.str("council_member_status"))
		r = s.expect(200, "GET", "/api/auth/users", head, nil)
		for _, u := range r.Array {
			assert.Contains(t, u.(map[string]any), "council_member_status")
		}
	})
}

func mustID(s string) int64 {
	var n int64
	for _, c := range s {
		n = n*10 + int64(c-'0')
	}
	return n
}
