package openapi

import (
	"net/http"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/senfi-sharif/senfi/example/internal/api"
	"github.com/senfi-sharif/senfi/example/internal/data"
)

// moderators are the roles the moderation routes admit: ADMIN3 for every
// category, faculty_member and dorm_member for their own category (checked
// per item: 403 outside it).
var moderators = []string{api.RoleSuperadmin, api.RoleHead, api.RoleCenterMember, api.RoleFacultyMember, api.RoleDormMember}

// statusQuery is the ?status= filter of the moderation lists.
func statusQuery(def string) *openapi3.Parameter {
	return queryParam("status", "Which statuses to list: one of them, or `all`. Default: `"+def+"`.",
		enum(append(append([]string{}, statuses...), "all")...))
}

// campaignPaths are the campaign and signature routes (contract §4, and the
// campaign pages of generation B/C).
func (b *builder) campaignPaths() {
	list := ref("CampaignList")
	msg := ok200("Done.", ref("Message"), nil)

	b.add("POST /api/campaigns/submit", operation{
		id: "submitCampaign", tag: "campaigns", summary: "Submit a campaign for review",
		description: "Title 3–255 characters, description (or content) 10–50000, deadline in the future, category " +
			"from the caller's own (the general one, their faculty's, their dormitory's; ADMIN3: any). The status is " +
			"always pending.",
		access: bearer, limit: "SUBMIT",
		body: jsonBody(requireOne(requireOne(requireOne(ref2obj(ref("CampaignInput")), "title"), "description", "content"), "end_datetime", "deadline"),
			map[string]any{"title": "بهبود غذای سلف", "description": "کیفیت غذای سلف مرکزی باید بهتر شود.", "end_datetime": exDeadline, "label": "مسائل دانشگاهی", "tags": []any{"سلف"}}),
		ok: []success{created("Submitted; pending review.", envelope(
			req("campaignId", integerID()), req("campaign_id", integerID()), req("status", constant(data.StatusPending)),
			req("slug", str(0, 200)), req("created_at", dateTime()), req("end_datetime", dateTime()), req("deadline", dateTime()),
		), map[string]any{"success": true, "campaignId": 12, "campaign_id": 12, "status": "pending", "slug": "بهبود-غذای-سلف",
			"created_at": exTime, "end_datetime": exDeadline, "deadline": exDeadline})},
	})
	b.add("GET /api/campaigns/approved", operation{
		id: "listApprovedCampaigns", tag: "campaigns", summary: "Approved campaigns the caller may see",
		description: "Anonymous callers see the general category; users also their faculty's and dormitory's " +
			"(and the council's for its members and observers); ADMIN3 all. Newest first.",
		access: optional,
		ok:     []success{ok200("The campaigns.", list, nil)},
	})
	b.add("GET /api/campaigns/rejected", operation{
		id: "listRejectedCampaigns", tag: "campaigns", summary: "Rejected campaigns (moderation)",
		description: "In the categories the caller moderates.",
		roles:       moderators,
		ok:          []success{ok200("The campaigns.", list, nil)},
	})
	b.add("GET /api/admin/campaigns", operation{
		id: "listModeratedCampaigns", tag: "campaigns", summary: "Campaigns awaiting review (moderation)",
		description: "Pending campaigns, or those of ?status=, in the categories the caller moderates.",
		roles:       moderators, query: []*openapi3.Parameter{statusQuery(data.StatusPending)},
		ok: []success{ok200("The campaigns.", list, nil)},
	})
	b.add("POST /api/admin/campaigns/approve", operation{
		id: "approveCampaign", tag: "campaigns", summary: "Approve or reject a campaign",
		roles: moderators,
		body: jsonBody(object(req("campaign_id", integerID()), req("approved", note(boolean(), "A non-boolean is 400, not \"truthy\"."))),
			map[string]any{"campaign_id": 12, "approved": true}),
		ok: []success{ok200("The new status.", envelope(req("message", str(1, 0)), req("campaign_id", integerID()), req("new_status", enum(data.StatusApproved, data.StatusRejected))),
			map[string]any{"success": true, "message": "کمپین تأیید شد", "campaign_id": 12, "new_status": "approved"})},
		errors: []int{http.StatusNotFound},
	})
	b.add("PUT /api/campaigns/{id}/status", operation{
		id: "setCampaignStatus", tag: "campaigns", summary: "Set a campaign's status",
		roles: moderators,
		body:  jsonBody(ref("StatusInput"), map[string]any{"status": "approved"}),
		ok:    []success{msg},
	})
	b.add("GET /api/campaigns/categories", operation{
		id: "listCategories", tag: "campaigns", summary: "The categories the caller sees",
		description: "The general one for anonymous callers; users also their faculty's and dormitory's (and the " +
			"council's for its members, observers and HEAD2); ADMIN3 all 18.",
		access: optional,
		ok: []success{ok200("The categories.", envelope(req("categories", array(str(1, 0))), req("total", count())),
			map[string]any{"success": true, "categories": []any{"مسائل دانشگاهی"}, "total": 1})},
	})
	b.add("GET /api/campaigns/{id}", operation{
		id: "getCampaign", tag: "campaigns", summary: "One campaign",
		description: "Approved and closed campaigns as in the approved list; pending and rejected ones to their " +
			"author, ADMIN3 and the category's moderators; anything else is 404.",
		access: optional,
		ok:     []success{ok200("The campaign.", ref("Campaign"), nil)},
	})
	b.add("PUT /api/campaigns/{id}", operation{
		id: "editCampaign", tag: "campaigns", summary: "Edit a campaign",
		description: "Moderators of its category edit it in any status; its author while it is pending or " +
			"rejected (409 afterwards), and an edit of a rejected campaign sends it back to review. Members not " +
			"sent keep their value; the status is not editable here.",
		access: bearer,
		body:   jsonBody(ref("CampaignInput"), map[string]any{"title": "بهبود کیفیت غذای سلف"}),
		ok:     []success{ok200("The edited campaign.", envelope(req("message", str(1, 0)), req("campaign", ref("Campaign"))), nil)},
		errors: []int{http.StatusForbidden, http.StatusConflict},
	})
	b.add("DELETE /api/campaigns/{id}/delete", operation{
		id: "deleteCampaign", tag: "campaigns", summary: "Delete a campaign and its signatures",
		roles: moderators,
		ok:    []success{msg},
	})
	b.add("POST /api/campaigns/{id}/sign", operation{
		id: "signCampaign", tag: "campaigns", summary: "Sign a campaign",
		description: "Only approved campaigns before their deadline (400 otherwise); once per user (409 " +
			"`شما قبلاً این کارزار را امضا کرده‌اید`; concurrent requests: exactly one succeeds). In the council's " +
			"category only voting members sign (403). The body may be empty (a public signature).",
		access: bearer, limit: "SIGN",
		body: optionalBody(object(in("is_anonymous", enum(data.Public, data.Anonymous))), map[string]any{"is_anonymous": "public"}),
		ok: []success{created("Signed.", envelope(req("message", str(1, 0)), req("signature_id", integerID()), req("total_signatures", count())),
			map[string]any{"success": true, "message": "کارزار با موفقیت امضا شد", "signature_id": 301, "total_signatures": 42})},
		errors: []int{http.StatusForbidden, http.StatusConflict},
	})
	b.add("GET /api/campaigns/{id}/signatures", operation{
		id: "listSignatures", tag: "campaigns", summary: "A campaign's signatures",
		description: "For a campaign with hidden signers the list is empty and `total` counts them; otherwise " +
			"anonymous signatures show `ناشناس` as the address.",
		access: optional,
		ok: []success{ok200("The signatures.", envelope(
			req("signatures", array(ref("Signature"))), req("total", count()),
			req("campaign_is_anonymous", enum(data.Public, data.Anonymous)), req("campaign_anonymous_allowed", boolean()),
		), map[string]any{"success": true, "signatures": []any{map[string]any{"id": 301, "user_email": "ناشناس", "signed_at": exTime, "is_anonymous": "anonymous"}},
			"total": 1, "campaign_is_anonymous": "public", "campaign_anonymous_allowed": false})},
	})
	b.add("GET /api/campaigns/{id}/check-signature", operation{
		id: "checkSignature", tag: "campaigns", summary: "Whether the caller signed a campaign",
		access: bearer,
		ok: []success{ok200("The caller's signature, if any.", object(
			req("has_signed", boolean()),
			req("signature", oneOf(typed(openapi3.TypeNull), closed(object(req("id", integerID()), req("signed_at", dateTime()), req("is_anonymous", enum(data.Public, data.Anonymous)))))),
		), map[string]any{"has_signed": false, "signature": nil})},
	})
}

// ref2obj wraps a component reference in an object schema so that
// keywords can be added beside it (OpenAPI 3.1 allows siblings of $ref, but
// allOf says it to every tool).
func ref2obj(r *openapi3.SchemaRef) *openapi3.SchemaRef {
	return &openapi3.SchemaRef{Value: &openapi3.Schema{AllOf: openapi3.SchemaRefs{r}}}
}
