// Package access says who may do what: the roles, the permissions each role
// has, and whether a caller reaches a site. The API asks it on every route;
// no handler decides access by itself.
package access

import (
	"fmt"
	"slices"
)

// Role is what a signed-in caller is.
type Role string

// Roles.
const (
	Admin       Role = "admin"        // sites, users, audit, webhooks; reads everything
	Evaluator   Role = "evaluator"    // pseudonymised records and summaries, every site
	SiteLead    Role = "site_lead"    // everything in their own sites
	Coordinator Role = "coordinator"  // children and forms in their own sites
	YoungPerson Role = "young_person" // one SCT response for one child, for a short time
)

// StaffRoles returns the roles a user account may have.
func StaffRoles() []Role { return []Role{Admin, Evaluator, SiteLead, Coordinator} }

// Valid reports whether r is a role a user account may have.
func (r Role) Valid() bool { return slices.Contains(StaffRoles(), r) }

// Permission is what a route lets a caller do.
type Permission string

// Permissions. PermPublic needs no token; PermSignedIn any valid token.
const (
	PermPublic        Permission = "public"
	PermSignedIn      Permission = "signed-in"
	PermChildRead     Permission = "child:read"
	PermChildWrite    Permission = "child:write"
	PermChildErase    Permission = "child:erase"
	PermResponseRead  Permission = "response:read"
	PermResponsePut   Permission = "response:put"
	PermSessionCreate Permission = "session:create"
	PermSummaryRead   Permission = "summary:read"
	PermSiteRead      Permission = "site:read"
	PermSiteManage    Permission = "site:manage"
	PermUserManage    Permission = "user:manage"
	PermAuditRead     Permission = "audit:read"
	PermExport        Permission = "export:read" // pseudonymised data files
	PermMaintain      Permission = "maintain"    // check and rebuild derived state
	PermWebhookManage Permission = "webhook:manage"
)

// Granted returns the permissions a role has.
func Granted(r Role) []Permission {
	switch r {
	case Admin:
		return []Permission{PermChildRead, PermResponseRead, PermChildErase, PermSiteRead, PermSiteManage, PermUserManage, PermAuditRead, PermMaintain, PermWebhookManage}
	case Evaluator:
		return []Permission{PermChildRead, PermResponseRead, PermSummaryRead, PermSiteRead, PermExport}
	case SiteLead:
		return []Permission{PermChildRead, PermChildWrite, PermResponseRead, PermResponsePut, PermSessionCreate, PermSummaryRead, PermSiteRead, PermExport}
	case Coordinator:
		return []Permission{PermChildRead, PermChildWrite, PermResponseRead, PermResponsePut, PermSessionCreate, PermSiteRead}
	case YoungPerson:
		return []Permission{PermResponseRead, PermResponsePut}
	}
	return nil
}

// Principal is the caller of one request.
type Principal struct {
	Subject string // user id, or "session:<id>" for a young person
	Email   string
	Role    Role
	Sites   []string
	TokenID string
	// Gen is a staff access token's token generation (see
	// store.User.TokenGen).
	Gen int
	// A young person's session reaches one response of one child.
	SessionID  string
	ChildID    string
	ResponseID string
}

// Can reports whether the principal has a permission.
func (p Principal) Can(perm Permission) bool {
	if perm == PermPublic || perm == PermSignedIn {
		return true
	}
	return slices.Contains(Granted(p.Role), perm)
}

// AllSites reports whether the principal reaches every site.
func (p Principal) AllSites() bool { return p.Role == Admin || p.Role == Evaluator }

// InSite reports whether the principal reaches a site.
func (p Principal) InSite(site string) bool {
	return p.AllSites() || slices.Contains(p.Sites, site)
}

// SeesNames reports whether the principal may see what identifies people:
// nominee names and free text. Evaluators see pseudonymised records only.
func (p Principal) SeesNames() bool { return p.Role != Evaluator }

// SeesNamesOfOwnSite reports whether the principal sees names in what is
// drawn from a child's answers (their map of people, then and now): the
// staff of the child's own site and the young person's own link do. Roles
// that reach every site (evaluators, administrators) see relationships
// only, as nominee names are for the child's own worker.
func (p Principal) SeesNamesOfOwnSite() bool { return p.SeesNames() && !p.AllSites() }

// SiteBound reports whether a role reaches only the sites it is given.
func (r Role) SiteBound() bool { return r == SiteLead || r == Coordinator }

// CheckAccountSites says what is wrong with giving an account a role and
// sites: a site-bound role needs sites, an all-sites role takes none.
func CheckAccountSites(r Role, sites []string) error {
	switch {
	case !r.Valid():
		return fmt.Errorf("role %q is not one of admin, evaluator, site_lead, coordinator", r)
	case r.SiteBound() && len(sites) == 0:
		return fmt.Errorf("a %s needs at least one site", r)
	case !r.SiteBound() && len(sites) > 0:
		return fmt.Errorf("a %s reaches every site; give no sites", r)
	}
	return nil
}
