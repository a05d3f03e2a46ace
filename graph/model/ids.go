package model

import (
	"encoding/base64"
	"strings"
)

// Global IDs are opaque to clients: base64url("Type:part:part…"), where the parts are the row's
// key — the integration id and the Graph id for synced rows, plus the item id for a permission
// (inherited permissions repeat the ancestor's Graph id on every item). ':' and '%' inside a
// part are percent-escaped, so Graph ids of any shape round-trip. Package graph decodes them.

// Node types.
const (
	TypeIntegration = "Integration"
	TypeUser        = "User"
	TypeDrive       = "Drive"
	TypeDriveItem   = "DriveItem"
	TypePermission  = "Permission"
	TypeSyncRun     = "SyncRun"
	TypeAuditEvent  = "AuditEvent"
)

var idEscaper = strings.NewReplacer("%", "%25", ":", "%3A")

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
