// Package change is the vocabulary of a change of sharing, shared by the service that makes it
// (package sharing) and the API that asks for it (package graph, whose Sharing interface is
// written in these types): which permissions to remove, what happened to each, what setting a
// link's expiry did, and the kinds of failure. It holds types only, so that graph names them
// without importing the service (and through it msgraph and the Graph SDK), and sharing
// answers in them without knowing GraphQL: graph/errors.go picks the GraphQL code of a Kind.
package change

import (
	"time"

	"github.com/overshare/overshare/models"
)

// Item names an item and which of its permissions to remove: with All, every permission of
// the item's own that is sharing (PermissionIDs is ignored); otherwise exactly the listed Graph
// ids, so an empty list removes nothing.
type Item struct {
	ItemID        string
	All           bool
	PermissionIDs []string
}

// Outcome is what happened to one permission.
type Outcome struct {
	ItemID       string
	PermissionID string
	// Result is models.AuditRemoved, models.AuditAlreadyRemoved or models.AuditFailed.
	Result string
	// Message says what happened, in words: "Confirmed removed: …", or why it failed and what
	// is still there.
	Message string
	// Confirmed is true when the item's permissions, read again after the removal, no longer
	// list the permission.
	Confirmed bool
}

// Failed reports whether the permission is still there (Result models.AuditFailed); any other
// outcome means it is gone.
func (o Outcome) Failed() bool { return o.Result == models.AuditFailed }

// AlreadyRemoved reports whether Microsoft 365 (or an earlier call) had removed it already.
func (o Outcome) AlreadyRemoved() bool { return o.Result == models.AuditAlreadyRemoved }

// LinkExpiry is what setting a link's expiry did: the updated row, and in words the expiry
// Microsoft 365 applied, which a tenant's policy for Anyone links may have made earlier than the
// one asked for without refusing it (Limited).
type LinkExpiry struct {
	Permission *models.Permission
	Requested  *time.Time // nil: clear
	Limited    bool
	Message    string
}

// Kind is what kind of failure an Error is, for the caller to choose its answer (the way
// msgraph.Kind classifies Graph's errors).
type Kind int

// Kinds of failure.
const (
	// Invalid: the change cannot be made as asked, and asking again will not help: refused
	// before calling Graph (an inherited permission, a link that takes no expiry, a date in the
	// past, missing or wrong credentials), or refused by Graph for what was asked.
	Invalid Kind = iota + 1
	// NotFound: what the change names is gone from Microsoft 365.
	NotFound
	// GraphFailed: Microsoft Graph could not be reached, or answered unexpectedly.
	GraphFailed
)

func (k Kind) String() string {
	switch k {
	case Invalid:
		return "invalid"
	case NotFound:
		return "not found"
	case GraphFailed:
		return "Graph failed"
	}
	return "unknown"
}

// Error is a failure whose Message is written for people and holds no secret, so that it may
// be shown to the caller as is.
type Error struct {
	Kind    Kind
	Message string
	Err     error // the cause, for logs; nil when none
}

func (e *Error) Error() string { return e.Message }
func (e *Error) Unwrap() error { return e.Err }
