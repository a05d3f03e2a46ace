package graphsim

import (
	"errors"
	"net/http"

	"github.com/overshare/overshare/graphsim/tenant"
)

// lockedDrive answers a call on a locked or closed drive as SharePoint does
// (docs/graph-behaviour.md, "Drives: provisioning, locks and access"):
//   - a NoAccess lock: 423 notAllowed, inner code resourceLocked, on every
//     call (the drive itself, delta, permissions), also inside $batch;
//   - a ReadOnly lock: reads work; changing a permission answers 423 with
//     the top-level code accessDenied (the code a missing permission has)
//     and the inner code resourceLocked;
//   - a drive the app cannot open: 403 accessDenied "Access denied", the
//     very answer a missing application permission gets, so a client must
//     not read one from the other.
//
// Unknown or unprovisioned drives pass: their handlers answer 404.
func (s *Server) lockedDrive(rt *route) *gerr {
	if rt.drive == "" {
		return nil
	}
	lock, ok := s.tenant.DriveAccess(rt.drive)
	if !ok {
		return nil
	}
	switch {
	case lock == tenant.LockNoAccess:
		e := newErr(423, "notAllowed", "The resource you are attempting to access is locked")
		e.innerCode = "resourceLocked"
		return e
	case lock == tenant.LockReadOnly && rt.write:
		e := newErr(423, "accessDenied", "The resource you are attempting to access is locked")
		e.innerCode = "resourceLocked"
		return e
	case lock == tenant.LockAccessDenied:
		return newErr(403, "accessDenied", "Access denied")
	}
	return nil
}

// controlDrives serves the drive-state control calls; false when path is
// not one of them.
//
//	GET  /_sim/drives            every drive's lock and provisioning
//	POST /_sim/drives/lock       {"driveId","lock":"none|noAccess|readOnly|accessDenied"}
//	POST /_sim/drives/provision  {"userId"}: the user's OneDrive appears
//	POST /_sim/drives/reset      every drive open and provisioned (the
//	                             defaults switched off)
func (s *Server) controlDrives(w http.ResponseWriter, r *http.Request, path string) bool {
	switch r.Method + " " + path {
	case "GET /drives":
		writeJSON(w, 200, map[string]any{"drives": s.tenant.DriveStates()})
	case "POST /drives/lock":
		var in struct {
			DriveID string `json:"driveId"`
			Lock    string `json:"lock"`
		}
		if !decodeControl(w, r, &in) {
			return true
		}
		if err := s.tenant.SetDriveLock(in.DriveID, tenant.Lock(in.Lock)); err != nil {
			controlError(w, controlStatus(err), "BadRequest", err.Error())
			return true
		}
		writeJSON(w, 200, map[string]any{"driveId": in.DriveID, "lock": in.Lock})
	case "POST /drives/provision":
		var in struct {
			UserID string `json:"userId"`
		}
		if !decodeControl(w, r, &in) {
			return true
		}
		d, err := s.tenant.ProvisionDrive(in.UserID)
		if err != nil {
			controlError(w, controlStatus(err), "BadRequest", err.Error())
			return true
		}
		writeJSON(w, 200, map[string]any{"userId": in.UserID, "driveId": d.ID})
	case "POST /drives/reset":
		s.tenant.ClearDriveStates()
		writeJSON(w, 200, map[string]any{"drives": s.tenant.DriveStates()})
	default:
		return false
	}
	return true
}

func controlStatus(err error) int {
	if errors.Is(err, tenant.ErrNotFound) {
		return 404
	}
	return 400
}
