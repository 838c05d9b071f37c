package api

import "net/http"

// headRoutes registers the routes the frontend's generations B and C added
// (issue 10: campaign pages, categories, polls, blog, my-content lists,
// e-mail-code login, council membership). routes() calls it after the
// contract's §3 and §4. Every route goes through Handle, so both path forms
// are served and the route table can be enumerated.
//
// Role gates here are coarse (authenticated, or one of moderatorRoles);
// the handlers decide per item, by category, what a faculty_member or
// dorm_member may moderate and what an author may change.
func (s *Server) headRoutes() {
	auth, mods := s.requireAuth, s.requireRole(moderatorRoles...)

	// e-mail-code login (§9.4)
	s.Handle("POST /api/auth/send-mobile-code", s.limited("SEND_MOBILE_CODE", s.sendLoginCode))
	s.Handle("POST /api/auth/verify-mobile-code", s.limited("VERIFY_MOBILE_CODE", s.verifyLoginCode))
	s.Handle("PUT /api/user/{id}/council-status", s.requireRole(HEAD2...)(http.HandlerFunc(s.setCouncilStatus)))

	// campaign pages
	s.Handle("GET /api/campaigns/categories", http.HandlerFunc(s.categories))
	s.Handle("GET /api/campaigns/{id}", http.HandlerFunc(s.campaignDetail))
	s.Handle("PUT /api/campaigns/{id}", auth(http.HandlerFunc(s.editCampaign)))
	s.Handle("DELETE /api/campaigns/{id}/delete", mods(http.HandlerFunc(s.deleteCampaign)))

	// polls
	s.Handle("GET /api/polls", http.HandlerFunc(s.polls))
	s.Handle("POST /api/polls", s.userLimited("POLL_CREATE", s.createPoll))
	s.Handle("GET /api/polls/{id}", http.HandlerFunc(s.pollDetail))
	s.Handle("PUT /api/polls/{id}", auth(http.HandlerFunc(s.editPoll)))
	s.Handle("GET /api/polls/{id}/results", http.HandlerFunc(s.pollResults))
	s.Handle("POST /api/polls/{id}/vote", s.userLimited("VOTE", s.vote))
	s.Handle("GET /api/polls/{id}/voters", auth(http.HandlerFunc(s.pollVoters)))
	s.Handle("PUT /api/polls/{id}/status", mods(http.HandlerFunc(s.setPollStatus)))
	s.Handle("DELETE /api/polls/{id}/delete", auth(http.HandlerFunc(s.deletePoll)))
	s.Handle("GET /api/admin/polls", mods(http.HandlerFunc(s.adminPolls)))
	s.Handle("POST /api/admin/polls/approve", mods(http.HandlerFunc(s.approvePoll)))

	// blog
	s.Handle("GET /api/blog/posts", http.HandlerFunc(s.blogPosts))
	s.Handle("GET /api/blog/posts/{slug}", http.HandlerFunc(s.blogPost))
	s.Handle("POST /api/admin/blog/posts/create", s.userLimited("BLOG_CREATE", s.createBlogPost))
	s.Handle("PUT /api/admin/blog/posts/{id}", auth(http.HandlerFunc(s.editBlogPost)))
	s.Handle("DELETE /api/admin/blog/posts/{id}/delete", auth(http.HandlerFunc(s.deleteBlogPost)))
	s.Handle("POST /api/admin/blog/posts/{id}/publish", mods(http.HandlerFunc(s.publishBlogPost)))
	s.Handle("GET /api/admin/blog/posts", mods(http.HandlerFunc(s.adminBlogPosts)))

	// my content
	s.Handle("GET /api/user/created-campaigns", auth(http.HandlerFunc(s.createdCampaigns)))
	s.Handle("GET /api/user/created-polls", auth(http.HandlerFunc(s.createdPolls)))
	s.Handle("GET /api/user/created-blog-posts", auth(http.HandlerFunc(s.createdBlogPosts)))
	s.Handle("GET /api/user/voted-polls", auth(http.HandlerFunc(s.votedPolls)))
}
