package auth

import (
	"context"
	"errors"
	"net/http/httptest"
	"slices"
	"testing"
)

func TestClaimValues(t *testing.T) {
	payload := []byte(`{
		"roles": ["Overshare.Admin", 7, "x"],
		"groups": "overshare-admins",
		"realm_access": {"roles": ["viewer"], "deep": {"er": ["admin"]}},
		"number": 3,
		"obj": {"a": 1}
	}`)
	tests := []struct {
		path string
		want []string
	}{
		{"roles", []string{"Overshare.Admin", "x"}}, // non-strings are skipped, never coerced
		{"groups", []string{"overshare-admins"}},    // a single string is a list of one
		{"realm_access.roles", []string{"viewer"}},
		{"realm_access.deep.er", []string{"admin"}},
		{"realm_access", nil},      // an object is not a role list
		{"number", nil},            // nor is a number
		{"number.x", nil},          // walking into a non-object stops
		{"missing", nil},           // absent
		{"realm_access.none", nil}, // absent below an object
		{"obj.a", nil},
	}
	for _, tt := range tests {
		if got := claimValues(payload, tt.path); !slices.Equal(got, tt.want) {
			t.Errorf("claimValues(%q) = %q, want %q", tt.path, got, tt.want)
		}
	}
	if got := claimValues([]byte(`not json`), "roles"); got != nil {
		t.Errorf("claimValues(invalid JSON) = %q, want nothing", got)
	}
}

func TestMapRoles(t *testing.T) {
	cfg := Config{}.withDefaults()
	tests := []struct {
		values []string
		want   []Role
	}{
		{[]string{"Overshare.Admin"}, []Role{RoleAdmin, RoleViewer}},
		{[]string{"admin"}, []Role{RoleAdmin, RoleViewer}},
		{[]string{"Overshare.Viewer"}, []Role{RoleViewer}},
		{[]string{"viewer", "other"}, []Role{RoleViewer}},
		{[]string{"Overshare.Viewer", "Overshare.Admin"}, []Role{RoleAdmin, RoleViewer}},
		{[]string{"ADMIN", "overshare.admin", "Admin"}, nil}, // values are compared exactly
		{nil, nil},
	}
	for _, tt := range tests {
		if got := mapRoles(tt.values, cfg); !slices.Equal(got, tt.want) {
			t.Errorf("mapRoles(%q) = %q, want %q", tt.values, got, tt.want)
		}
	}
}

func TestBearerToken(t *testing.T) {
	tests := []struct {
		header string
		want   string
		ok     bool
	}{
		{"Bearer abc.def.ghi", "abc.def.ghi", true},
		{"bearer abc", "abc", true},
		{"BEARER   abc  ", "abc", true},
		{"Basic dXNlcjpwYXNz", "", false},
		{"Bearer", "", false},
		{"Bearer ", "", false},
		{"Bearer a b", "", false},
		{"Bearerabc", "", false},
		{"", "", false},
	}
	for _, tt := range tests {
		r := httptest.NewRequest("GET", "/", nil)
		if tt.header != "" {
			r.Header.Set("Authorization", tt.header)
		}
		got, ok := BearerToken(r)
		if got != tt.want || ok != tt.ok {
			t.Errorf("BearerToken(%q) = %q, %v; want %q, %v", tt.header, got, ok, tt.want, tt.ok)
		}
	}
}

func TestNewVerifierRefusesSymmetricAndNone(t *testing.T) {
	for _, alg := range []string{"none", "HS256", "hs512"} {
		_, err := NewVerifier(context.Background(), Config{Issuer: "http://127.0.0.1:1", Audience: "a", SupportedAlgs: []string{"RS256", alg}})
		if err == nil {
			t.Errorf("NewVerifier accepted %s", alg)
		}
	}
	if _, err := NewVerifier(context.Background(), Config{Audience: "a"}); err == nil {
		t.Error("NewVerifier accepted an empty issuer")
	}
}

func TestRequire(t *testing.T) {
	viewer := &Principal{Subject: "v", Roles: []Role{RoleViewer}}
	admin := &Principal{Subject: "a", Roles: []Role{RoleAdmin, RoleViewer}}
	refused := &TokenError{Reason: ReasonExpired, Message: "the token expired"}
	tests := []struct {
		name string
		ctx  context.Context
		role Role
		want error // nil: allowed
	}{
		{"nothing recorded", context.Background(), RoleViewer, ErrNoToken},
		{"refused token", WithError(context.Background(), refused), RoleViewer, ErrInvalidToken},
		{"no roles", WithPrincipal(context.Background(), &Principal{Subject: "x"}), RoleViewer, ErrForbidden},
		{"viewer asks viewer", WithPrincipal(context.Background(), viewer), RoleViewer, nil},
		{"viewer asks admin", WithPrincipal(context.Background(), viewer), RoleAdmin, ErrForbidden},
		{"admin asks viewer", WithPrincipal(context.Background(), admin), RoleViewer, nil},
		{"admin asks admin", WithPrincipal(context.Background(), admin), RoleAdmin, nil},
	}
	for _, tt := range tests {
		p, err := Require(tt.ctx, tt.role)
		switch {
		case tt.want == nil && (err != nil || p == nil):
			t.Errorf("%s: Require = %v, %v; want allowed", tt.name, p, err)
		case tt.want != nil && (!errors.Is(err, tt.want) || p != nil):
			t.Errorf("%s: Require = %v, %v; want %v", tt.name, p, err, tt.want)
		}
	}
}
