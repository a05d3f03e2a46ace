// Package tenant holds the state of one simulated Microsoft 365 tenant: its
// directory (users, licences), OneDrive drives, drive items, sharing
// permissions and the per-drive change journal that delta queries read.
//
// It knows nothing about HTTP: package graphsim turns these values into Graph
// JSON. Everything here is deterministic for a given Config.Seed, and safe for
// concurrent use (one RWMutex; reads share it).
//
// CONTRACT: the exported names in this file are relied upon by package
// graphsim (HTTP) and by tests elsewhere. Change them only together. The
// Export* types in export.go (the NDJSON line shapes) are part of it too.
package tenant

import (
	"errors"
	"time"
)

// Config describes the synthetic tenant to generate.
type Config struct {
	TenantID     string  // GUID; generated from Seed when empty
	Domain       string  // e.g. "contoso.onmicrosoft.com"; derived when empty
	Seed         int64   // everything below is deterministic for a seed
	Users        int     // number of directory users, members and guests together
	FilesPerUser int     // average number of files (not folders) per OneDrive
	ShareRatio   float64 // fraction of items that carry sharing of their own (0..1)
	// InheritedFrom says how listed inherited entries carry inheritedFrom:
	// "" or InheritedFromAbsent (OneDrive for Business: never), InheritedFromEmpty
	// ("inheritedFrom": {}), InheritedFromLinks (full reference on links only)
	// or InheritedFromFull (full reference on every inherited entry).
	InheritedFrom string
	// PlainPermissions generates no permission kinds of the field
	// (existingAccess links, limited access, Everyone except external users,
	// applications): only links, direct grants and the owner.
	PlainPermissions bool
	// Lenient switches off, one by one, the field behaviours of Graph that
	// the simulator models by default (docs/graph-behaviour.md). The zero
	// value is the harsh default.
	Lenient Lenient
	// NoDriveLocks leaves every drive open; by default a few drives start
	// locked (noAccess, readOnly) or closed to the app (accessDenied).
	NoDriveLocks bool
	// AllDrivesProvisioned provisions every licensed member's OneDrive; by
	// default a few start unprovisioned (404 "User's mysite not found")
	// until ProvisionDrive.
	AllDrivesProvisioned bool
	// Now is the moment of generation: generated timestamps lie before it and
	// link expiries around it (some passed last month, some come next week).
	// Zero means time.Now() when New runs; a seed and a Now give the same tenant.
	Now time.Time
	// ReportLinkPasswords makes hasPassword tell the truth, as OneDrive
	// Personal does. By default hasPassword is false whatever the link has, as
	// OneDrive for Business reports it (see docs/graph-behaviour.md).
	ReportLinkPasswords bool
	// LinkPolicy is the tenant's expiry policy for anonymous links; the zero
	// value is the default, on with DefaultAnyoneLinkMaxDays.
	LinkPolicy LinkPolicy
}

// DefaultAnyoneLinkMaxDays is the simulated tenant's maximum lifetime of an
// anonymous link unless configured otherwise.
const DefaultAnyoneLinkMaxDays = 30

// LinkPolicy is SharePoint's "These links must expire within this many days"
// setting for Anyone links (RequireAnonymousLinksExpireInDays). Under it a
// PATCH of an expiry beyond the maximum is silently shortened to it, clearing
// the expiry is refused, and new anonymous links get an expiry within it.
type LinkPolicy struct {
	Off     bool `json:"off"`
	MaxDays int  `json:"maxDays"` // 0 = DefaultAnyoneLinkMaxDays
}

// maxDays is the policy's maximum lifetime in days, 0 when it is off.
func (p LinkPolicy) maxDays() int {
	switch {
	case p.Off:
		return 0
	case p.MaxDays <= 0:
		return DefaultAnyoneLinkMaxDays
	}
	return p.MaxDays
}

// Values of Config.InheritedFrom.
const (
	InheritedFromAbsent = "absent"
	InheritedFromEmpty  = "empty"
	InheritedFromLinks  = "links"
	InheritedFromFull   = "full"
)

// LimitedAccessRole is the role SharePoint lists for a principal that can
// reach something below an item but not the item itself.
const LimitedAccessRole = "sp.limited access"

// ExistingAccessScope is the scope of a "people with existing access" link.
const ExistingAccessScope = "existingAccess"

// EveryoneExceptExternalUsers is the display name of the claims principal
// spo-grid-all-users: every member of the organisation.
const EveryoneExceptExternalUsers = "Everyone except external users"

// Identity is the user/group part of a Graph identitySet.
type Identity struct {
	ID          string
	DisplayName string
	Email       string // empty for groups without mail
}

// License is one assignedLicenses entry.
type License struct {
	SkuID         string
	DisabledPlans []string
}

// User is a directory user as GET /users returns it.
type User struct {
	ID                string // GUID
	DisplayName       string
	GivenName         string
	Surname           string
	UserPrincipalName string // guests: alice_fabrikam.com#EXT#@contoso.onmicrosoft.com
	Mail              string
	JobTitle          string
	Department        string
	UserType          string // "Member" or "Guest"
	AccountEnabled    bool
	CreatedDateTime   time.Time
	ManagerID         string // "" when none
	AssignedLicenses  []License
	HasDrive          bool // false: GET /users/{id}/drive answers 404
}

// Domain is one of the organization's verifiedDomains.
type Domain struct {
	Name      string
	IsDefault bool
	IsInitial bool   // <company>.onmicrosoft.com, the domain the tenant was created with
	Type      string // Managed
	// Alias marks a domain no user's UPN or mail uses: only some groups'
	// addresses are on it, so guessing the tenant's domains from the users'
	// addresses calls it external.
	Alias bool
}

// Sku is one subscribedSku.
type Sku struct {
	SkuID            string
	SkuPartNumber    string
	CapabilityStatus string // "Enabled"
	ConsumedUnits    int
	PrepaidEnabled   int
}

// Quota is a drive's quota facet; State is normal | nearing | critical | exceeded.
type Quota struct {
	Total, Used, Remaining, Deleted int64
	State                           string
}

// Drive is a user's OneDrive for Business ("business").
type Drive struct {
	ID                   string // "b!" + 64 url-safe characters
	Name                 string // "OneDrive"
	DriveType            string // "business"
	WebURL               string
	Owner                Identity
	OwnerUserID          string
	CreatedDateTime      time.Time
	LastModifiedDateTime time.Time
	Quota                Quota
	RootID               string
}

// SharedFacet is the driveItem "shared" facet. Empty reports "shared": {}.
type SharedFacet struct {
	Empty          bool
	Scope          string // anonymous | organization | users
	Owner          *Identity
	SharedDateTime time.Time
}

// Item is a driveItem as delta returns it. For a deleted item only ID,
// DriveID, ParentID and Deleted are set (OneDrive for Business drops the name).
type Item struct {
	ID                   string
	DriveID              string
	ParentID             string // "" for the root
	Name                 string
	Root                 bool
	Folder               bool
	ChildCount           int // folders only
	Size                 int64
	MimeType             string // files only
	WebURL               string
	CreatedDateTime      time.Time
	LastModifiedDateTime time.Time
	CreatedBy            Identity
	LastModifiedBy       Identity
	Deleted              bool
	// Path of the item inside its drive, "/" for the root, "/Folder/file.docx"
	// otherwise. Graph does not return it in delta; the export has it so a
	// sync engine's computed paths can be compared.
	Path string
	// Set only on delta results, according to DeltaOptions.
	Shared        *SharedFacet // nil: no shared facet in the JSON
	SharedChanged bool         // "@microsoft.graph.sharedChanged": "True"
}

// Link is a permission's sharingLink.
type Link struct {
	Type             string // view | edit | blocksDownload | review | ...
	Scope            string // anonymous | organization | users
	WebURL           string
	PreventsDownload bool
}

// ItemReference is a permission's inheritedFrom.
type ItemReference struct {
	DriveID string
	ID      string
	Path    string // "/drives/{drive-id}/root:" or "/drives/{drive-id}/root:/Folder"
}

// Invitation is set on grants to people invited by e-mail (guests).
type Invitation struct {
	Email          string
	SignInRequired bool
}

// Permission is one entry of GET .../permissions. A zero ExpirationDateTime
// means no expiry (Graph prints "0001-01-01T00:00:00Z").
type Permission struct {
	ID                 string
	Roles              []string // read | write | owner
	Link               *Link    // nil for direct grants
	ExpirationDateTime time.Time
	// HasPassword is what Graph reports: false on OneDrive for Business
	// unless Config.ReportLinkPasswords. PasswordSet is the simulator's truth.
	HasPassword bool
	PasswordSet bool
	// Direct grants: the user or group. Links to specific people: the people
	// the link was granted to (GrantedToIdentities).
	GrantedToUser       *Identity
	GrantedToGroup      *Identity
	GrantedToIdentities []Identity
	Guest               bool // the grantee is outside the tenant (guest or external address)
	Invitation          *Invitation
	// GrantedToApplication is the application of an application grant.
	GrantedToApplication *Identity
	// EveryoneExceptExternal marks a grant to the claims principal
	// "Everyone except external users" (spo-grid-all-users).
	EveryoneExceptExternal bool
	// InheritedFrom is nil for the item's own entries and for inherited ones
	// when the mode omits it; a zero ItemReference is Graph's "inheritedFrom": {}.
	InheritedFrom *ItemReference
	ShareID       string // links only
	// LoginName is the claims login of a grant's principal ("" for links).
	LoginName string
}

// PermissionPatch is the body of PATCH .../permissions/{id}. Nil fields are absent.
type PermissionPatch struct {
	Roles              []string   // allowed on direct user grants only
	ExpirationDateTime *time.Time // allowed on anonymous links only
	Other              []string   // names of any other properties present: always rejected
}

// DeltaOptions are the delta query's Prefer headers and $top.
type DeltaOptions struct {
	HierarchicalSharing    bool
	ShowSharingChanges     bool
	ShowRemovedAsDeleted   bool
	TraversePermissionGaps bool
	Top                    int // page size hint; 0 = default (200); capped at 1000
	// ScopedDown: the caller's token lacks Sites.FullControl.All. Graph does
	// not refuse; it leaves out sharedChanged and the shared facets of
	// sharing done by others (Lenient.DenyWithoutFullControl aside, which
	// graphsim answers with 403 instead).
	ScopedDown bool
}

// DeltaPage is one page of a delta round. Exactly one of NextToken and
// DeltaToken is set. Tokens are opaque, URL-safe strings.
type DeltaPage struct {
	Items      []Item
	NextToken  string
	DeltaToken string
}

// Summary is what GET /_sim/summary answers. See the simulator issue for the
// exact meaning of each count.
type Summary struct {
	Users              int            `json:"users"`
	Drives             int            `json:"drives"`
	Items              int            `json:"items"`
	SharedItems        int            `json:"sharedItems"`
	Permissions        int            `json:"permissions"`
	PermissionsByScope map[string]int `json:"permissionsByScope"` // anonymous, organization (links and Everyone except external users), users, direct (people, groups, applications)
}

// Change is one explicit change for Apply. Op is one of: create, rename, move,
// delete, share, unshare, changeLink, inherit. Fields used depend on Op.
// inherit makes an item inherit its parent's sharing again (SharePoint's
// "delete unique permissions"): its own entries are dropped.
type Change struct {
	Op       string `json:"op"`
	DriveID  string `json:"driveId"`
	ItemID   string `json:"itemId,omitempty"`   // rename, move, delete, share, unshare, changeLink
	ParentID string `json:"parentId,omitempty"` // create, move
	Name     string `json:"name,omitempty"`     // create, rename
	Folder   bool   `json:"folder,omitempty"`   // create
	// share: the sharing to add.
	LinkType string `json:"linkType,omitempty"` // share with a link: view | edit | ...
	// Scope of a share: anonymous | organization | users | direct, or a kind
	// of the field: existingAccess | everyone (Everyone except external
	// users) | application | limitedAccess.
	Scope     string `json:"scope,omitempty"`
	GranteeID string `json:"granteeId,omitempty"` // share with scope users|direct|limitedAccess: a user id; application: an app id
	// unshare / changeLink: the permission (unshare with empty PermissionID removes all own sharing).
	PermissionID string     `json:"permissionId,omitempty"`
	ExpiresAt    *time.Time `json:"expiresAt,omitempty"` // share (anonymous), changeLink; zero time clears
	// Added after the first contract; all optional.
	Size        int64  `json:"size,omitempty"`        // create (files): bytes; 0 picks a plausible size
	Role        string `json:"role,omitempty"`        // share with scope direct: read (default) | write
	HasPassword bool   `json:"hasPassword,omitempty"` // share with scope anonymous
}

// ChangeResult says what Apply did, for the control API's answer.
type ChangeResult struct {
	ItemID       string `json:"itemId,omitempty"`
	PermissionID string `json:"permissionId,omitempty"`
}

var (
	// ErrNotFound: unknown user, drive, item or permission.
	ErrNotFound = errors.New("not found")
	// ErrInherited: DELETE or PATCH of a permission the item inherits.
	ErrInherited = errors.New("permission is inherited")
	// ErrInvalid wraps a rejected request; its message is shown to the client.
	ErrInvalid = errors.New("invalid request")
	// ErrDeltaNotSupported: delta on a folder other than the root (OneDrive for Business).
	ErrDeltaNotSupported = errors.New("delta is only supported on the root folder")
)

// ResyncError is returned by Delta when a token was invalidated. FreshToken
// starts a new full enumeration (the Location header of Graph's 410);
// Variant says how Graph words the answer (see ResyncVariants).
type ResyncError struct {
	FreshToken string
	Variant    ResyncVariant
}

func (e *ResyncError) Error() string { return "resync required" }

// The Tenant methods (implemented in tenant.go and friends):
//
//	func New(cfg Config) *Tenant
//	func (t *Tenant) Config() Config
//	// Directory
//	func (t *Tenant) UserCount() int
//	func (t *Tenant) UsersPage(start, n int) []User          // stable order; start is an index
//	func (t *Tenant) User(idOrUPN string) (User, bool)
//	func (t *Tenant) Skus() []Sku
//	// Drives
//	func (t *Tenant) DriveOfUser(userID string) (Drive, bool)
//	func (t *Tenant) Drive(id string) (Drive, bool)
//	func (t *Tenant) Drives() []Drive
//	func (t *Tenant) Item(driveID, itemID string) (Item, bool) // "root" is an alias of the root id
//	// Delta. itemID is "root" or the root's id, else ErrDeltaNotSupported.
//	// token: "" starts a full enumeration, "latest" answers an empty page with a
//	// DeltaToken, anything else is a NextToken or DeltaToken given before.
//	// Unknown or malformed token: ErrInvalid. Invalidated: *ResyncError.
//	func (t *Tenant) Delta(driveID, itemID, token string, opt DeltaOptions) (DeltaPage, error)
//	// Permissions
//	func (t *Tenant) Permissions(driveID, itemID string) ([]Permission, error)
//	func (t *Tenant) DeletePermission(driveID, itemID, permID string) error
//	func (t *Tenant) UpdatePermission(driveID, itemID, permID string, p PermissionPatch) (Permission, error)
//	// Control
//	func (t *Tenant) Summary() Summary
//	func (t *Tenant) Export(w io.Writer) error            // NDJSON, see export.go
//	func (t *Tenant) ApplyRandomChanges(seed int64, count int) int
//	func (t *Tenant) Apply(c Change) (ChangeResult, error)
//	func (t *Tenant) InvalidateDelta()                    // every issued token answers *ResyncError
//	func (t *Tenant) OnDriveChange(fn func(driveID string)) // called after each committed change, outside the lock
