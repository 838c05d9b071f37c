package app_test

import (
	"fmt"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestBlog: posts are written by anyone, unpublished until a moderator of
// their category publishes them (HEAD let the client send is_published),
// listed with bounded pages (HEAD's page_size=0 was a 500), searched,
// edited, deleted.
func TestBlog(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		s := start(t, b, options{env: headEnv(map[string]string{"SENFI_RATE_BLOG_CREATE": "8/h"})})
		writer, _ := s.member("writer@sharif.edu", "simple_user", dorm(tarasht2))
		reader, _ := s.member("reader@sharif.edu", "simple_user", nil)
		dormMod, _ := s.member("dmod@sharif.edu", "dorm_member", dorm(tarasht2))
		compMod, _ := s.member("cmod@sharif.edu", "faculty_member", faculty(computer))
		admin, _ := s.member("admin@sharif.edu", "head", nil)

		words := strings.Repeat("واژه ", 450)
		r := s.expect(201, "POST", "/api/admin/blog/posts/create", writer, map[string]any{
			"title": "زندگی در طرشت ۲", "content": `<h2>مقدمه</h2><p onmouseover="x()">` + words + `</p><script>steal()</script><a href="javascript:alert(1)">پیوند</a>`,
			"excerpt": "خلاصه کوتاه", "tags": []string{"خوابگاه", "زندگی"}, "category": tarasht2,
			"is_published": true, "reading_time": 60, "image_url": "https://example.com/a.jpg",
		})
		post := r.JSON["post"].(map[string]any)
		assert.Equal(t, false, post["is_published"], "a client cannot self-publish")
		assert.Nil(t, post["published_at"])
		assert.EqualValues(t, 2, post["reading_time"], "450 words at 200 a minute, not the client's 60")
		assert.Equal(t, "زندگی-در-طرشت-۲", post["slug"], "Unicode slug from the title")
		content := post["content"].(string)
		for _, bad := range []string{"<script", "onmouseover", "javascript:"} {
			assert.NotContains(t, content, bad)
		}
		assert.Contains(t, content, "<h2>مقدمه</h2>")
		slug := url.PathEscape(post["slug"].(string))
		id := str(itemID(t, post, "id"))
		assert.True(t, s.hasEvent("blog_post_created", "success"))

		// Unpublished: the author and the category's moderators only.
		for tok, want := range map[string]int{writer: 200, dormMod: 200, admin: 200, reader: 404, compMod: 404, "": 404} {
			s.expect(want, "GET", "/api/blog/posts/"+slug, tok, nil)
		}
		r = s.expect(200, "GET", "/api/blog/posts", "", nil)
		assert.Empty(t, r.list(t, "posts"))

		// Publishing: moderators within their scope; toggle by default.
		s.expect(403, "POST", "/api/admin/blog/posts/"+id+"/publish", writer, nil)
		s.expect(404, "POST", "/api/admin/blog/posts/"+id+"/publish", compMod, nil)
		s.expect(400, "POST", "/api/admin/blog/posts/"+id+"/publish", dormMod, map[string]any{"action": "maybe"})
		r = s.expect(200, "POST", "/api/admin/blog/posts/"+id+"/publish", dormMod, nil)
		assert.Equal(t, true, r.JSON["is_published"])
		assert.True(t, s.hasEvent("blog_post_published", "success"))
		r = s.expect(200, "GET", "/api/blog/posts/"+slug, "", nil)
		firstPublished := r.str("published_at")
		assert.NotEmpty(t, firstPublished)
		assert.Nil(t, r.JSON["author_email"], "the author's address is not public")
		r = s.expect(403, "POST", "/api/admin/blog/posts/"+id+"/publish", compMod, map[string]any{"action": "reject"})
		r = s.expect(200, "POST", "/api/admin/blog/posts/"+id+"/publish", admin, map[string]any{"action": "reject"})
		assert.Equal(t, false, r.JSON["is_published"])
		s.expect(404, "GET", "/api/blog/posts/"+slug, reader, nil)
		s.expect(200, "POST", "/api/admin/blog/posts/"+id+"/publish", dormMod, map[string]any{"action": "approve"})
		r = s.expect(200, "GET", "/api/blog/posts/"+slug, reader, nil)
		assert.Equal(t, firstPublished, r.str("published_at"), "the first publication date stays")

		// Edits: the author only while unpublished; moderators always.
		r = s.expect(409, "PUT", "/api/admin/blog/posts/"+id, writer, map[string]any{"title": "عنوان دیگر"})
		s.expect(403, "PUT", "/api/admin/blog/posts/"+id, reader, map[string]any{"title": "عنوان دیگر"})
		r = s.expect(200, "PUT", "/api/admin/blog/posts/"+id, dormMod, map[string]any{"title": "زندگی در طرشت", "is_published": false, "content": "<p>کوتاه</p>"})
		p := r.JSON["post"].(map[string]any)
		assert.Equal(t, true, p["is_published"], "publication is not an edit field")
		assert.EqualValues(t, 1, p["reading_time"])
		s.expect(400, "PUT", "/api/admin/blog/posts/"+id, dormMod, map[string]any{"category": general})

		// Slugs: a client's slug is checked and unique.
		s.expect(400, "POST", "/api/admin/blog/posts/create", writer, map[string]any{"title": "مطلب دوم", "content": "متن", "slug": "Bad Slug"})
		r = s.expect(201, "POST", "/api/admin/blog/posts/create", writer, map[string]any{"title": "Second Post", "content": "second 100% text", "slug": "second_post"})
		second := str(itemID(t, r.JSON["post"], "id"))
		s.expect(409, "POST", "/api/admin/blog/posts/create", reader, map[string]any{"title": "Another", "content": "متن", "slug": "second_post"})
		s.expect(400, "POST", "/api/admin/blog/posts/create", reader, map[string]any{"title": "Another"})
		s.expect(400, "POST", "/api/admin/blog/posts/create", reader, map[string]any{"title": "Another", "content": "<script>only()</script>"})
		s.expect(400, "POST", "/api/admin/blog/posts/create", reader, map[string]any{"title": "Another", "content": "x", "category": physics})
		s.expect(401, "POST", "/api/admin/blog/posts/create", "", map[string]any{"title": "Another", "content": "x"})
		r = s.expect(200, "PUT", "/api/admin/blog/posts/"+second, writer, map[string]any{"content": "<p>edited by its author</p>"})
		assert.Equal(t, "second_post", r.JSON["post"].(map[string]any)["slug"])

		// Pages, categories and search over published posts.
		for i := 0; i < 3; i++ {
			r := s.expect(201, "POST", "/api/admin/blog/posts/create", reader, map[string]any{"title": fmt.Sprintf("Weekly news %d", i), "content": "Cafeteria OPENING hours"})
			s.expect(200, "POST", "/api/admin/blog/posts/"+str(itemID(t, r.JSON["post"], "id"))+"/publish", admin, map[string]any{"action": "approve"})
		}
		r = s.expect(200, "GET", "/api/blog/posts?page_size=2", "", nil)
		assert.Len(t, r.list(t, "posts"), 2)
		assert.Equal(t, map[string]any{"page": 1.0, "page_size": 2.0, "total_count": 4.0, "total_pages": 2.0}, r.JSON["pagination"])
		r = s.expect(200, "GET", "/api/blog/posts/?page=2&page_size=2", "", nil)
		assert.Len(t, r.list(t, "posts"), 2)
		r = s.expect(200, "GET", "/api/blog/posts?page=3&page_size=2", "", nil)
		assert.Empty(t, r.list(t, "posts"))
		for _, q := range []string{"page_size=0", "page=0", "page=-1", "page_size=101", "page=abc", "page_size=1e3", "page=99999999999999999999", "search=" + strings.Repeat("a", 201)} {
			s.expect(400, "GET", "/api/blog/posts?"+q, "", nil)
		}
		r = s.expect(200, "GET", "/api/blog/posts?search=opening", "", nil)
		assert.Len(t, r.list(t, "posts"), 3, "case-insensitive")
		r = s.expect(200, "GET", "/api/blog/posts?search="+url.QueryEscape("%"), "", nil)
		assert.Empty(t, r.list(t, "posts"), "% is matched literally, not as a wildcard")
		r = s.expect(200, "GET", "/api/blog/posts?search="+url.QueryEscape("طرشت"), "", nil)
		assert.Len(t, r.list(t, "posts"), 1)
		r = s.expect(200, "GET", "/api/blog/posts?category="+url.QueryEscape(tarasht2), "", nil)
		assert.Equal(t, []int64{mustID(id)}, ids(t, r.list(t, "posts")))

		// The moderators' list is a bare array, scoped by category.
		r = s.expect(200, "GET", "/api/admin/blog/posts?status=unpublished", admin, nil)
		require.Len(t, r.Array, 1)
		assert.EqualValues(t, mustID(second), r.Array[0].(map[string]any)["id"])
		r = s.expect(200, "GET", "/api/admin/blog/posts", dormMod, nil)
		require.Len(t, r.Array, 1)
		r = s.expect(200, "GET", "/api/admin/blog/posts/", compMod, nil)
		assert.Empty(t, r.Array)
		s.expect(400, "GET", "/api/admin/blog/posts?status=draft", admin, nil)
		s.expect(403, "GET", "/api/admin/blog/posts", reader, nil)

		// My posts, under the key the frontend reads.
		r = s.expect(200, "GET", "/api/user/created-blog-posts", writer, nil)
		assert.Len(t, r.list(t, "blog_posts"), 2)

		// Deletion: the author or a moderator of the category.
		s.expect(403, "DELETE", "/api/admin/blog/posts/"+id+"/delete", reader, nil)
		s.expect(404, "DELETE", "/api/admin/blog/posts/abc/delete", admin, nil)
		s.expect(200, "DELETE", "/api/admin/blog/posts/"+second+"/delete", writer, nil)
		s.expect(200, "DELETE", "/api/admin/blog/posts/"+id+"/delete", dormMod, nil)
		s.expect(404, "GET", "/api/blog/posts/"+slug, admin, nil)
		assert.True(t, s.hasEvent("blog_post_deleted", "success"))

		// Creation is limited per user: 8 an hour here; reader has sent 7
		// (refused ones count too).
		s.expect(201, "POST", "/api/admin/blog/posts/create", reader, map[string]any{"title": "Eighth", "content": "x"})
		r = s.expect(429, "POST", "/api/admin/blog/posts/create", reader, map[string]any{"title": "Ninth", "content": "x"})
		assert.NotEmpty(t, r.Header.Get("Retry-After"))
	})
}
