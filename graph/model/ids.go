package model

import (
	"encoding/base64"
	"fmt"
	"strings"
)

// Global IDs are opaque to clients: base64url("Type:part:part…"), where the parts are the row's
// key — the integration id and the Graph id for synced rows, plus the item id for a permission
// (inherited permissions repeat the ancestor's Graph id on every item). ':' and '%' inside a
// part are percent-escaped, so Graph ids of any shape round-trip. This file is the whole codec:
// EncodeID makes them, DecodeID and DecodeAnyID read them.

// Node types.
const (
	TypeIntegration = "Integration"
	TypeUser        = "User"
	TypeDrive       = "Drive"
	TypeDriveItem   = "DriveItem"
	TypePermission  = "Permission"
	TypeSyncRun     = "SyncRun"
	TypeAuditEvent  = "AuditEvent"
	// TypeSharingEvent's key is the integration id and the event's number.
	TypeSharingEvent = "SharingEvent"
)

// idParts is the number of key parts of each node type.
var idParts = map[string]int{
	TypeIntegration:  1,
	TypeUser:         2,
	TypeDrive:        2,
	TypeDriveItem:    2,
	TypePermission:   3,
	TypeSyncRun:      1,
	TypeAuditEvent:   1,
	TypeSharingEvent: 2,
}

var (
	idEscaper   = strings.NewReplacer("%", "%25", ":", "%3A")
	idUnescaper = strings.NewReplacer("%3A", ":", "%25", "%")
)

// EncodeID returns the global ID of the row of type typ whose key is parts.
func EncodeID(typ string, parts ...string) string {
	// Built on the stack for the usual key sizes: the returned string is the one allocation.
	var raw, enc [192]byte
	b := append(raw[:0], typ...)
	for _, p := range parts {
		b = append(b, ':')
		if strings.ContainsAny(p, ":%") {
			p = idEscaper.Replace(p)
		}
		b = append(b, p...)
	}
	return string(base64.RawURLEncoding.AppendEncode(enc[:0], b))
}

// IDError is a caller's ID that this API did not issue, or of another type than the argument
// takes. Its message names the ID (clipped) and is meant for the caller (BAD_USER_INPUT).
type IDError struct{ msg string }

func (e *IDError) Error() string { return e.msg }

func notIssued(id string) error {
	return &IDError{fmt.Sprintf("%q is not an ID issued by this API", Clip(id))}
}

// DecodeAnyID returns the type and key parts of a global ID.
func DecodeAnyID(id string) (string, []string, error) {
	raw, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(id, "="))
	if err != nil {
		return "", nil, notIssued(id)
	}
	fields := strings.Split(string(raw), ":")
	n, ok := idParts[fields[0]]
	if !ok || len(fields)-1 != n {
		return "", nil, notIssued(id)
	}
	parts := fields[1:]
	for i, p := range parts {
		if p == "" {
			return "", nil, notIssued(id)
		}
		parts[i] = idUnescaper.Replace(p)
	}
	return fields[0], parts, nil
}

// DecodeID decodes a global ID that must be of type typ.
func DecodeID(id, typ string) ([]string, error) {
	got, parts, err := DecodeAnyID(id)
	if err != nil {
		return nil, err
	}
	if got != typ {
		return nil, &IDError{fmt.Sprintf("ID %q names a %s, not a %s", Clip(id), got, typ)}
	}
	return parts, nil
}

// Clip shortens caller-supplied text before it is echoed in an error.
func Clip(s string) string {
	if len(s) > 80 {
		return s[:80] + "…"
	}
	return s
}
