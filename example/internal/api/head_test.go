package api

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/senfi-sharif/senfi/example/internal/data"
)

// TestModerates: who moderates which category, and what they may post in.
func TestModerates(t *testing.T) {
	user := func(role, faculty, dorm, council string) data.User {
		return data.User{Role: role, Faculty: faculty, Dormitory: dorm, CouncilStatus: council}
	}
	comp, phys := "کامپیوتر", "فیزیک"
	tarasht := "طرشت ۲"
	for _, tt := range []struct {
		name     string
		u        data.User
		category string
		want     bool
	}{
		{"center member, any category", user(RoleCenterMember, "", "", ""), phys, true},
		{"faculty member, own faculty", user(RoleFacultyMember, comp, "", ""), comp, true},
		{"faculty member, other faculty", user(RoleFacultyMember, comp, "", ""), phys, false},
		{"faculty member, general", user(RoleFacultyMember, comp, "", ""), GeneralCategory, false},
		{"faculty member of no faculty", user(RoleFacultyMember, data.FacultyUnspecified, "", ""), data.FacultyUnspecified, false},
		{"dorm member, own dorm", user(RoleDormMember, "", tarasht, ""), tarasht, true},
		{"dorm member of no dorm", user(RoleDormMember, "", data.NoDormitory, ""), data.NoDormitory, false},
		{"dorm member, own faculty", user(RoleDormMember, comp, tarasht, ""), comp, false},
		{"simple user, own faculty", user(RoleUser, comp, "", ""), comp, false},
	} {
		if got := moderates(tt.u, tt.category); got != tt.want {
			t.Errorf("%s: moderates = %v, want %v", tt.name, got, tt.want)
		}
		cats := moderatedCategories(tt.u)
		if in := cats == nil || slices.Contains(cats, tt.category); in != tt.want {
			t.Errorf("%s: moderatedCategories %v disagrees with moderates", tt.name, cats)
		}
	}

	for _, tt := range []struct {
		name         string
		u            data.User
		sees, posts  bool // the council's category
		participates bool
	}{
		{"non-member", user(RoleUser, "", "", data.CouncilNone), false, false, false},
		{"observer", user(RoleUser, "", "", data.CouncilObserver), true, false, false},
		{"member", user(RoleUser, "", "", data.CouncilMember), true, true, true},
		{"head", user(RoleHead, "", "", data.CouncilNone), true, true, true},
		{"center member", user(RoleCenterMember, "", "", data.CouncilNone), true, true, false},
	} {
		cats := viewer{user: tt.u, admin: slices.Contains(ADMIN3, tt.u.Role)}.categories()
		if got := cats == nil || slices.Contains(cats, CouncilCategory); got != tt.sees {
			t.Errorf("%s: sees the council = %v, want %v", tt.name, got, tt.sees)
		}
		if got := slices.Contains(postCategories(tt.u), CouncilCategory); got != tt.posts {
			t.Errorf("%s: posts in the council = %v, want %v", tt.name, got, tt.posts)
		}
		if got := mayParticipate(tt.u, CouncilCategory); got != tt.participates {
			t.Errorf("%s: signs/votes in the council = %v, want %v", tt.name, got, tt.participates)
		}
		if !mayParticipate(tt.u, GeneralCategory) {
			t.Errorf("%s: may not take part in the general category", tt.name)
		}
	}
	if n := len(allCategories()); n != 18 || slices.Contains(allCategories(), data.NoDormitory) {
		t.Errorf("allCategories = %d categories: %v", n, allCategories())
	}
}

// TestVoteRefusal: the reasons given before the data layer's own check.
func TestVoteRefusal(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	open := data.Poll{Status: data.StatusApproved, IsMultipleChoice: true, Options: []data.PollOption{{ID: 4}, {ID: 5}, {ID: 6}}}
	open.MaxChoices.Int64, open.MaxChoices.Valid = 2, true
	late := open
	late.DeadlineUS.Int64, late.DeadlineUS.Valid = now.Add(-time.Second).UnixMicro(), true
	pending := open
	pending.Status = data.StatusPending
	single := open
	single.IsMultipleChoice = false
	for _, tt := range []struct {
		name string
		p    data.Poll
		ids  []int64
		want string // a fragment of the reason; "" for none
	}{
		{"fits", open, []int64{4, 6}, ""},
		{"pending", pending, []int64{4}, "تأییدشده"},
		{"late", late, []int64{4}, "مهلت"},
		{"empty", open, []int64{}, "حداقل"},
		{"duplicate", open, []int64{5, 5}, "یک بار"},
		{"foreign", open, []int64{4, 7}, "متعلق"},
		{"over max", open, []int64{4, 5, 6}, "حداکثر 2"},
		{"single", single, []int64{4, 5}, "تک‌گزینه‌ای"},
	} {
		got := voteRefusal(tt.p, tt.ids, now)
		if (tt.want == "") != (got == "") || !strings.Contains(got, tt.want) {
			t.Errorf("%s: voteRefusal = %q, want one with %q", tt.name, got, tt.want)
		}
	}
}

// FuzzParseOptionIDs: option_ids is an integer or a list of integers;
// nothing else is accepted and nothing panics.
func FuzzParseOptionIDs(f *testing.F) {
	for _, s := range []string{`1`, `[1,2]`, `[]`, `null`, `"1"`, `["1"]`, `1.5`, `[1.0]`, `{"a":1}`, `[[1]]`, `99999999999999999999`, `-3`, `true`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		ids, ok := parseOptionIDs(json.RawMessage(raw))
		if !ok {
			return
		}
		if ids == nil {
			t.Fatalf("parseOptionIDs(%q) accepted with a nil list", raw)
		}
		var one int64
		var list []int64
		if json.Unmarshal([]byte(raw), &one) != nil && json.Unmarshal([]byte(raw), &list) != nil {
			t.Fatalf("parseOptionIDs(%q) accepted what is neither an integer nor a list of integers", raw)
		}
	})
}

// FuzzParseOptions: accepted options are 2..20 distinct, trimmed,
// non-empty texts of at most 255 code points.
func FuzzParseOptions(f *testing.F) {
	for _, s := range []string{`[{"text":"a"},{"text":"b"}]`, `["a","b","c"]`, `["a"," a "]`, `[{"text":null},{"text":"b"}]`, `[1,2]`, `"a,b"`, `[]`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		opts, e := parseOptions(json.RawMessage(raw))
		if e != nil {
			if e.field != "options" || e.msg == "" {
				t.Fatalf("parseOptions(%q): bad error %+v", raw, e)
			}
			return
		}
		if len(opts) < minPollOptions || len(opts) > maxPollOptions {
			t.Fatalf("parseOptions(%q) accepted %d options", raw, len(opts))
		}
		seen := map[string]bool{}
		for _, o := range opts {
			if o == "" || o != strings.TrimSpace(o) || utf8.RuneCountInString(o) > maxPollOption || seen[o] {
				t.Fatalf("parseOptions(%q) accepted option %q of %q", raw, o, opts)
			}
			seen[o] = true
		}
	})
}
