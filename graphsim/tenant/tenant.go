package tenant

import (
	"io"
	"sync"
)

// Tenant is the simulated tenant. STUB: replaced by the real implementation.
type Tenant struct {
	mu  sync.RWMutex
	cfg Config
}

func New(cfg Config) *Tenant                               { return &Tenant{cfg: cfg} }
func (t *Tenant) Config() Config                           { return t.cfg }
func (t *Tenant) UserCount() int                           { return 0 }
func (t *Tenant) UsersPage(start, n int) []User            { return nil }
func (t *Tenant) User(idOrUPN string) (User, bool)         { return User{}, false }
func (t *Tenant) Skus() []Sku                              { return nil }
func (t *Tenant) DriveOfUser(userID string) (Drive, bool)  { return Drive{}, false }
func (t *Tenant) Drive(id string) (Drive, bool)            { return Drive{}, false }
func (t *Tenant) Drives() []Drive                          { return nil }
func (t *Tenant) Item(driveID, itemID string) (Item, bool) { return Item{}, false }
func (t *Tenant) Delta(driveID, itemID, token string, opt DeltaOptions) (DeltaPage, error) {
	return DeltaPage{}, ErrNotFound
}
func (t *Tenant) Permissions(driveID, itemID string) ([]Permission, error) { return nil, ErrNotFound }
func (t *Tenant) DeletePermission(driveID, itemID, permID string) error    { return ErrNotFound }
func (t *Tenant) UpdatePermission(driveID, itemID, permID string, p PermissionPatch) (Permission, error) {
	return Permission{}, ErrNotFound
}
func (t *Tenant) Summary() Summary                             { return Summary{} }
func (t *Tenant) Export(w io.Writer) error                     { return nil }
func (t *Tenant) ApplyRandomChanges(seed int64, count int) int { return 0 }
func (t *Tenant) Apply(c Change) (ChangeResult, error)         { return ChangeResult{}, ErrNotFound }
func (t *Tenant) InvalidateDelta()                             {}
func (t *Tenant) OnDriveChange(fn func(driveID string))        {}
