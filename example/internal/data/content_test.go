package data

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestValidSlug(t *testing.T) {
	for s, want := range map[string]bool{
		"campaign":               true,
		"second_post":            true,
		"زندگی-در-طرشت-۲":        true,
		"a-1":                    true,
		"":                       false,
		"Upper":                  false,
		"two words":              false,
		"semi;colon":             false,
		"slash/inside":           false,
		"dot.":                   false,
		"\xff":                   false,
		strings.Repeat("a", 200): true,
		strings.Repeat("a", 201): false,
		strings.Repeat("ب", 200): true,
	} {
		if got := ValidSlug(s); got != want {
			t.Errorf("ValidSlug(%q) = %v, want %v", s, got, want)
		}
	}
}

// FuzzSlugify: a title of any bytes gives a valid slug of at most 80 code
// points (or the fallback), and the same title always the same slug.
func FuzzSlugify(f *testing.F) {
	for _, s := range []string{"", "بهبود غذای سلف", "Hello, World!", "İstanbul ǅ", "a\u0301b", "--", "\xff\xfe", "۱۲۳ abc"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, title string) {
		s := slugify(title, "post")
		if !ValidSlug(s) {
			t.Fatalf("slugify(%q) = %q, not a valid slug", title, s)
		}
		if n := utf8.RuneCountInString(s); n > 80 {
			t.Fatalf("slugify(%q) has %d code points", title, n)
		}
		if strings.HasPrefix(s, "-") || strings.HasSuffix(s, "-") || strings.Contains(s, "--") {
			t.Fatalf("slugify(%q) = %q: stray dashes", title, s)
		}
		if again := slugify(title, "post"); again != s {
			t.Fatalf("slugify is not deterministic: %q then %q", s, again)
		}
	})
}

// FuzzLikePattern: the pattern is "%", the lower-cased text with every
// backslash, '%' and '_' escaped, and "%": removing the escapes gives the
// text back, and no wildcard is left unescaped inside.
func FuzzLikePattern(f *testing.F) {
	for _, s := range []string{"", "100%", "a_b", `back\slash`, `\%_`, "طرشت"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p := likePattern(s)
		if !strings.HasPrefix(p, "%") || !strings.HasSuffix(p, "%") || len(p) < 2 {
			t.Fatalf("likePattern(%q) = %q", s, p)
		}
		inner := p[1 : len(p)-1]
		var out strings.Builder
		for i := 0; i < len(inner); i++ {
			c := inner[i]
			switch c {
			case '\\':
				if i+1 == len(inner) {
					t.Fatalf("likePattern(%q) = %q: dangling escape", s, p)
				}
				i++
				out.WriteByte(inner[i])
			case '%', '_':
				t.Fatalf("likePattern(%q) = %q: unescaped wildcard", s, p)
			default:
				out.WriteByte(c)
			}
		}
		if out.String() != strings.ToLower(s) {
			t.Fatalf("likePattern(%q) unescapes to %q", s, out.String())
		}
	})
}

// TestFitsPoll: the data layer's own check of a vote's options.
func TestFitsPoll(t *testing.T) {
	opts := []PollOption{{ID: 1}, {ID: 2}, {ID: 3}}
	single := Poll{Options: opts}
	multi := Poll{Options: opts, IsMultipleChoice: true}
	two := Poll{Options: opts, IsMultipleChoice: true}
	two.MaxChoices.Int64, two.MaxChoices.Valid = 2, true
	for _, tt := range []struct {
		name string
		p    Poll
		ids  []int64
		want bool
	}{
		{"single one", single, []int64{2}, true},
		{"single two", single, []int64{1, 2}, false},
		{"none", multi, nil, false},
		{"multi all", multi, []int64{3, 1, 2}, true},
		{"duplicate", multi, []int64{1, 1}, false},
		{"foreign", multi, []int64{1, 9}, false},
		{"max two ok", two, []int64{1, 3}, true},
		{"max two over", two, []int64{1, 2, 3}, false},
	} {
		if got := fitsPoll(tt.p, tt.ids); got != tt.want {
			t.Errorf("%s: fitsPoll = %v, want %v", tt.name, got, tt.want)
		}
	}
}
