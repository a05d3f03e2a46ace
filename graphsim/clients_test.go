package graphsim_test

// The client construction production code uses: azidentity
// configured only by the authority host, msgraph-sdk-go with the simulator's
// base URL, and a transport trusting the simulator's CA file.

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/cloud"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	abs "github.com/microsoft/kiota-abstractions-go"
	kiotaauth "github.com/microsoft/kiota-authentication-azure-go"
	khttp "github.com/microsoft/kiota-http-go"
	msgraphsdk "github.com/microsoftgraph/msgraph-sdk-go"
	msgraphcore "github.com/microsoftgraph/msgraph-sdk-go-core"
	"github.com/microsoftgraph/msgraph-sdk-go/models/odataerrors"

	"github.com/overshare/overshare/graphsim"
	"github.com/overshare/overshare/graphsim/tenant"
)

var graphScopes = []string{"https://graph.microsoft.com/.default"}

// smallTenant is big enough to page and share, small enough to be quick.
var smallTenant = tenant.Config{Seed: 7, Users: 12, FilesPerUser: 40, ShareRatio: 0.3}

type sim struct {
	*graphsim.Server
	info graphsim.Info
	pool *x509.CertPool
	hc   *http.Client // plain HTTP, trusting the CA, not following redirects

	tokOnce sync.Once
	tok     string
}

func startSim(t testing.TB, opt graphsim.Options) *sim {
	t.Helper()
	if opt.Tenant == (tenant.Config{}) {
		opt.Tenant = smallTenant
	}
	srv, err := graphsim.Start(context.Background(), opt)
	if err != nil {
		t.Fatalf("start simulator: %v", err)
	}
	t.Cleanup(func() { _ = srv.Close() })
	info := srv.Info()
	pem, err := os.ReadFile(info.CAFile)
	if err != nil {
		t.Fatalf("read CA file: %v", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		t.Fatalf("CA file %s holds no certificate", info.CAFile)
	}
	s := &sim{Server: srv, info: info, pool: pool}
	s.hc = &http.Client{
		Transport:     s.transport(),
		Timeout:       30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	return s
}

func (s *sim) transport() *http.Transport {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig = &tls.Config{RootCAs: s.pool, MinVersion: tls.VersionTLS12}
	return tr
}

// credential is azidentity as production builds it.
func (s *sim) credential(t testing.TB, tenantID, clientID, secret string) *azidentity.ClientSecretCredential {
	t.Helper()
	cred, err := azidentity.NewClientSecretCredential(tenantID, clientID, secret, &azidentity.ClientSecretCredentialOptions{
		ClientOptions: azcore.ClientOptions{
			Cloud:     cloud.Configuration{ActiveDirectoryAuthorityHost: s.info.AuthorityHost},
			Transport: &http.Client{Transport: s.transport()},
			Retry:     policy.RetryOptions{MaxRetries: -1},
		},
		DisableInstanceDiscovery: true,
	})
	if err != nil {
		t.Fatalf("credential: %v", err)
	}
	return cred
}

var registerBatchErrors sync.Once

// graphClient is msgraph-sdk-go as production builds it.
func (s *sim) graphClient(t testing.TB) (*msgraphsdk.GraphServiceClient, *msgraphsdk.GraphRequestAdapter) {
	t.Helper()
	return s.graphClientWith(t, s.credential(t, s.info.TenantID, s.info.ClientID, s.info.ClientSecret), s.transport())
}

// graphClientWith builds the client on a given credential and parent
// transport (tests wrap the transport to see what the SDK sends).
func (s *sim) graphClientWith(t testing.TB, cred azcore.TokenCredential, parent http.RoundTripper) (*msgraphsdk.GraphServiceClient, *msgraphsdk.GraphRequestAdapter) {
	t.Helper()
	registerBatchErrors.Do(func() {
		_ = msgraphcore.RegisterError(msgraphcore.BatchRequestErrorRegistryKey, abs.ErrorMappings{
			"4XX": odataerrors.CreateODataErrorFromDiscriminatorValue,
			"5XX": odataerrors.CreateODataErrorFromDiscriminatorValue,
		})
	})
	auth, err := kiotaauth.NewAzureIdentityAuthenticationProviderWithScopesAndValidHosts(cred, graphScopes, []string{"127.0.0.1"})
	if err != nil {
		t.Fatalf("auth provider: %v", err)
	}
	opts := msgraphsdk.GetDefaultClientOptions()
	hc := &http.Client{
		Transport:     khttp.NewCustomTransportWithParentTransport(parent, msgraphcore.GetDefaultMiddlewaresWithOptions(&opts)...),
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		Timeout:       100 * time.Second,
	}
	adapter, err := msgraphsdk.NewGraphRequestAdapterWithParseNodeFactoryAndSerializationWriterFactoryAndHttpClient(auth, nil, nil, hc)
	if err != nil {
		t.Fatalf("adapter: %v", err)
	}
	adapter.SetBaseUrl(s.info.GraphBaseURL)
	// Built as msgraph.New builds it: NewGraphServiceClient writes kiota's process-wide
	// backing-store factory, which races between parallel tests (see msgraph/client.go).
	return &msgraphsdk.GraphServiceClient{GraphBaseServiceClient: *msgraphsdk.NewGraphBaseServiceClient(adapter, nil)}, adapter
}

// token signs in over plain HTTP (client credentials) and caches the token.
func (s *sim) token(t testing.TB) string {
	t.Helper()
	s.tokOnce.Do(func() {
		s.tok = s.freshToken(t)
	})
	return s.tok
}

func (s *sim) freshToken(t testing.TB) string {
	t.Helper()
	form := "grant_type=client_credentials&client_id=" + s.info.ClientID +
		"&client_secret=" + url.QueryEscape(s.info.ClientSecret) + "&scope=https%3A%2F%2Fgraph.microsoft.com%2F.default"
	resp, err := s.hc.Post(s.info.AuthorityHost+s.info.TenantID+"/oauth2/v2.0/token", "application/x-www-form-urlencoded", strings.NewReader(form))
	if err != nil {
		t.Fatalf("token: %v", err)
	}
	defer resp.Body.Close()
	var out struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || out.AccessToken == "" {
		t.Fatalf("token: status %d, err %v", resp.StatusCode, err)
	}
	return out.AccessToken
}

// graph sends one Graph request over plain HTTP. path is relative to the
// Graph base URL ("/users") or absolute (a nextLink).
func (s *sim) graph(t testing.TB, method, path string, body []byte, header ...string) (*http.Response, []byte) {
	t.Helper()
	u := path
	if !strings.HasPrefix(path, "https://") {
		u = s.info.GraphBaseURL + path
	}
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequest(method, u, rd)
	if err != nil {
		t.Fatalf("request %s %s: %v", method, path, err)
	}
	req.Header.Set("Authorization", "Bearer "+s.token(t))
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Add(header[i], header[i+1])
	}
	return s.send(t, req)
}

func (s *sim) send(t testing.TB, req *http.Request) (*http.Response, []byte) {
	t.Helper()
	resp, err := s.hc.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: read body: %v", req.Method, req.URL, err)
	}
	return resp, b
}

// control calls the simulator's control API with the client secret.
func (s *sim) control(t testing.TB, method, path string, in, out any) int {
	t.Helper()
	var rd io.Reader
	if in != nil {
		b, _ := json.Marshal(in)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, s.info.ControlURL+path, rd)
	req.Header.Set("Authorization", "Bearer "+s.info.ClientSecret)
	resp, b := s.send(t, req)
	if out != nil && resp.StatusCode/100 == 2 {
		if err := json.Unmarshal(b, out); err != nil {
			t.Fatalf("control %s %s: decode %q: %v", method, path, b, err)
		}
	}
	return resp.StatusCode
}

// graphErrorBody is Graph's error shape, for asserting on.
type graphErrorBody struct {
	Error struct {
		Code       string `json:"code"`
		Message    string `json:"message"`
		InnerError struct {
			Code            string `json:"code"`
			Date            string `json:"date"`
			RequestID       string `json:"request-id"`
			ClientRequestID string `json:"client-request-id"`
		} `json:"innerError"`
	} `json:"error"`
}

// mustGraphError checks status and Graph's error shape and returns the code.
func mustGraphError(t testing.TB, resp *http.Response, body []byte, status int) graphErrorBody {
	t.Helper()
	if resp.StatusCode != status {
		t.Fatalf("%s %s: status %d, want %d; body %s", resp.Request.Method, resp.Request.URL.Path, resp.StatusCode, status, body)
	}
	var e graphErrorBody
	if err := json.Unmarshal(body, &e); err != nil {
		t.Fatalf("error body is not JSON: %q", body)
	}
	if e.Error.Code == "" || e.Error.Message == "" || e.Error.InnerError.RequestID == "" || e.Error.InnerError.Date == "" {
		t.Fatalf("error body lacks code/message/innerError: %s", body)
	}
	if resp.Header.Get("request-id") == "" || resp.Header.Get("client-request-id") == "" {
		t.Fatalf("error response lacks request-id headers: %v", resp.Header)
	}
	return e
}

// export reads the whole truth through GET /_sim/export.
type export struct {
	users  []tenant.ExportUser
	drives []tenant.ExportDrive
	items  []tenant.ExportItem
	perms  []tenant.ExportPermission
}

func (s *sim) export(t testing.TB) export {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, s.info.ControlURL+"/export", nil)
	req.Header.Set("Authorization", "Bearer "+s.info.ClientSecret)
	resp, body := s.send(t, req)
	if resp.StatusCode != 200 {
		t.Fatalf("export: status %d: %s", resp.StatusCode, body)
	}
	var ex export
	for _, line := range bytes.Split(bytes.TrimSpace(body), []byte("\n")) {
		var head struct {
			Type string `json:"type"`
		}
		if err := json.Unmarshal(line, &head); err != nil {
			t.Fatalf("export line %q: %v", line, err)
		}
		var err error
		switch head.Type {
		case "user":
			var u tenant.ExportUser
			err = json.Unmarshal(line, &u)
			ex.users = append(ex.users, u)
		case "drive":
			var d tenant.ExportDrive
			err = json.Unmarshal(line, &d)
			ex.drives = append(ex.drives, d)
		case "item":
			var it tenant.ExportItem
			err = json.Unmarshal(line, &it)
			ex.items = append(ex.items, it)
		case "permission":
			var p tenant.ExportPermission
			err = json.Unmarshal(line, &p)
			ex.perms = append(ex.perms, p)
		}
		if err != nil {
			t.Fatalf("export line %q: %v", line, err)
		}
	}
	return ex
}

func decodeBody(t testing.TB, resp *http.Response, v any) {
	t.Helper()
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		t.Fatalf("decode %s: %v", resp.Request.URL, err)
	}
}
