package api

import "github.com/senfi-sharif/senfi/example/internal/data"

// GeneralCategory is the label every user sees ("University issues").
const GeneralCategory = "مسائل دانشگاهی"

// Faculties are the 13 faculty choices (reference §2.3), with Persian ی and ک.
var Faculties = []string{
	"فیزیک", "صنایع", "کامپیوتر", "برق", "عمران", "مواد", "مهندسی شیمی و نفت",
	"ریاضی", "هوافضا", "انرژی", "مدیریت و اقتصاد", "شیمی", "مکانیک",
}

// Dormitories are the dormitory choices; the last is the "not a resident"
// sentinel (data.NoDormitory).
var Dormitories = []string{"احمدی روشن", "طرشت ۲", "طرشت ۳", data.NoDormitory}

func isFaculty(v string) bool   { return contains(Faculties, v) }
func isDormitory(v string) bool { return contains(Dormitories, v) }

// isCategory: the general label, a faculty, or a real dormitory (the
// sentinel is refused as a campaign category, as HEAD does).
func isCategory(v string) bool {
	return v == GeneralCategory || isFaculty(v) || (isDormitory(v) && v != data.NoDormitory)
}

func contains(list []string, v string) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

// userCategories are the categories a signed-in non-admin sees and may post
// in: the general label, their faculty and their dormitory when set.
func userCategories(u data.User) []string {
	cats := []string{GeneralCategory}
	if u.Faculty != "" && u.Faculty != data.FacultyUnspecified {
		cats = append(cats, u.Faculty)
	}
	if u.Dormitory != "" && u.Dormitory != data.NoDormitory {
		cats = append(cats, u.Dormitory)
	}
	return cats
}
