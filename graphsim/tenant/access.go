package tenant

import (
	"fmt"
	"math/rand/v2"
	"strings"
)

// Lock is what an administrator (or Microsoft) did to a OneDrive's site that
// changes what an application may do with it (docs/graph-behaviour.md,
// "Drives: provisioning, locks and access").
type Lock string

const (
	// LockNone: the drive is open.
	LockNone Lock = "none"
	// LockNoAccess: the site is locked with NoAccess; every call on the
	// drive answers 423.
	LockNoAccess Lock = "noAccess"
	// LockReadOnly: the site is locked ReadOnly; reads work, changing a
	// permission answers 423.
	LockReadOnly Lock = "readOnly"
	// LockAccessDenied: the app cannot open this drive (a site-level
	// restriction); every call on the drive answers 403.
	LockAccessDenied Lock = "accessDenied"
)

// ParseLock checks a lock name.
func ParseLock(s string) (Lock, error) {
	switch l := Lock(s); l {
	case LockNone, LockNoAccess, LockReadOnly, LockAccessDenied:
		return l, nil
	}
	return "", fmt.Errorf("%w: lock must be none, noAccess, readOnly or accessDenied, not %q", ErrInvalid, s)
}

// DriveState is a drive's access and provisioning, for tests and the
// control API; unprovisioned drives are invisible to Graph otherwise.
type DriveState struct {
	DriveID     string `json:"driveId"`
	OwnerUserID string `json:"ownerUserId"`
	Lock        Lock   `json:"lock"`
	Provisioned bool   `json:"provisioned"`
}

// driveStates is the per-drive lock and provisioning; guarded by Tenant.mu.
type driveStates struct {
	lock []Lock // by drive index
	late []bool // by drive index: the OneDrive is not provisioned yet
}

// Shares of a tenant's drives that start locked or unprovisioned. Each kind
// gets at least one drive while at least half of the drives stay plain, so
// a test tenant of a few users meets every kind and a large one a small,
// realistic fraction.
const (
	lateShare   = 0.01
	lockedShare = 0.005 // each of noAccess, accessDenied, readOnly
)

// pickDriveStates chooses, from the seed, the drives that start
// unprovisioned or locked. Drive 0 is never picked, so "the first drive" of
// a tenant is always an ordinary one.
func (t *Tenant) pickDriveStates() {
	n := len(t.drives)
	t.drv = driveStates{lock: make([]Lock, n), late: make([]bool, n)}
	for i := range t.drv.lock {
		t.drv.lock[i] = LockNone
	}
	if n < 2 {
		return
	}
	rng := rand.New(rand.NewPCG(uint64(t.cfg.Seed), 0x6c6f636b73))
	order := rng.Perm(n - 1)
	next, limit := 0, n/2
	take := func(share float64) []int {
		k := max(1, int(float64(n)*share))
		var out []int
		for ; k > 0 && next < len(order) && next < limit; k-- {
			out = append(out, order[next]+1)
			next++
		}
		return out
	}
	if !t.cfg.AllDrivesProvisioned {
		for _, i := range take(lateShare) {
			t.drv.late[i] = true
		}
	}
	if !t.cfg.NoDriveLocks {
		for _, l := range []Lock{LockNoAccess, LockAccessDenied, LockReadOnly} {
			for _, i := range take(lockedShare) {
				t.drv.lock[i] = l
			}
		}
	}
	for i, late := range t.drv.late {
		if late {
			t.users[t.drives[i].owner].HasDrive = false
		}
	}
}

// provisioned reports whether drive index i exists for Graph; t.mu held.
func (t *Tenant) provisioned(i int32) bool { return !t.drv.late[i] }

// DriveAccess says how Graph treats calls on a drive: its lock, and false
// when no drive has that id (or it is not provisioned yet).
func (t *Tenant) DriveAccess(driveID string) (Lock, bool) {
	d, ok := t.drive(driveID)
	if !ok {
		return "", false
	}
	t.mu.RLock()
	defer t.mu.RUnlock()
	if !t.provisioned(d.idx) {
		return "", false
	}
	return t.drv.lock[d.idx], true
}

// SetDriveLock locks or unlocks a drive.
func (t *Tenant) SetDriveLock(driveID string, l Lock) error {
	if _, err := ParseLock(string(l)); err != nil {
		return err
	}
	d, ok := t.drive(driveID)
	if !ok {
		return fmt.Errorf("drive %s: %w", driveID, ErrNotFound)
	}
	t.mu.Lock()
	t.drv.lock[d.idx] = l
	t.mu.Unlock()
	return nil
}

// ProvisionDrive creates the user's OneDrive (it was generated empty and
// kept hidden); provisioning a provisioned drive does nothing. ErrNotFound
// when the user has no licence for one.
func (t *Tenant) ProvisionDrive(userID string) (Drive, error) {
	u, ok := t.userIndex(userID)
	if !ok || t.userDrive[u] < 0 {
		return Drive{}, fmt.Errorf("OneDrive of user %s: %w", userID, ErrNotFound)
	}
	d := t.drives[t.userDrive[u]]
	t.mu.Lock()
	t.drv.late[d.idx] = false
	t.users[u].HasDrive = true
	v := t.driveValue(d)
	t.mu.Unlock()
	t.notify(d.id)
	return v, nil
}

// ClearDriveStates unlocks every drive and provisions every OneDrive: the
// tenant as if generated with NoDriveLocks and AllDrivesProvisioned.
func (t *Tenant) ClearDriveStates() {
	t.mu.Lock()
	for i := range t.drv.lock {
		t.drv.lock[i] = LockNone
		if t.drv.late[i] {
			t.drv.late[i] = false
			t.users[t.drives[i].owner].HasDrive = true
		}
	}
	t.mu.Unlock()
}

// DriveStates lists every drive's lock and provisioning, provisioned or not.
func (t *Tenant) DriveStates() []DriveState {
	t.mu.RLock()
	defer t.mu.RUnlock()
	out := make([]DriveState, len(t.drives))
	for i, d := range t.drives {
		out[i] = DriveState{DriveID: d.id, OwnerUserID: t.users[d.owner].ID, Lock: t.drv.lock[i], Provisioned: !t.drv.late[i]}
	}
	return out
}

func (t *Tenant) userIndex(idOrUPN string) (int32, bool) {
	if i, ok := t.userByID[strings.ToLower(idOrUPN)]; ok {
		return i, true
	}
	i, ok := t.userByUPN[strings.ToLower(idOrUPN)]
	return i, ok
}

// LicenceCount is the number of licences assigned in the tenant: what
// SharePoint sizes an app's throttling budget by.
func (t *Tenant) LicenceCount() int {
	n := 0
	for _, s := range t.skus {
		n += s.ConsumedUnits
	}
	return n
}
