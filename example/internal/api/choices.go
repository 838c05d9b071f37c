package api

import (
	"slices"

	"github.com/senfi-sharif/senfi/example/internal/data"
)

// GeneralCategory is the label every user sees ("University issues").
const GeneralCategory = "مسائل دانشگاهی"

// CouncilCategory is HEAD's 19th category, the General Council's ("شورای
// عمومی"). Its content is seen by council members and observers and by HEAD2;
// only members (and HEAD2) post, sign and vote in it, and ADMIN3 post in it as
// in every category.
const CouncilCategory = "شورای عمومی"

// moderatorRoles reach the moderation routes: ADMIN3 for every category, and
// the category-scoped faculty_member and dorm_member for the category of
// their own faculty or dormitory (see moderates).
var moderatorRoles = []string{RoleSuperadmin, RoleHead, RoleCenterMember, RoleFacultyMember, RoleDormMember}

// councilStatuses are the values of a user's council_member_status.
var councilStatuses = []string{data.CouncilMember, data.CouncilObserver, data.CouncilNone}

// Faculties are the 13 faculty choices (reference §2.3), with Persian ی and ک.
var Faculties = []string{
	"فیزیک", "صنایع", "کامپیوتر", "برق", "عمران", "مواد", "مهندسی شیمی و نفت",
	"ریاضی", "هوافضا", "انرژی", "مدیریت و اقتصاد", "شیمی", "مکانیک",
}

// Dormitories are the dormitory choices; the last is the "not a resident"
// sentinel (data.NoDormitory).
var Dormitories = []string{"احمدی روشن", "طرشت ۲", "طرشت ۳", data.NoDormitory}

func isFaculty(v string) bool   { return slices.Contains(Faculties, v) }
func isDormitory(v string) bool { return slices.Contains(Dormitories, v) }

// isCategory: the general label, a faculty, a real dormitory (the sentinel
// is refused as a category, as HEAD does), or the council's.
func isCategory(v string) bool {
	return v == GeneralCategory || v == CouncilCategory || isFaculty(v) || (isDormitory(v) && v != data.NoDormitory)
}

// allCategories are the 18 usable categories of HEAD (its 19 but the
// no-dormitory sentinel) in a stable order: the general one, the
// faculties, the real dormitories, the council's.
func allCategories() []string {
	cats := append([]string{GeneralCategory}, Faculties...)
	for _, d := range Dormitories {
		if d != data.NoDormitory {
			cats = append(cats, d)
		}
	}
	return append(cats, CouncilCategory)
}

// ownCategories are the general label and the user's faculty and dormitory
// when set.
func ownCategories(u data.User) []string {
	cats := []string{GeneralCategory}
	if ownFaculty(u) {
		cats = append(cats, u.Faculty)
	}
	if ownDormitory(u) {
		cats = append(cats, u.Dormitory)
	}
	return cats
}

func ownFaculty(u data.User) bool   { return u.Faculty != "" && u.Faculty != data.FacultyUnspecified }
func ownDormitory(u data.User) bool { return u.Dormitory != "" && u.Dormitory != data.NoDormitory }

// userCategories are the categories a signed-in non-admin sees: their own
// (ownCategories), and the council's for council members, observers and
// HEAD2.
func userCategories(u data.User) []string {
	cats := ownCategories(u)
	if seesCouncil(u) {
		cats = append(cats, CouncilCategory)
	}
	return cats
}

// postCategories are the categories a user may create content in: every
// category for ADMIN3; otherwise their own, and the council's for voting
// council members and HEAD2 (an observer has no vote, and a non-member none
// either: HEAD let both post there).
func postCategories(u data.User) []string {
	if slices.Contains(ADMIN3, u.Role) {
		return allCategories()
	}
	cats := ownCategories(u)
	if votesInCouncil(u) {
		cats = append(cats, CouncilCategory)
	}
	return cats
}

// seesCouncil: a council member or observer, or HEAD2.
func seesCouncil(u data.User) bool {
	return u.CouncilStatus == data.CouncilMember || u.CouncilStatus == data.CouncilObserver || slices.Contains(HEAD2, u.Role)
}

// votesInCouncil: a voting council member, or HEAD2.
func votesInCouncil(u data.User) bool {
	return u.CouncilStatus == data.CouncilMember || slices.Contains(HEAD2, u.Role)
}

// mayParticipate reports whether u may sign or vote in content of category
// (which they can see): anyone, except in the council's category, where
// only votesInCouncil may.
func mayParticipate(u data.User, category string) bool {
	return category != CouncilCategory || votesInCouncil(u)
}

// moderates reports whether u moderates content of category: ADMIN3 every
// category; a faculty_member their faculty's and a dorm_member their
// dormitory's (never the "unspecified" faculty or the "no dormitory"
// sentinel); nobody else any.
func moderates(u data.User, category string) bool {
	switch {
	case slices.Contains(ADMIN3, u.Role):
		return true
	case u.Role == RoleFacultyMember:
		return ownFaculty(u) && category == u.Faculty
	case u.Role == RoleDormMember:
		return ownDormitory(u) && category == u.Dormitory
	}
	return false
}

// moderatedCategories are the categories u moderates, for list queries: nil
// (every category) for ADMIN3, else the scoped category or none.
func moderatedCategories(u data.User) []string {
	if slices.Contains(ADMIN3, u.Role) {
		return nil
	}
	cats := []string{}
	switch {
	case u.Role == RoleFacultyMember && ownFaculty(u):
		cats = append(cats, u.Faculty)
	case u.Role == RoleDormMember && ownDormitory(u):
		cats = append(cats, u.Dormitory)
	}
	return cats
}
