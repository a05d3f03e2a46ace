// Package msgraph is Overshare's Microsoft Graph client: msgraph-sdk-go over
// azidentity's ClientSecretCredential or ClientCertificateCredential (Config says
// which), with the parts a tenant-wide sync
// needs and the SDK lacks:
//
//   - delta with the four sharing Prefer headers on every page, one page per
//     call so the caller can checkpoint, and a guard against repeated pages;
//   - $batch for per-user and per-item calls, retrying throttled parts after
//     their own Retry-After;
//   - one retry middleware (replacing kiota's) that honours fractional
//     Retry-After, retries resets and truncated JSON, and paces requests from
//     the RateLimit-* headers using SharePoint's resource-unit costs;
//   - errors classified for administrators (*Error, Kind).
//
// No SDK object leaves the package: results are the plain structs in
// types.go. The same code talks to Microsoft or to the simulator; only the
// authority host, the Graph base URL and an extra CA file differ.
package msgraph

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/cloud"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	abs "github.com/microsoft/kiota-abstractions-go"
	absauth "github.com/microsoft/kiota-abstractions-go/authentication"
	kiotaauth "github.com/microsoft/kiota-authentication-azure-go"
	khttp "github.com/microsoft/kiota-http-go"
	msgraphsdk "github.com/microsoftgraph/msgraph-sdk-go"
	msgraphcore "github.com/microsoftgraph/msgraph-sdk-go-core"
	"github.com/microsoftgraph/msgraph-sdk-go/models/odataerrors"
)

// Microsoft's defaults.
const (
	DefaultAuthorityURL = "https://login.microsoftonline.com/"
	DefaultGraphURL     = "https://graph.microsoft.com/v1.0"
	DefaultPageSize     = 1000
)

// Config says which app registration to act as and where Microsoft lives.
type Config struct {
	TenantID, ClientID string
	// Exactly one credential: the client secret's value, or Certificate, a PEM holding the
	// app's certificate and its unencrypted RSA private key (the credential Microsoft
	// recommends for apps). Neither is ever logged or put in an error.
	ClientSecret string
	Certificate  []byte

	AuthorityURL string // Entra ID authority host; default DefaultAuthorityURL
	GraphURL     string // Graph base URL including the version; default DefaultGraphURL
	CAFile       string // extra PEM CA certificates trusted besides the system pool (optional)

	Version  string       // Overshare's version, for the User-Agent
	Logger   *slog.Logger // optional
	PageSize int          // delta $top; default DefaultPageSize

	// OnRequest, when set, is called after every Graph request (and for
	// every part of a $batch), from the goroutine that made it.
	OnRequest func(RequestInfo)
}

// Graph hosts of Microsoft's national clouds: tokens may go to these and to
// the configured Graph host, nowhere else.
var nationalGraphHosts = []string{
	"graph.microsoft.com", "graph.microsoft.us", "dod-graph.microsoft.us",
	"graph.microsoft.de", "microsoftgraph.chinacloudapi.cn", "canary.graph.microsoft.com",
}

// Entra ID hosts that answer instance discovery; any other authority (a
// private or disconnected cloud, the simulator) is trusted as configured.
var knownAuthorityHosts = map[string]bool{
	"login.microsoftonline.com": true, "login.microsoftonline.us": true,
	"login.chinacloudapi.cn": true, "login.partner.microsoftonline.cn": true,
}

// batchErrorsOnce registers the ODataError factory for $batch parts in the
// SDK's process-wide registry; a second registration is an error there.
var batchErrorsOnce sync.Once

// Client talks to one tenant. It is safe for concurrent use.
type Client struct {
	cfg            Config
	log            *slog.Logger
	sdk            *msgraphsdk.GraphServiceClient
	adapter        *msgraphsdk.GraphRequestAdapter
	cred           azcore.TokenCredential
	certThumbprint string // the certificate credential's SHA-1 thumbprint, for messages; "" with a secret
	graphBase      *url.URL
	graphHost      string
	authorityHost  string
	userAgent      string
	tokens         *kiotaauth.AzureIdentityAccessTokenProvider
	pacer          *pacer
	stats          counters

	domainsMu sync.RWMutex
	domains   map[string]bool // the tenant's own e-mail domains: verified, or learned from members
	verified  bool            // domains are the verified ones (SetVerifiedDomains): learn no more

	scope string // the token scope: "https://graph.microsoft.com/.default"

	rolesMu sync.Mutex
	roles   map[string]bool // the application permissions of the last token read; nil until then

	repeatMu sync.Mutex
	lastPage map[string]pageMark // per drive: the last delta page served, for the repeat guard
}

// New builds a client. It does not contact Microsoft; CheckCredentials does.
func New(ctx context.Context, cfg Config) (*Client, error) {
	if cfg.TenantID == "" || cfg.ClientID == "" || (cfg.ClientSecret == "") == (len(cfg.Certificate) == 0) {
		return nil, errors.New("msgraph: tenant ID, client ID and either a client secret or a certificate are required")
	}
	if cfg.AuthorityURL == "" {
		cfg.AuthorityURL = DefaultAuthorityURL
	}
	if !strings.HasSuffix(cfg.AuthorityURL, "/") {
		cfg.AuthorityURL += "/"
	}
	if cfg.GraphURL == "" {
		cfg.GraphURL = DefaultGraphURL
	}
	cfg.GraphURL = strings.TrimRight(cfg.GraphURL, "/")
	if cfg.PageSize <= 0 {
		cfg.PageSize = DefaultPageSize
	}
	if cfg.Version == "" {
		cfg.Version = "dev"
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	au, err := url.Parse(cfg.AuthorityURL)
	if err != nil || au.Scheme != "https" || au.Host == "" {
		return nil, fmt.Errorf("msgraph: authority URL %q must be an https URL", cfg.AuthorityURL)
	}
	gu, err := url.Parse(cfg.GraphURL)
	if err != nil || gu.Host == "" || (gu.Scheme != "https" && !isLoopback(gu.Hostname())) {
		return nil, fmt.Errorf("msgraph: Graph URL %q must be an https URL", cfg.GraphURL)
	}

	base, err := baseTransport(cfg.CAFile)
	if err != nil {
		return nil, err
	}
	c := &Client{
		cfg: cfg, log: log, graphBase: gu, graphHost: gu.Host, authorityHost: au.Host,
		userAgent: "NONISV|Overshare|Overshare/" + cfg.Version,
		pacer:     newPacer(time.Now),
		domains:   map[string]bool{},
		lastPage:  map[string]pageMark{},
	}

	if !validTenantID(cfg.TenantID) {
		return nil, &Error{Kind: TenantNotFound, Message: notATenant(cfg.TenantID, "")}
	}
	clientOpts := azcore.ClientOptions{
		Cloud:     cloud.Configuration{ActiveDirectoryAuthorityHost: cfg.AuthorityURL},
		Transport: &http.Client{Transport: &uaTransport{base: base, ua: c.userAgent}, Timeout: 30 * time.Second},
		Retry:     policy.RetryOptions{MaxRetries: 2, RetryDelay: 500 * time.Millisecond},
	}
	disableDiscovery := !knownAuthorityHosts[strings.ToLower(au.Hostname())]
	if len(cfg.Certificate) > 0 {
		certs, key, thumb, err := certificateCredential(cfg.Certificate, time.Now())
		if err != nil {
			return nil, err
		}
		c.certThumbprint = thumb
		// No x5c (SendCertificateChain): Entra ID needs it only for subject name and
		// issuer (SN/I) authentication, which only Microsoft's own apps may use; an
		// app's uploaded certificate is found by its thumbprint.
		c.cred, err = azidentity.NewClientCertificateCredential(cfg.TenantID, cfg.ClientID, certs, key, &azidentity.ClientCertificateCredentialOptions{
			ClientOptions: clientOpts, DisableInstanceDiscovery: disableDiscovery,
		})
		if err != nil {
			return nil, &Error{Kind: BadCertificate, Message: "The certificate is not usable: " + sentence(err.Error()), err: err}
		}
	} else {
		c.cred, err = azidentity.NewClientSecretCredential(cfg.TenantID, cfg.ClientID, cfg.ClientSecret, &azidentity.ClientSecretCredentialOptions{
			ClientOptions: clientOpts, DisableInstanceDiscovery: disableDiscovery,
		})
		if err != nil {
			return nil, fmt.Errorf("msgraph: credential: %w", err)
		}
	}

	hosts := append([]string{gu.Hostname()}, nationalGraphHosts...)
	scope := "https://graph.microsoft.com/.default"
	for _, h := range nationalGraphHosts {
		if strings.EqualFold(h, gu.Hostname()) {
			scope = "https://" + h + "/.default"
		}
	}
	c.scope = scope
	c.tokens, err = kiotaauth.NewAzureIdentityAccessTokenProviderWithScopesAndValidHosts(c.cred, []string{scope}, hosts)
	if err != nil {
		return nil, fmt.Errorf("msgraph: token provider: %w", err)
	}
	auth := absauth.NewBaseBearerTokenAuthenticationProvider(c.tokens)

	opts := msgraphsdk.GetDefaultClientOptions()
	hc := &http.Client{
		Transport: khttp.NewCustomTransportWithParentTransport(base, c.middlewares(&opts)...),
		// Redirects are the RedirectHandler's business; waits and retries
		// are bounded by the retry handler, not by a client-wide timeout
		// that would cut a long Retry-After short.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	c.adapter, err = msgraphsdk.NewGraphRequestAdapterWithParseNodeFactoryAndSerializationWriterFactoryAndHttpClient(auth, nil, nil, hc)
	if err != nil {
		return nil, fmt.Errorf("msgraph: request adapter: %w", err)
	}
	c.adapter.SetBaseUrl(cfg.GraphURL)
	// NewGraphServiceClient passes kiota's process-wide backing-store
	// factory back to EnableBackingStore, which writes it to a package
	// variable that every model constructor reads: two integrations syncing
	// at once raced on it (go test -race). A nil factory leaves the variable
	// alone; its default is the same in-memory store.
	c.sdk = &msgraphsdk.GraphServiceClient{GraphBaseServiceClient: *msgraphsdk.NewGraphBaseServiceClient(c.adapter, nil)}

	batchErrorsOnce.Do(func() {
		_ = msgraphcore.RegisterError(msgraphcore.BatchRequestErrorRegistryKey, abs.ErrorMappings{
			"4XX": odataerrors.CreateODataErrorFromDiscriminatorValue,
			"5XX": odataerrors.CreateODataErrorFromDiscriminatorValue,
		})
	})
	return c, nil
}

// middlewares is the SDK's default chain with kiota's RetryHandler and
// UserAgentHandler replaced by ours. kiota builds its part of the chain from
// a map, so the order is random; we fix it: request decoration first, then
// our retry/pacing (so each retry passes through compression afresh), then
// the handlers that touch a single attempt.
func (c *Client) middlewares(opts *msgraphcore.GraphClientOptions) []khttp.Middleware {
	var head, tail []khttp.Middleware
	for _, m := range msgraphcore.GetDefaultMiddlewaresWithOptions(opts) {
		switch m.(type) {
		case *khttp.RetryHandler, khttp.RetryHandler, *khttp.UserAgentHandler, khttp.UserAgentHandler:
			// replaced
		case *khttp.RedirectHandler, khttp.RedirectHandler, *khttp.CompressionHandler, *khttp.HeadersInspectionHandler, khttp.HeadersInspectionHandler:
			tail = append(tail, m)
		default:
			head = append(head, m)
		}
	}
	chain := append([]khttp.Middleware{&userAgentHandler{ua: c.userAgent}}, head...)
	chain = append(chain, &retryHandler{c: c})
	return append(chain, tail...)
}

// baseTransport trusts the system roots plus the PEM certificates in caFile.
func baseTransport(caFile string) (*http.Transport, error) {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.ForceAttemptHTTP2 = true
	t.MaxIdleConnsPerHost = 64
	if caFile == "" {
		return t, nil
	}
	pool, err := x509.SystemCertPool()
	if err != nil || pool == nil {
		pool = x509.NewCertPool()
	}
	pem, err := os.ReadFile(caFile)
	if err != nil {
		return nil, fmt.Errorf("msgraph: read CA file: %w", err)
	}
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("msgraph: CA file %s holds no PEM certificate", caFile)
	}
	t.TLSClientConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	return t, nil
}

func isLoopback(host string) bool {
	return host == "localhost" || host == "127.0.0.1" || host == "::1"
}

// Stats returns the running totals.
func (c *Client) Stats() Stats { return c.stats.snapshot() }

// SetTenantDomains adds e-mail domains guessed to belong to the tenant (for
// example remembered from an earlier user sync), for the External rule. Once
// the verified domains are known (SetVerifiedDomains) guesses are ignored:
// they could only be wrong.
func (c *Client) SetTenantDomains(domains []string) {
	c.domainsMu.Lock()
	defer c.domainsMu.Unlock()
	if c.verified {
		return
	}
	for _, d := range domains {
		if d = strings.ToLower(strings.TrimSpace(d)); d != "" {
			c.domains[d] = true
		}
	}
}

// TenantDomains returns the domains known to belong to the tenant.
func (c *Client) TenantDomains() []string {
	c.domainsMu.RLock()
	defer c.domainsMu.RUnlock()
	out := make([]string, 0, len(c.domains))
	for d := range c.domains {
		out = append(out, d)
	}
	return out
}

// CheckCredentials proves the app can do its job with the cheapest calls: a
// token, one user, and the root permissions of one OneDrive (read with the
// hierarchicalsharing Prefer, which needs Sites.FullControl.All). It returns
// a classified *Error.
func (c *Client) CheckCredentials(ctx context.Context) error {
	if err := c.CheckPermissions(ctx); err != nil {
		return err
	}
	var ids []string
	err := c.listUsers(ctx, 10, []string{"id", "userPrincipalName", "userType"}, false, func(us []User) error {
		for _, u := range us {
			ids = append(ids, u.ID)
		}
		return errStop
	})
	if err != nil && !errors.Is(err, errStop) {
		return err
	}
	if len(ids) == 0 {
		return nil
	}
	// Locked drives are skipped: the check proves the app's reach, and a
	// sync skips them too.
	drives, _, err := c.UserDrives(ctx, ids)
	if err != nil {
		return err
	}
	for _, id := range ids {
		if d := drives[id]; d != nil {
			_, err := c.itemPermissions(ctx, d.ID, "root")
			if KindOf(c.classify(opPermissions, err)).DriveInaccessible() {
				continue
			}
			return c.classify(opPermissions, err)
		}
	}
	return nil
}

var errStop = errors.New("stop")

// uaTransport decorates sign-in requests too, as Microsoft asks of all
// traffic.
type uaTransport struct {
	base http.RoundTripper
	ua   string
}

func (t *uaTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("User-Agent", t.ua)
	return t.base.RoundTrip(r)
}
