package msgraph

import "time"

// The plain values below are all that leaves this package: no msgraph-sdk-go
// object escapes, so callers neither pay for the SDK's backing stores nor
// depend on its generated types. They carry exactly the fields Overshare
// stores.

// User is a directory user.
type User struct {
	ID                string
	DisplayName       string
	GivenName         string
	Surname           string
	UserPrincipalName string
	Mail              string
	JobTitle          string
	Department        string
	UserType          string // "Member" or "Guest"
	AccountEnabled    bool
	CreatedAt         time.Time // zero when Graph did not say
	ManagerID         string    // "" when the user has no manager
	Licenses          []License
}

// License is one assignedLicenses entry.
type License struct {
	SkuID         string
	DisabledPlans []string
}

// Identity is a user or group as Graph names them in identity sets.
type Identity struct {
	ID          string
	DisplayName string
	Email       string
	// Kind is "user", "group", "application", or "organization" for the
	// claims principal Everyone except external users (every member of the
	// tenant); "" when unknown.
	Kind string
	// External reports a person outside the organisation; see
	// (*Client).isExternal for the rule.
	External bool
}

// Quota is a drive's storage quota in bytes. State is normal, nearing,
// critical or exceeded.
type Quota struct {
	Total, Used, Remaining, Deleted int64
	State                           string
}

// Drive is a user's OneDrive.
type Drive struct {
	ID         string
	Name       string
	DriveType  string // personal | business | documentLibrary
	WebURL     string
	Owner      Identity
	CreatedAt  time.Time
	ModifiedAt time.Time
	Quota      Quota
}

// Shared is a driveItem's shared facet. Under Prefer: hierarchicalsharing an
// Empty facet means "this item is the root of its own permission hierarchy
// but has no sharing links or grants", which is different from having no facet
// at all (the item only inherits).
type Shared struct {
	Scope string // anonymous | organization | users; "" when Empty
	Empty bool
}

// DriveItem is one entry of a delta page.
type DriveItem struct {
	ID         string
	DriveID    string
	ParentID   string // "" for the root
	Name       string // "" for deleted items (OneDrive for Business drops it)
	IsRoot     bool
	IsFolder   bool
	Size       int64
	MimeType   string
	WebURL     string
	CreatedAt  time.Time
	ModifiedAt time.Time
	CreatedBy  Identity
	// LastModifiedBy is the last editor; zero when Graph did not say.
	LastModifiedBy Identity
	Deleted        bool
	Shared         *Shared // nil when the item carries no shared facet
	// SharedChanged is set when the item is in this round because its
	// sharing changed (Prefer: deltashowsharingchanges).
	SharedChanged bool
}

// DeltaPage is one page of a delta round. Exactly one of NextLink and
// DeltaLink is set: NextLink continues this round, DeltaLink is stored and
// followed later for the changes since.
type DeltaPage struct {
	Items     []DriveItem
	NextLink  string
	DeltaLink string
}

// Link is a permission's sharing link.
type Link struct {
	Type             string // view | edit | blocksDownload | review | ... (open set)
	Scope            string // anonymous | organization | users | existingAccess (open set)
	WebURL           string
	PreventsDownload bool
}

// Permission is one entry of an item's permissions list.
type Permission struct {
	ID        string
	Roles     []string // read | write | owner
	Link      *Link    // nil for direct grants
	ExpiresAt *time.Time
	// HasPassword is documented for OneDrive Personal only; false elsewhere.
	HasPassword bool
	// GrantedTo is who a direct grant is for (nil for links).
	GrantedTo *Identity
	// GrantedToIdentities are the people a "specific people" link was
	// granted to.
	GrantedToIdentities []Identity
	InvitationEmail     string
	// Inherited reports an inheritedFrom reference; InheritedFromID is the
	// item it points at, "" when Graph sent "inheritedFrom": {} (inherited
	// from somewhere it does not say). OneDrive for Business omits
	// inheritedFrom by default, so false does not prove the permission is
	// the item's own (see syncer's classify).
	InheritedFromID string
	Inherited       bool
}

// Identity kinds.
const (
	KindUser         = "user"
	KindGroup        = "group"
	KindApplication  = "application"
	KindOrganization = "organization"
)

// LimitedAccessRole is the role SharePoint lists for a principal that may
// reach something below an item but not the item itself ("SP.Limited
// Access"; Graph lowercases it in the field: compare case-insensitively).
const LimitedAccessRole = "sp.limited access"

// ExistingAccessScope is the link scope of "people with existing access"
// links, which grant nothing new.
const ExistingAccessScope = "existingAccess"

// everyoneClaim is in the claims login of "Everyone except external users".
const everyoneClaim = "spo-grid-all-users"

// RequestInfo describes one Graph request for metrics (Config.OnRequest). A
// $batch is reported once as Endpoint "batch" with the RU of all its parts,
// and once more per inner request with Batched set.
type RequestInfo struct {
	Method        string
	Endpoint      string // users | drive | delta | permissions | permission | batch | directory | other
	Status        int    // 0 when no response arrived
	ResourceUnits int
	Throttled     bool // 429 or 503
	Batched       bool
	Duration      time.Duration // 0 for batched parts
}

// Stats are running totals since New; safe to read at any time.
type Stats struct {
	Requests        int64 // HTTP requests sent, retries included ($batch counts once)
	BatchedRequests int64 // requests sent inside $batch, resubmissions included
	ResourceUnits   int64 // SharePoint resource units charged, by Microsoft's published costs
	Throttled       int64 // 429 and 503 answers seen, inside batches too
	ThrottledWait   time.Duration
	Retries         int64
}
