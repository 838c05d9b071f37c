package password

import (
	"fmt"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
)

// TestRatioMatchesDifflib checks ratioAtLeast against values printed by
// Python 3.11's difflib.SequenceMatcher(a=pw, b=part).quick_ratio().
func TestRatioMatchesDifflib(t *testing.T) {
	cases := []struct {
		pw, part string
		python   float64
	}{
		{"alirezaei", "ali.rezaei", 0.9473684210526315},
		{"password", "drowssap", 1.0},
		{"abc", "xyz", 0.0},
		{"سلام دنیا", "سلام", 0.6153846153846154},
		{"hello", "help", 0.6666666666666666},
		{"🔐🔐x", "🔐", 0.5},
	}
	for _, c := range cases {
		t.Run(fmt.Sprintf("%s~%s", c.pw, c.part), func(t *testing.T) {
			pw := []rune(c.pw)
			const eps = 1e-9
			assert.True(t, ratioAtLeast(pw, c.part, c.python-eps), "ratio below Python's %v", c.python)
			if c.python+eps <= 1 {
				assert.False(t, ratioAtLeast(pw, c.part, c.python+eps), "ratio above Python's %v", c.python)
			}
		})
	}
	// Django's shortcut: a part so short that the ratio cannot reach the
	// threshold is skipped ("a"*30 vs "a" has quick_ratio 0.0645).
	assert.False(t, ratioAtLeast([]rune("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"), "a", DefaultMaxSimilarity))
}

func TestPieces(t *testing.T) {
	cases := []struct {
		in         string
		underscore bool
		want       []string
	}{
		{"ali_rezaei.1380@sharif.edu", false, []string{"ali", "rezaei", "1380", "sharif", "edu"}},
		{"ali_rezaei.1380@sharif.edu", true, []string{"ali_rezaei", "1380", "sharif", "edu"}},
		{"..a..", false, []string{"a"}},
		{"", false, nil},
		{"علی\u200cرضا", false, []string{"علی", "رضا"}}, // ZWNJ separates
		{"محمد حسینی", false, []string{"محمد", "حسینی"}},
	}
	for _, c := range cases {
		t.Run(c.in, func(t *testing.T) {
			assert.Equal(t, c.want, slices.Collect(pieces(c.in, c.underscore)))
		})
	}
	assert.Equal(t, "alirezaei1380", compact("ali_rezaei.1380"))
	assert.Equal(t, "plain", compact("plain"))
}
