package server_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/overshare/overshare/auth/devidp"
	"github.com/overshare/overshare/graphsim"
	"github.com/overshare/overshare/graphsim/graphsimtest"
	"github.com/overshare/overshare/graphsim/tenant"
	"github.com/overshare/overshare/internal/testdb"
	"github.com/overshare/overshare/server"
	"github.com/overshare/overshare/sharing"
	"github.com/overshare/overshare/store"
)

// A tenant connected with a certificate: the credential is checked first, exactly one is taken,
// and neither an answer of the API nor a column of the database ever holds the private key.
func TestIntegrateWithCertificate(t *testing.T) {
	testdb.Each(t, func(t *testing.T, st *store.Store) {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		sim, err := graphsim.Start(ctx, graphsim.Options{Tenant: tenant.Config{Seed: 5, Users: 4, FilesPerUser: 10}})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { sim.Close() })
		info := sim.Info()
		pemData, err := os.ReadFile(info.CertificateFile)
		if err != nil {
			t.Fatal(err)
		}
		defaults := graphsimtest.Endpoints(info)
		e := newEnv(t, st, func(c *server.Config) { c.GraphQL.Credentials = sharing.CredentialChecker{Defaults: defaults} })
		admin := e.idp.Token(t, devidp.DemoAdminScriptClientID)
		_, key, _ := strings.Cut(string(pemData), "PRIVATE KEY-----\n")
		keyLines := strings.Split(strings.TrimSpace(key), "\n")
		var answers []string
		ask := func(query string, vars map[string]any) gqlResponse {
			r := e.do(admin, query, vars)
			answers = append(answers, fmt.Sprintf("%s %+v", r.Data, r.Errors))
			return r
		}

		const integrate = `mutation($in: IntegrateInput!) { integrate(input: $in) { id credentialType secretHint certificateThumbprint certificateExpiresAt } }`
		in := map[string]any{"name": "Contoso", "tenantId": info.TenantID, "clientId": info.ClientID}
		with := func(k string, v any) map[string]any {
			m := map[string]any{"in": maps(in, k, v)}
			return m
		}
		if r := ask(integrate, with("clientSecret", info.ClientSecret)); len(r.Errors) != 0 {
			// a second integration of the same app is fine; this one proves the secret path still works
			t.Fatalf("integrate with a secret: %+v", r.Errors)
		}
		both := map[string]any{"in": maps(maps(in, "clientSecret", info.ClientSecret), "certificate", string(pemData))}
		if r := ask(integrate, both); !slices.Equal(r.codes(), []string{"BAD_USER_INPUT"}) || !strings.Contains(r.Errors[0].Message, "not both") {
			t.Fatalf("both credentials: %+v", r.Errors)
		}
		if r := ask(integrate, map[string]any{"in": in}); !slices.Equal(r.codes(), []string{"BAD_USER_INPUT"}) {
			t.Fatalf("no credential: %+v", r.Errors)
		}
		sim.ExpireCertificate(true)
		r := ask(integrate, with("certificate", string(pemData)))
		if !slices.Equal(r.codes(), []string{"BAD_USER_INPUT"}) || !strings.Contains(r.Errors[0].Message, "has expired") {
			t.Fatalf("a certificate Entra ID holds as expired: %+v", r.Errors)
		}
		sim.ExpireCertificate(false)

		var created struct {
			Integrate struct {
				ID, CredentialType, SecretHint string
				CertificateThumbprint          *string
				CertificateExpiresAt           *time.Time
			}
		}
		r = ask(integrate, with("certificate", string(pemData)))
		if len(r.Errors) != 0 {
			t.Fatalf("integrate with the certificate: %+v", r.Errors)
		}
		if err := json.Unmarshal(r.Data, &created); err != nil {
			t.Fatal(err)
		}
		got := created.Integrate
		if got.CredentialType != "CERTIFICATE" || got.SecretHint != "" || got.CertificateThumbprint == nil || *got.CertificateThumbprint != info.CertificateThumbprint ||
			got.CertificateExpiresAt == nil || got.CertificateExpiresAt.Before(time.Now().Add(300*24*time.Hour)) {
			t.Fatalf("integrate answered %+v", got)
		}
		ask(`{ integrations { id name credentialType secretHint certificateThumbprint certificateExpiresAt lastError } }`, nil)
		ask(`query($id: ID!) { integration(id: $id) { id credentialType certificateThumbprint } }`, map[string]any{"id": got.ID})

		// The database: every column of every integration, as the driver returns it.
		rows, err := st.SQLDB().QueryContext(ctx, `SELECT * FROM integrations`)
		if err != nil {
			t.Fatal(err)
		}
		cols, _ := rows.Columns()
		var stored []string
		for rows.Next() {
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				t.Fatal(err)
			}
			for i, v := range vals {
				if b, ok := v.([]byte); ok {
					v = string(b)
				}
				stored = append(stored, fmt.Sprintf("%s=%v", cols[i], v))
			}
		}
		rows.Close()

		// Switch to the secret and back: the answer follows, the key stays hidden.
		const update = `mutation($in: UpdateIntegrationInput!) { updateIntegration(input: $in) { credentialType secretHint certificateThumbprint } }`
		var upd struct {
			UpdateIntegration struct {
				CredentialType        string
				CertificateThumbprint *string
			}
		}
		r = ask(update, map[string]any{"in": map[string]any{"id": got.ID, "clientSecret": info.ClientSecret}})
		if len(r.Errors) != 0 || json.Unmarshal(r.Data, &upd) != nil || upd.UpdateIntegration.CredentialType != "SECRET" || upd.UpdateIntegration.CertificateThumbprint != nil {
			t.Fatalf("switch to the secret: %s %+v", r.Data, r.Errors)
		}
		r = ask(update, map[string]any{"in": map[string]any{"id": got.ID, "certificate": string(pemData)}})
		if len(r.Errors) != 0 || json.Unmarshal(r.Data, &upd) != nil || upd.UpdateIntegration.CredentialType != "CERTIFICATE" {
			t.Fatalf("switch back to the certificate: %s %+v", r.Data, r.Errors)
		}

		for _, text := range append(answers, stored...) {
			for _, line := range []string{keyLines[1], keyLines[len(keyLines)/2], keyLines[len(keyLines)-2]} {
				if strings.Contains(text, line) {
					t.Fatalf("the private key leaked: %.200s", text)
				}
			}
			if strings.Contains(text, "PRIVATE KEY") || strings.Contains(text, info.ClientSecret) {
				t.Fatalf("a credential leaked: %.200s", text)
			}
		}
	})
}

// maps returns a copy of m with k set to v.
func maps(m map[string]any, k string, v any) map[string]any {
	out := make(map[string]any, len(m)+1)
	for kk, vv := range m {
		out[kk] = vv
	}
	out[k] = v
	return out
}
