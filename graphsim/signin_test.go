package graphsim_test

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"

	"github.com/overshare/overshare/graphsim"
)

func TestSignInWithAzidentity(t *testing.T) {
	s := startSim(t, graphsim.Options{})
	domain := s.Tenant().Config().Domain
	tests := []struct {
		name                   string
		tenant, client, secret string
		expire                 bool
		wantStatus             int    // 0 = success
		wantCode               string // AADSTS code in the error text
	}{
		{name: "tenant id", tenant: s.info.TenantID, client: s.info.ClientID, secret: s.info.ClientSecret},
		{name: "tenant domain", tenant: domain, client: s.info.ClientID, secret: s.info.ClientSecret},
		{name: "unknown tenant", tenant: "11111111-2222-3333-4444-555555555555", client: s.info.ClientID, secret: s.info.ClientSecret, wantCode: "AADSTS90002"},
		{name: "unknown tenant domain", tenant: "fabrikam.onmicrosoft.com", client: s.info.ClientID, secret: s.info.ClientSecret, wantStatus: 400, wantCode: "AADSTS90002"},
		{name: "malformed tenant", tenant: "contoso-tenant", client: s.info.ClientID, secret: s.info.ClientSecret, wantStatus: 400, wantCode: "AADSTS900023"},
		{name: "unknown client", tenant: s.info.TenantID, client: "99999999-0000-4000-8000-000000000000", secret: s.info.ClientSecret, wantStatus: 400, wantCode: "AADSTS700016"},
		{name: "wrong secret", tenant: s.info.TenantID, client: s.info.ClientID, secret: "not-the-secret", wantStatus: 401, wantCode: "AADSTS7000215"},
		{name: "expired secret", tenant: s.info.TenantID, client: s.info.ClientID, secret: s.info.ClientSecret, expire: true, wantStatus: 401, wantCode: "AADSTS7000222"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s.ExpireSecret(tc.expire)
			defer s.ExpireSecret(false)
			cred := s.credential(t, tc.tenant, tc.client, tc.secret)
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			tok, err := cred.GetToken(ctx, policy.TokenRequestOptions{Scopes: graphScopes})
			if tc.wantCode == "" {
				if err != nil {
					t.Fatalf("GetToken: %v", err)
				}
				if strings.Count(tok.Token, ".") != 2 || !tok.ExpiresOn.After(time.Now().Add(30*time.Minute)) {
					t.Fatalf("token %q expiring %v is not a JWT valid for the default hour", tok.Token, tok.ExpiresOn)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.wantCode) {
				t.Fatalf("GetToken error = %v, want one with %s", err, tc.wantCode)
			}
			var afe *azidentity.AuthenticationFailedError
			if tc.wantStatus != 0 && (!errors.As(err, &afe) || afe.RawResponse == nil || afe.RawResponse.StatusCode != tc.wantStatus) {
				t.Fatalf("GetToken error %v: want an AuthenticationFailedError with status %d", err, tc.wantStatus)
			}
		})
	}
}

// The token endpoint over plain HTTP: Entra ID's error bodies, and unknown
// form fields ignored.
func TestTokenEndpointErrors(t *testing.T) {
	s := startSim(t, graphsim.Options{})
	base := url.Values{
		"grant_type": {"client_credentials"}, "client_id": {s.info.ClientID},
		"client_secret": {s.info.ClientSecret}, "scope": {"https://graph.microsoft.com/.default openid offline_access profile"},
	}
	with := func(k, v string) url.Values {
		f := url.Values{}
		for kk, vv := range base {
			f[kk] = vv
		}
		if v == "" {
			f.Del(k)
		} else {
			f.Set(k, v)
		}
		return f
	}
	tests := []struct {
		name       string
		tenant     string
		form       url.Values
		wantStatus int
		wantError  string
		wantCode   string
	}{
		{"extra fields ignored", s.info.TenantID, with("claims", `{"access_token":{"xms_cc":{"values":["CP1"]}}}`), 200, "", ""},
		{"password grant", s.info.TenantID, with("grant_type", "password"), 400, "unsupported_grant_type", "AADSTS70003"},
		{"no grant", s.info.TenantID, with("grant_type", ""), 400, "invalid_request", "AADSTS900144"},
		{"unknown tenant", "contoso.example", base, 400, "invalid_request", "AADSTS90002"},
		{"unknown client", s.info.TenantID, with("client_id", "nobody"), 400, "unauthorized_client", "AADSTS700016"},
		{"wrong secret", s.info.TenantID, with("client_secret", "x"), 401, "invalid_client", "AADSTS7000215"},
		{"scope without .default", s.info.TenantID, with("scope", "User.Read"), 400, "invalid_scope", "AADSTS1002012"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			resp, err := s.hc.PostForm(s.info.AuthorityHost+tc.tenant+"/oauth2/v2.0/token", tc.form)
			if err != nil {
				t.Fatal(err)
			}
			var body map[string]any
			decodeBody(t, resp, &body)
			if resp.StatusCode != tc.wantStatus {
				t.Fatalf("status %d, want %d: %v", resp.StatusCode, tc.wantStatus, body)
			}
			if tc.wantError == "" {
				if body["access_token"] == nil || body["expires_in"] == nil {
					t.Fatalf("no token in %v", body)
				}
				return
			}
			desc, _ := body["error_description"].(string)
			if body["error"] != tc.wantError || !strings.HasPrefix(desc, tc.wantCode+":") {
				t.Fatalf("got error %v %q, want %s %s", body["error"], desc, tc.wantError, tc.wantCode)
			}
		})
	}

	resp, err := s.hc.Get(s.info.AuthorityHost + "no-such-tenant.onmicrosoft.com/v2.0/.well-known/openid-configuration")
	if err != nil {
		t.Fatal(err)
	}
	var body map[string]any
	decodeBody(t, resp, &body)
	if resp.StatusCode != 400 || body["error"] != "invalid_tenant" || !strings.Contains(body["error_description"].(string), "AADSTS90002") {
		t.Fatalf("openid configuration of an unknown tenant: %d %v", resp.StatusCode, body)
	}
}

// Graph rejects missing, malformed, forged and expired tokens with 401
// InvalidAuthenticationToken.
func TestGraphRejectsBadTokens(t *testing.T) {
	s := startSim(t, graphsim.Options{TokenTTL: time.Second})
	good := s.freshToken(t)
	parts := strings.Split(good, ".")
	forged := parts[0] + "." + parts[1] + "." + strings.Repeat("A", len(parts[2]))
	tests := []struct {
		name, authz, wantMsg string
	}{
		{"missing", "", "Access token is empty."},
		{"not a JWT", "Bearer abc", "CompactToken parsing failed"},
		{"forged signature", "Bearer " + forged, "Access token validation failure"},
		{"wrong scheme", "Basic " + good, "CompactToken parsing failed"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req, _ := http.NewRequest("GET", s.info.GraphBaseURL+"/users", nil)
			if tc.authz != "" {
				req.Header.Set("Authorization", tc.authz)
			}
			resp, body := s.send(t, req)
			e := mustGraphError(t, resp, body, 401)
			if e.Error.Code != "InvalidAuthenticationToken" || !strings.Contains(e.Error.Message, tc.wantMsg) {
				t.Fatalf("got %s %q, want InvalidAuthenticationToken %q", e.Error.Code, e.Error.Message, tc.wantMsg)
			}
		})
	}
	t.Run("expired", func(t *testing.T) {
		time.Sleep(2100 * time.Millisecond) // let the one-second token lapse
		req, _ := http.NewRequest("GET", s.info.GraphBaseURL+"/users", nil)
		req.Header.Set("Authorization", "Bearer "+good)
		resp, body := s.send(t, req)
		e := mustGraphError(t, resp, body, 401)
		if e.Error.Message != "Access token has expired or is not yet valid." {
			t.Fatalf("expired token: %q", e.Error.Message)
		}
	})
}
