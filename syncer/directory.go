package syncer

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/overshare/overshare/models"
	"github.com/overshare/overshare/msgraph"
)

// driveRef is what the items phase needs of a drive.
type driveRef struct {
	id, owner string
	marked    bool // stored as not readable: cleared when its round completes
}

// directory runs the users and drives phases and returns the drives to sync.
// Before its first write it proves that Graph answers every kind of call the
// sync needs (see preflight), so a failure leaves no tenant rows behind.
func (r *run) directory(ctx context.Context) ([]driveRef, *prefetched, error) {
	r.setPhase(ctx, PhaseUsers, -1)
	listStart := time.Now().UTC().Add(-time.Second)
	var pre *prefetched
	checked := false
	err := r.gc.ListUsers(ctx, func(us []msgraph.User) error {
		members := make([]string, 0, len(us))
		for _, u := range us {
			if u.UserType != models.UserTypeGuest {
				members = append(members, u.ID)
			}
		}
		lookup := members
		if !r.full {
			var err error
			if lookup, err = r.usersToLookUp(ctx, members); err != nil {
				return err
			}
		}
		var drives map[string]*msgraph.Drive
		var closed map[string]*msgraph.Error
		if len(lookup) > 0 {
			var err error
			if drives, closed, err = r.gc.UserDrives(ctx, lookup); err != nil {
				return err
			}
		}
		if !checked {
			for _, id := range lookup {
				if d := drives[id]; d != nil {
					p, err := r.prefetch(ctx, d.ID)
					if msgraph.KindOf(err).DriveInaccessible() {
						continue // the items phase skips and records it
					}
					if err != nil {
						return err
					}
					pre = p
					checked = true
					break
				}
			}
		}
		return r.writeDirectoryPage(ctx, us, lookup, drives, closed)
	})
	if err != nil {
		return nil, nil, err
	}
	r.setPhase(ctx, PhaseDrives, -1)
	if _, err := r.st.DeleteUsersSyncedBefore(ctx, r.integ.ID, listStart); err != nil {
		return nil, nil, err
	}
	if r.full {
		// A full run re-read every member's drive; the others are gone.
		if _, err := r.st.DeleteDrivesSyncedBefore(ctx, r.integ.ID, listStart); err != nil {
			return nil, nil, err
		}
	}
	stored, err := r.st.Drives(ctx, r.integ.ID)
	if err != nil {
		return nil, nil, err
	}
	refs := make([]driveRef, 0, len(stored))
	for _, d := range stored {
		if models.IsUnknownDriveID(d.ID) {
			// A OneDrive whose lookup answered locked or closed: nothing to
			// read; its owner is looked up again next run.
			r.unknownDrives++
			continue
		}
		refs = append(refs, driveRef{id: d.ID, owner: d.OwnerUserID, marked: d.Access != models.DriveReadable})
	}
	return refs, pre, nil
}

// usersToLookUp returns the members whose drive must be looked up: never
// looked up (new users, or users stored before a lookup finished), without
// a OneDrive for longer than the re-check interval, or whose OneDrive could
// not be looked up last time.
func (r *run) usersToLookUp(ctx context.Context, members []string) ([]string, error) {
	unknown, err := r.st.UsersDueForDriveCheck(ctx, r.integ.ID, members, time.Now().Add(-r.s.cfg.DriveRecheckInterval))
	if err != nil {
		return nil, err
	}
	stored, err := r.st.SyncUsersKnown(ctx, r.integ.ID, members)
	if err != nil {
		return nil, err
	}
	out := unknown
	for _, id := range members {
		if !stored[id] {
			out = append(out, id)
		}
	}
	return out, nil
}

// writeDirectoryPage stores one page of users and the drives looked up for
// them.
func (r *run) writeDirectoryPage(ctx context.Context, us []msgraph.User, lookup []string, drives map[string]*msgraph.Drive, closed map[string]*msgraph.Error) error {
	at := time.Now().UTC()
	rows := make([]models.User, 0, len(us))
	for _, u := range us {
		rows = append(rows, userModel(r.integ.ID, u, at))
	}
	if err := r.st.UpsertUsers(ctx, r.integ.ID, rows); err != nil {
		return err
	}
	var found []models.Drive
	var none []string
	for _, id := range lookup {
		if e := closed[id]; e != nil {
			r.log.Info("OneDrive not readable, skipped", "user", id, "reason", e.Message)
			if err := r.st.MarkOwnerDriveInaccessible(ctx, r.integ.ID, id, driveAccess(e), e.Message, at); err != nil {
				return err
			}
			continue
		}
		if d := drives[id]; d != nil {
			found = append(found, driveModel(r.integ.ID, id, d, at))
		} else {
			none = append(none, id)
		}
	}
	if err := r.upsertDrives(ctx, found); err != nil {
		return err
	}
	if len(none) > 0 {
		if err := r.st.MarkUsersWithoutDrive(ctx, r.integ.ID, none); err != nil {
			return err
		}
	}
	r.mu.Lock()
	r.row.DrivesTotal += int64(len(found))
	r.mu.Unlock()
	r.progressed(ctx)
	return nil
}

// upsertDrives writes drives; the store keeps the root ids learnt from delta.
func (r *run) upsertDrives(ctx context.Context, drives []models.Drive) error {
	if len(drives) == 0 {
		return nil
	}
	return r.st.UpsertDrives(ctx, r.integ.ID, drives)
}

// rereadDrives reads again the drives (quota) of the given owners.
func (r *run) rereadDrives(ctx context.Context, owners []string) error {
	if len(owners) == 0 {
		return nil
	}
	drives, _, err := r.gc.UserDrives(ctx, owners)
	if err != nil {
		return fmt.Errorf("read changed drives: %w", err)
	}
	at := time.Now().UTC()
	var found []models.Drive
	for _, id := range owners {
		if d := drives[id]; d != nil {
			found = append(found, driveModel(r.integ.ID, id, d, at))
		}
	}
	return r.upsertDrives(ctx, found)
}

// driveAccess is the stored state for a drive that could not be read.
func driveAccess(err error) models.DriveAccess {
	var e *msgraph.Error
	if errors.As(err, &e) && e.Kind == msgraph.NoAccess {
		return models.DriveNoAccess
	}
	return models.DriveLocked
}
