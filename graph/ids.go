package graph

import (
	"encoding/base64"
	"strings"

	"github.com/overshare/overshare/graph/model"
)

// Global IDs are encoded by model.EncodeID (see there for their form) and decoded here.

// Node types.
const (
	typeIntegration = model.TypeIntegration
	typeUser        = model.TypeUser
	typeDrive       = model.TypeDrive
	typeDriveItem   = model.TypeDriveItem
	typePermission  = model.TypePermission
	typeSyncRun     = model.TypeSyncRun
	typeAuditEvent  = model.TypeAuditEvent
)

// idParts is the number of key parts of each node type.
var idParts = map[string]int{
	typeIntegration: 1,
	typeUser:        2,
	typeDrive:       2,
	typeDriveItem:   2,
	typePermission:  3,
	typeSyncRun:     1,
	typeAuditEvent:  1,
}

var idUnescaper = strings.NewReplacer("%3A", ":", "%25", "%")

func encodeID(typ string, parts ...string) string { return model.EncodeID(typ, parts...) }

// decodeAnyID returns the type and key parts of a global ID.
func decodeAnyID(id string) (string, []string, error) {
	raw, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(id, "="))
	if err != nil {
		return "", nil, badInput("%q is not an ID issued by this API", clip(id))
	}
	fields := strings.Split(string(raw), ":")
	n, ok := idParts[fields[0]]
	if !ok || len(fields)-1 != n {
		return "", nil, badInput("%q is not an ID issued by this API", clip(id))
	}
	parts := fields[1:]
	for i, p := range parts {
		if p == "" {
			return "", nil, badInput("%q is not an ID issued by this API", clip(id))
		}
		parts[i] = idUnescaper.Replace(p)
	}
	return fields[0], parts, nil
}

// decodeID decodes a global ID that must be of type typ.
func decodeID(id, typ string) ([]string, error) {
	got, parts, err := decodeAnyID(id)
	if err != nil {
		return nil, err
	}
	if got != typ {
		return nil, badInput("ID %q names a %s, not a %s", clip(id), got, typ)
	}
	return parts, nil
}

// integrationIDArg accepts an Integration's global ID, or its plain id as printed by the command
// line (`overshare integrate`) and the demo, so that scripts can use either.
func integrationIDArg(id string) (string, error) {
	if typ, parts, err := decodeAnyID(id); err == nil {
		if typ != typeIntegration {
			return "", badInput("ID %q names a %s, not an Integration", clip(id), typ)
		}
		return parts[0], nil
	}
	if id == "" || len(id) > 100 || strings.ContainsAny(id, " \t\r\n") {
		return "", badInput("%q is not an integration ID", clip(id))
	}
	return id, nil
}

// keyIn decodes a global ID of type typ and checks it belongs to integrationID.
func keyIn(id, typ, integrationID string) (string, error) {
	parts, err := decodeID(id, typ)
	if err != nil {
		return "", err
	}
	if parts[0] != integrationID {
		return "", badInput("%s %q belongs to another integration", typ, clip(id))
	}
	return parts[1], nil
}

// clip shortens caller-supplied text before it is echoed in an error.
func clip(s string) string {
	if len(s) > 80 {
		return s[:80] + "…"
	}
	return s
}
