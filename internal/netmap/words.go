package netmap

// Words are the map's own wordings, keyed as the static page's map module
// keys them, so that both can be translated from one list. Relationship
// labels here are short, to fit under a person on a phone; the form's own
// labels stay in the form definition.
type Words map[string]string

// English returns the map's wordings in English.
func English() Words {
	return Words{
		"title":                        "Map of the young person's people",
		"title_when":                   "Map of the young person's people: %s",
		"me":                           "Me",
		"ring_1":                       "Inner circle: most important people",
		"ring_2":                       "Middle circle: others they would go to for help",
		"ring_3":                       "Outer circle: everyone else they named",
		"ring_1_short":                 "Most important",
		"ring_2_short":                 "Would go to for help",
		"ring_3_short":                 "Also important",
		"nobody":                       "No one named",
		"names_hidden":                 "Names are not shown.",
		"legend":                       "Key",
		"no_name":                      "(no name)",
		"not_said":                     "Not said",
		"baseline":                     "Baseline",
		"draft":                        "draft",
		"follow_up":                    "Follow-up %d",
		"people_count":                 "%d people",
		"group_family":                 "Family",
		"group_foster_family":          "Foster family",
		"group_friends":                "Friends",
		"group_school":                 "School",
		"group_workers":                "Workers",
		"group_other":                  "Someone else",
		"rel_biological_mother":        "Birth mother",
		"rel_biological_father":        "Birth father",
		"rel_sibling":                  "Sibling",
		"rel_grandparent":              "Grandparent",
		"rel_other_relative":           "Relative",
		"rel_step_parent":              "Step-parent",
		"rel_foster_carer_current":     "Foster carer",
		"rel_foster_family_member":     "Foster family",
		"rel_former_foster_carer":      "Former carer",
		"rel_friend":                   "Friend",
		"rel_school_staff":             "School staff",
		"rel_social_care_professional": "Social care",
		"rel_former_professional":      "Past worker",
		"rel_lifelong_links_worker":    "Links worker",
		"rel_other":                    "Other",
	}
}

// get returns a wording, or its key when it has none (a missing wording
// shows, rather than an empty label).
func (w Words) get(key string) string {
	if s, ok := w[key]; ok {
		return s
	}
	return key
}
