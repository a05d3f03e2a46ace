package msgraph

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
)

// requiredPermission is an application permission Overshare needs, with the
// stronger ones that include it.
type requiredPermission struct {
	name   string
	why    string
	alsoBy []string
}

// requiredPermissions are judged from the token, not from Graph's answers:
// without Sites.FullControl.All Graph does not refuse delta, it silently
// reports less sharing (docs/graph-behaviour.md, "Sign-in and the app's
// permissions").
var requiredPermissions = []requiredPermission{
	{"User.Read.All", "to list users and their OneDrives", []string{"User.ReadWrite.All", "Directory.Read.All", "Directory.ReadWrite.All"}},
	{"Sites.FullControl.All", "to read every item's sharing (Microsoft requires it for delta with sharing information)", nil},
	{"Files.ReadWrite.All", "to stop sharing and set link expiry", []string{"Sites.ReadWrite.All", "Sites.Manage.All", "Sites.FullControl.All"}},
}

// GrantedPermissions returns the application permissions (the roles claim)
// of the app's access token, signing in when needed. The token is obtained
// through the same azidentity credential every Graph call uses.
func (c *Client) GrantedPermissions(ctx context.Context) ([]string, error) {
	tok, err := c.cred.GetToken(ctx, policy.TokenRequestOptions{Scopes: []string{c.scope}})
	if err != nil {
		return nil, c.classify(op{what: "sign in"}, err)
	}
	roles, err := tokenRoles(tok.Token)
	if err != nil {
		return nil, &Error{Kind: Unknown, Message: "Microsoft Entra ID issued an access token Overshare could not read: " + err.Error(), err: err}
	}
	set := make(map[string]bool, len(roles))
	for _, r := range roles {
		set[strings.ToLower(r)] = true
	}
	c.rolesMu.Lock()
	c.roles = set
	c.rolesMu.Unlock()
	return roles, nil
}

// tokenRoles reads the roles claim of a JWT without verifying its signature.
// That is sound here and only here: the token is our own, fresh from Entra
// ID over TLS to the credential, and we read our grant, not anyone's
// identity; Graph verifies it on every call. (Verifying would also be
// impossible: the token's audience is Graph, signed with keys meant for it.)
func tokenRoles(jwt string) ([]string, error) {
	parts := strings.Split(jwt, ".")
	if len(parts) != 3 {
		return nil, fmt.Errorf("not a JWT (%d parts)", len(parts))
	}
	payload, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(parts[1], "="))
	if err != nil {
		return nil, fmt.Errorf("JWT payload: %w", err)
	}
	var claims struct {
		Roles []string `json:"roles"`
	}
	if err := json.Unmarshal(payload, &claims); err != nil {
		return nil, fmt.Errorf("JWT payload: %w", err)
	}
	return claims.Roles, nil
}

// CheckPermissions signs in and names, in one sentence, every application
// permission the token lacks (MissingPermission); nil when none is missing.
func (c *Client) CheckPermissions(ctx context.Context) error {
	if _, err := c.GrantedPermissions(ctx); err != nil {
		return err
	}
	var missing, why []string
	for _, p := range requiredPermissions {
		if c.lacksPermission(p.name) {
			missing = append(missing, p.name)
			why = append(why, p.name+" "+p.why)
		}
	}
	if len(missing) == 0 {
		return nil
	}
	noun := "permission"
	if len(missing) > 1 {
		noun = "permissions"
	}
	return &Error{
		Kind:       MissingPermission,
		Permission: strings.Join(missing, ", "),
		Message: fmt.Sprintf("The app lacks the Microsoft Graph application %s %s (%s): add %s under API permissions in Microsoft Entra ID and grant admin consent.",
			noun, strings.Join(missing, ", "), strings.Join(why, "; "), map[bool]string{true: "them", false: "it"}[len(missing) > 1]),
	}
}

// lacksPermission reports whether the app's token lacks name and every
// permission that includes it; false when the token cannot be read.
func (c *Client) lacksPermission(name string) bool {
	if name == "" {
		return false
	}
	c.rolesMu.Lock()
	known := c.roles != nil
	c.rolesMu.Unlock()
	if !known {
		// A 403 before anyone asked: read the token the call was made with
		// (azidentity's cache answers at once) rather than guess.
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		_, err := c.GrantedPermissions(ctx)
		cancel()
		if err != nil {
			return false
		}
	}
	c.rolesMu.Lock()
	defer c.rolesMu.Unlock()
	if c.roles[strings.ToLower(name)] {
		return false
	}
	for _, p := range requiredPermissions {
		if strings.EqualFold(p.name, name) {
			for _, alt := range p.alsoBy {
				if c.roles[strings.ToLower(alt)] {
					return false
				}
			}
		}
	}
	// Files.Read.All (reading OneDrives) is included in every write
	// permission and in Sites.*.
	if strings.EqualFold(name, "Files.Read.All") {
		for _, alt := range []string{"Files.ReadWrite.All", "Sites.Read.All", "Sites.ReadWrite.All", "Sites.Manage.All", "Sites.FullControl.All"} {
			if c.roles[strings.ToLower(alt)] {
				return false
			}
		}
	}
	return true
}
