package sharing

import (
	"context"
	"strings"
	"time"

	"github.com/overshare/overshare/auth"
	"github.com/overshare/overshare/models"
	"github.com/overshare/overshare/sharing/change"
	"github.com/overshare/overshare/store"
)

// storeActor is who the item's sharing history names for a change made by actor.
func storeActor(actor auth.Principal) store.Actor {
	name := actor.Name
	if name == "" {
		name = actor.Email
	}
	return store.Actor{Subject: actor.Subject, Name: name}
}

// audit records one event for one permission.
func (s *Service) audit(ctx context.Context, actor auth.Principal, action string, item *models.DriveItem, p *models.Permission, o change.Outcome) error {
	name := actor.Name
	if name == "" {
		name = actor.Email
	}
	ev := &models.AuditEvent{
		IntegrationID: item.IntegrationID,
		ActorSubject:  actor.Subject,
		ActorName:     name,
		Action:        action,
		DriveID:       item.DriveID,
		ItemID:        item.ID,
		ItemName:      item.Name,
		ItemPath:      item.Path,
		PermissionID:  p.ID,
		LinkType:      p.LinkType,
		LinkScope:     p.Scope(),
		LinkWebURL:    p.LinkWebURL,
		GrantedTo:     grantedTo(p),
		Result:        o.Result,
		Message:       o.Message,
	}
	// The event must be written even when the caller has gone: the change in Microsoft 365
	// has happened.
	actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	if err := s.st.AddAuditEvent(actx, ev); err != nil {
		s.log.ErrorContext(ctx, "audit event not written", "action", action, "integration", item.IntegrationID,
			"item", item.ID, "permission", p.ID, "result", o.Result, "error", err)
		return err
	}
	return nil
}

// grantedTo says who a permission gives access to, in words.
func grantedTo(p *models.Permission) string {
	switch {
	case p.Scope() == models.LinkScopeAnonymous:
		return "anyone with the link"
	case p.Scope() == models.LinkScopeOrganization:
		return "everyone in the organisation with the link"
	case p.GrantedToDisplayName != "" || p.GrantedToEmail != "":
		return person(p.GrantedToDisplayName, p.GrantedToEmail)
	}
	var names []string
	for _, id := range p.GrantedToIdentities {
		names = append(names, person(id.DisplayName, id.Email))
	}
	if len(names) == 0 && p.InvitationEmail != "" {
		names = append(names, p.InvitationEmail)
	}
	return strings.Join(names, ", ")
}

func person(name, email string) string {
	switch {
	case name != "" && email != "":
		return name + " <" + email + ">"
	case name != "":
		return name
	}
	return email
}
