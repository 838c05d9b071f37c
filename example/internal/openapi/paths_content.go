package openapi

import (
	"net/http"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/senfi-sharif/senfi/example/internal/data"
)

// removal is the deletion of an item by its author or a moderator of its
// category.
func removal(id, tag, summary string) operation {
	return operation{
		id: id, tag: tag, summary: summary, description: "Its author or the category's moderators.",
		access: bearer, ok: []success{ok200("Done.", ref("Message"), nil)}, errors: []int{http.StatusForbidden},
	}
}

// contentPaths are the polls, the blog and the caller's own lists
// (generation B/C).
func (b *builder) contentPaths() {
	msg := ok200("Done.", ref("Message"), nil)
	polls := ref("PollList")
	option := func(id int, text string, votes int) map[string]any {
		return map[string]any{"id": id, "text": text, "order": id - 1, "votes_count": votes}
	}
	exPoll := map[string]any{
		"id": 3, "title": "ساعت کار کتابخانه", "description": "", "content": "", "slug": "saat-kar-ktabkhaneh",
		"category": "مسائل دانشگاهی", "image_url": "", "is_anonymous": true, "is_multiple_choice": false,
		"max_choices": nil, "deadline": exDeadline, "end_datetime": exDeadline, "status": data.StatusApproved,
		"created_at": exTime, "updated_at": exTime, "author_email": nil,
		"options":     []any{option(1, "تا ساعت ۲۲", 30), option(2, "شبانه‌روزی", 12)},
		"total_votes": 42, "total_voters": 42, "has_voted": false,
	}

	// polls
	b.add("GET /api/polls", operation{
		id: "listPolls", tag: "polls", summary: "Approved polls the caller may see",
		description: "Visibility by category as for campaigns; newest first, with has_voted.",
		access:      optional,
		ok:          []success{ok200("The polls.", polls, map[string]any{"success": true, "polls": []any{exPoll}, "total": 1})},
	})
	b.add("POST /api/polls", operation{
		id: "createPoll", tag: "polls", summary: "Create a poll (pending review)",
		access: bearer, limit: "POLL_CREATE",
		body: jsonBody(requireOne(requireOne(ref2obj(ref("PollInput")), "title"), "options"), map[string]any{
			"title": "ساعت کار کتابخانه", "options": []any{map[string]any{"text": "تا ساعت ۲۲"}, map[string]any{"text": "شبانه‌روزی"}},
			"is_anonymous": true, "deadline": exDeadline,
		}),
		ok: []success{created("Created; pending review.", envelope(req("message", str(1, 0)), req("poll_id", integerID()), req("poll", ref("Poll"))), nil)},
	})
	b.add("GET /api/polls/{id}", operation{
		id: "getPoll", tag: "polls", summary: "One poll",
		access: optional,
		ok:     []success{ok200("The poll.", envelope(req("poll", ref("Poll"))), map[string]any{"success": true, "poll": exPoll})},
	})
	b.add("PUT /api/polls/{id}", operation{
		id: "editPoll", tag: "polls", summary: "Edit a poll",
		description: "Moderators of its category in any status; its author while it is pending or rejected. Once " +
			"the poll has votes, replacing its options or changing how votes count is 409.",
		access: bearer,
		body:   jsonBody(ref("PollInput"), map[string]any{"title": "ساعت کار کتابخانه مرکزی"}),
		ok:     []success{ok200("The edited poll.", envelope(req("message", str(1, 0)), req("poll", ref("Poll"))), nil)},
		errors: []int{http.StatusForbidden, http.StatusConflict},
	})
	b.add("GET /api/polls/{id}/results", operation{
		id: "pollResults", tag: "polls", summary: "A poll's tally",
		access: optional,
		ok: []success{ok200("The tally.", envelope(req("results", object(
			req("poll_id", integerID()),
			req("options", array(object(req("id", integerID()), req("text", str(1, 255)), req("order", count()), req("votes_count", count()),
				req("percentage", maximum(minimum(number(), 0), 100))))),
			req("total_votes", count()), req("total_voters", count()), req("is_anonymous", boolean()), req("status", enum(statuses...)),
		))), nil)},
	})
	b.add("POST /api/polls/{id}/vote", operation{
		id: "vote", tag: "polls", summary: "Vote",
		description: "Once per user (409 again). The options must belong to the poll, appear once, and number " +
			"at most max_choices (one for a single-choice poll); only approved polls before their deadline.",
		access: bearer, limit: "VOTE",
		body: jsonBody(object(req("option_ids", oneOf(integerID(), items(array(integerID()), 1, 0)))), map[string]any{"option_ids": []any{1}}),
		ok: []success{created("Counted.", envelope(req("message", str(1, 0)), req("total_voters", count())),
			map[string]any{"success": true, "message": "رأی شما با موفقیت ثبت شد", "total_voters": 43})},
		errors: []int{http.StatusForbidden, http.StatusConflict},
	})
	b.add("GET /api/polls/{id}/voters", operation{
		id: "pollVoters", tag: "polls", summary: "Who chose what (open polls only)",
		description: "403 for an anonymous poll, which keeps no such record; otherwise for ADMIN3, the category's " +
			"moderators, the author and those who voted.",
		access: bearer,
		ok: []success{ok200("The votes.", envelope(req("voters", array(closed(object(
			req("user_email", email()), req("option_id", integerID()), req("option_text", str(1, 255)), req("voted_at", dateTime()),
		)))), req("total", count())), nil)},
		errors: []int{http.StatusForbidden},
	})
	b.add("PUT /api/polls/{id}/status", operation{
		id: "setPollStatus", tag: "polls", summary: "Set a poll's status",
		roles: moderators,
		body:  jsonBody(ref("StatusInput"), map[string]any{"approved": true}),
		ok:    []success{msg},
	})
	b.add("DELETE /api/polls/{id}/delete", removal("deletePoll", "polls", "Delete a poll"))
	b.add("GET /api/admin/polls", operation{
		id: "listModeratedPolls", tag: "polls", summary: "Polls of every status (moderation)",
		roles: moderators, query: []*openapi3.Parameter{statusQuery("all")},
		ok: []success{ok200("The polls.", polls, nil)},
	})
	b.add("POST /api/admin/polls/approve", operation{
		id: "approvePoll", tag: "polls", summary: "Approve or reject a poll",
		roles:  moderators,
		body:   jsonBody(object(req("poll_id", integerID()), req("approved", boolean())), map[string]any{"poll_id": 3, "approved": true}),
		ok:     []success{ok200("The new status.", envelope(req("message", str(1, 0)), req("poll_id", integerID()), req("new_status", enum(data.StatusApproved, data.StatusRejected))), nil)},
		errors: []int{http.StatusNotFound},
	})

	// blog
	post := ref("BlogPost")
	b.add("GET /api/blog/posts", operation{
		id: "listBlogPosts", tag: "blog", summary: "Published posts, a page at a time",
		access: optional,
		query: []*openapi3.Parameter{
			queryParam("page", "From 1.", maximum(minimum(integer(), 1), 1_000_000)),
			queryParam("page_size", "1–100, default 10.", maximum(minimum(integer(), 1), 100)),
			queryParam("category", "Only this category.", str(0, 0)),
			queryParam("search", "Matches the title, content or excerpt.", str(0, 200)),
		},
		ok: []success{ok200("The page.", envelope(req("posts", array(post)), req("pagination", ref("Pagination"))), nil)},
	})
	b.add("GET /api/blog/posts/{slug}", operation{
		id: "getBlogPost", tag: "blog", summary: "One post, by slug",
		description: "Published posts are public; unpublished ones are seen by their author, ADMIN3 and the " +
			"category's moderators.",
		access: optional,
		ok:     []success{ok200("The bare post.", post, nil)},
		errors: []int{http.StatusNotFound},
	})
	b.add("POST /api/admin/blog/posts/create", operation{
		id: "createBlogPost", tag: "blog", summary: "Write a post (unpublished until a moderator publishes it)",
		access: bearer, limit: "BLOG_CREATE",
		body: jsonBody(requireOne(requireOne(ref2obj(ref("BlogInput")), "title"), "content"),
			map[string]any{"title": "افتتاح سالن مطالعه", "content": "<p>سالن مطالعه جدید از شنبه باز است.</p>"}),
		ok:     []success{created("Created.", envelope(req("message", str(1, 0)), req("post", post)), nil)},
		errors: []int{http.StatusConflict},
	})
	b.add("PUT /api/admin/blog/posts/{id}", operation{
		id: "editBlogPost", tag: "blog", summary: "Edit a post",
		description: "The category's moderators, or the author while the post is unpublished (409 afterwards).",
		access:      bearer,
		body:        jsonBody(ref("BlogInput"), map[string]any{"title": "افتتاح سالن مطالعه جدید"}),
		ok:          []success{ok200("The edited post.", envelope(req("message", str(1, 0)), req("post", post)), nil)},
		errors:      []int{http.StatusForbidden, http.StatusConflict},
	})
	b.add("DELETE /api/admin/blog/posts/{id}/delete", removal("deleteBlogPost", "blog", "Delete a post"))
	b.add("POST /api/admin/blog/posts/{id}/publish", operation{
		id: "publishBlogPost", tag: "blog", summary: "Publish or unpublish a post",
		description: "No body toggles. The first publication sets published_at.",
		roles:       moderators,
		body: optionalBody(object(in("action", enum("", "approve", "publish", "reject", "unpublish", "toggle"))),
			map[string]any{"action": "approve"}),
		ok: []success{ok200("The new state.", envelope(req("message", str(1, 0)), req("is_published", boolean()), req("post_id", integerID())), nil)},
	})
	b.add("GET /api/admin/blog/posts", operation{
		id: "listModeratedBlogPosts", tag: "blog", summary: "Posts in the caller's categories (moderation)",
		roles: moderators,
		query: []*openapi3.Parameter{queryParam("status", "Default `all`.", enum("all", "published", "unpublished"))},
		ok:    []success{ok200("A bare array.", array(post), nil)},
	})

	// the caller's own lists
	b.add("GET /api/user/signed-campaigns", operation{
		id: "mySignedCampaigns", tag: "account", summary: "The campaigns the caller signed",
		access: bearer,
		ok: []success{ok200("The signatures.", ref("SignedCampaignList"), map[string]any{"success": true, "total": 1,
			"campaigns": []any{map[string]any{"campaign_id": 12, "campaign_title": "بهبود غذای سلف", "signed_at": exTime, "is_anonymous": "public"}}})},
	})
	b.add("GET /api/user/created-campaigns", operation{
		id: "myCampaigns", tag: "account", summary: "The caller's campaigns, of every status",
		access: bearer,
		ok:     []success{ok200("The campaigns.", ref("CampaignList"), nil)},
	})
	b.add("GET /api/user/created-polls", operation{
		id: "myPolls", tag: "account", summary: "The caller's polls, of every status",
		access: bearer,
		ok:     []success{ok200("The polls.", polls, nil)},
	})
	b.add("GET /api/user/created-blog-posts", operation{
		id: "myBlogPosts", tag: "account", summary: "The caller's posts, published or not",
		access: bearer,
		ok:     []success{ok200("The posts.", envelope(req("blog_posts", array(post)), req("total", count())), nil)},
	})
	b.add("GET /api/user/voted-polls", operation{
		id: "myVotedPolls", tag: "account", summary: "The polls the caller voted in",
		access: bearer,
		ok:     []success{ok200("The polls, with the caller's choices where the poll is not anonymous.", envelope(req("polls", array(ref("VotedPoll"))), req("total", count())), nil)},
	})
}
