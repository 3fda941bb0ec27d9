package accounts

import (
	"context"
	"fmt"
	"slices"

	"github.com/google/uuid"

	"github.com/lifelong-links/sct/internal/access"
	"github.com/lifelong-links/sct/internal/auth"
	"github.com/lifelong-links/sct/internal/form"
	"github.com/lifelong-links/sct/internal/store"
)

// NewUser is a staff account to create.
type NewUser struct {
	Email, Role, Password string
	Sites                 []string
}

// UserChange changes a staff account; nil fields stay as they are.
type UserChange struct {
	Role     *string
	Sites    []string
	Disabled *bool
	Password *string
}

// Users lists the staff accounts.
func (s *Service) Users(ctx context.Context) ([]store.User, error) { return s.store.Users(ctx) }

// CreateUser creates a staff account, with its password hashed.
func (s *Service) CreateUser(ctx context.Context, n NewUser) (store.User, error) {
	if err := s.checkAccount(ctx, access.Role(n.Role), n.Sites, n.Email, &n.Password); err != nil {
		return store.User{}, err
	}
	hash, err := s.hashPassword(ctx, n.Password)
	if err != nil {
		return store.User{}, err
	}
	return s.store.CreateUser(ctx, store.User{ID: uuid.NewString(), Email: n.Email, PasswordHash: hash, Role: n.Role, Sites: n.Sites})
}

// UpdateUser changes a staff account. Any change (disabled, a new
// password, another role or other sites) ends every sign-in the account
// has: its access tokens (on every instance within LiveFor, here at once),
// refresh tokens and calendar address.
func (s *Service) UpdateUser(ctx context.Context, id string, ch UserChange) (store.User, error) {
	u, err := s.store.User(ctx, id)
	if err != nil {
		return store.User{}, err
	}
	role, sites := access.Role(u.Role), u.Sites
	if ch.Role != nil {
		role = access.Role(*ch.Role)
	}
	if ch.Sites != nil {
		sites = ch.Sites
	}
	if err := s.checkAccount(ctx, role, sites, u.Email, ch.Password); err != nil {
		return store.User{}, err
	}
	change := store.UserChange{Role: ch.Role, Sites: ch.Sites, Disabled: ch.Disabled}
	if ch.Password != nil {
		hash, err := s.hashPassword(ctx, *ch.Password)
		if err != nil {
			return store.User{}, err
		}
		change.PasswordHash = &hash
	}
	u, err = s.store.UpdateUser(ctx, u.ID, change)
	if err != nil {
		return store.User{}, err
	}
	s.live.forget(u.ID)
	if err := s.store.RevokeUserTokens(ctx, u.ID); err != nil {
		return store.User{}, err
	}
	// The links the account made for sites it no longer reaches (all of
	// them, once it is disabled or may make none) end for good: undoing
	// the change does not bring them back. Until then, and on other
	// instances, every use checks the maker too (LinkMakerStands).
	if s.links != nil {
		maker := access.Principal{Role: access.Role(u.Role), Sites: u.Sites}
		var keep []string // the sites whose links stand
		switch {
		case u.Disabled || !maker.Can(access.PermSessionCreate):
			keep = []string{}
		case !maker.AllSites():
			keep = u.Sites
		}
		if keep != nil {
			if _, err := s.links.SpendSessionsMadeBy(ctx, u.ID, keep); err != nil {
				return store.User{}, err
			}
		}
	}
	return u, nil
}

// checkAccount checks what validate tags cannot: a site-bound role needs
// sites that exist, an all-sites role has none, and the password is strong
// enough and not built from the account's email.
func (s *Service) checkAccount(ctx context.Context, role access.Role, sites []string, email string, password *string) error {
	var faults []form.FieldError
	if err := access.CheckAccountSites(role, sites); err != nil {
		faults = append(faults, form.FieldError{Path: "sites", Reason: err.Error()})
	}
	for i, site := range sites {
		if slices.Contains(sites[:i], site) {
			faults = append(faults, form.FieldError{Path: fmt.Sprintf("sites[%d]", i), Reason: "repeats " + site + "; name each site once"})
			continue
		}
		ok, err := s.store.SiteExists(ctx, site)
		if err != nil {
			return err
		}
		if !ok {
			faults = append(faults, form.FieldError{Path: "sites", Reason: "no site " + site + "; create it first"})
		}
	}
	if password != nil {
		if err := auth.ValidatePassword(*password, email); err != nil {
			faults = append(faults, form.FieldError{Path: "password", Reason: err.Error()})
		}
	}
	if len(faults) > 0 {
		return &form.RequestError{Faults: faults}
	}
	return nil
}
