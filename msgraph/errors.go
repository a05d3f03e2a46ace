package msgraph

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/url"
	"regexp"
	"strings"
	"syscall"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	abs "github.com/microsoft/kiota-abstractions-go"
	"github.com/microsoftgraph/msgraph-sdk-go/models/odataerrors"
)

// Kind says what went wrong in terms an administrator can act on.
type Kind int

const (
	Unknown           Kind = iota
	WrongSecret            // AADSTS7000215
	ExpiredSecret          // AADSTS7000222
	ClientNotFound         // AADSTS700016
	TenantNotFound         // AADSTS90002
	MissingPermission      // 403: the app lacks an application permission (Error.Permission names it)
	NotFound               // 404: the object is gone
	NotAllowed             // 403 notAllowed: SharePoint refuses this change on this object (e.g. a permission the item inherits)
	ResyncRequired         // 410 on a delta link: follow Error.Location and enumerate again
	Throttled              // still throttled after the retries
	Network                // DNS, connection refused, TLS, timeouts
	Rejected               // Graph refused the change as not allowed (e.g. expiry on a non-anonymous link)
	Locked                 // 423 on one drive: its SharePoint site is locked (no access, or read-only for changes)
	NoAccess               // 403 on one drive while the app holds the permission the call needs
	// The certificate credential (appended: the values above are stored as statuses and labels).
	WrongCertificate   // AADSTS700027 "signature did not match": the key is not the registered certificate's
	UnknownCertificate // AADSTS700027 "key was not found": the certificate is not (or no longer) registered for the app
	ExpiredCertificate // AADSTS700027 "key used is expired", AADSTS1000502, or the PEM's certificate has expired
	BadCertificate     // the PEM is unusable before any request: no certificate, no RSA key, or a key of another certificate
)

// Credential reports kinds that mean the app's credentials (or the tenant or app they name) are
// wrong: nothing works until an administrator acts, so retrying cannot help.
func (k Kind) Credential() bool {
	switch k {
	case WrongSecret, ExpiredSecret, ClientNotFound, TenantNotFound,
		WrongCertificate, UnknownCertificate, ExpiredCertificate, BadCertificate:
		return true
	}
	return false
}

// DriveInaccessible reports kinds that concern one drive only: the drive is
// skipped (and tried again next time), never the whole run.
func (k Kind) DriveInaccessible() bool { return k == Locked || k == NoAccess }

var kindNames = map[Kind]string{
	Unknown: "unknown", WrongSecret: "wrong_secret", ExpiredSecret: "expired_secret",
	ClientNotFound: "client_not_found", TenantNotFound: "tenant_not_found",
	MissingPermission: "missing_permission", NotFound: "not_found", NotAllowed: "not_allowed",
	ResyncRequired: "resync_required", Throttled: "throttled", Network: "network", Rejected: "rejected",
	Locked: "locked", NoAccess: "no_access",
	WrongCertificate: "wrong_certificate", UnknownCertificate: "unknown_certificate",
	ExpiredCertificate: "expired_certificate", BadCertificate: "bad_certificate",
}

// String is a stable snake_case name, usable as a status or metric label.
func (k Kind) String() string {
	if s, ok := kindNames[k]; ok {
		return s
	}
	return fmt.Sprintf("kind(%d)", int(k))
}

// Error is a classified Graph or sign-in failure. Message is a sentence for
// an administrator; it never contains the client secret, a private key or a token.
type Error struct {
	Kind       Kind
	Permission string // MissingPermission: the application permission the call needs
	Message    string
	Status     int    // HTTP status, 0 when none
	Code       string // Graph error code or AADSTS code
	RetryAfter time.Duration
	Location   string // ResyncRequired: the link that starts a fresh enumeration
	err        error
}

func (e *Error) Error() string { return e.Message }

// Unwrap gives the underlying SDK or transport error, for logs and errors.Is.
func (e *Error) Unwrap() error { return e.err }

// KindOf returns the Kind of a classified error, Unknown otherwise.
func KindOf(err error) Kind {
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	return Unknown
}

// op describes a call for error messages: what it does and which application
// permission it needs.
type op struct {
	what       string // "list users"
	permission string // "User.Read.All"
	drive      bool   // the call concerns one drive: a 403 or 423 is that drive's
	write      bool   // the call changes sharing
}

var (
	opUsers       = op{what: "list users", permission: "User.Read.All"}
	opDrives      = op{what: "read users' OneDrives", permission: "Files.Read.All", drive: true}
	opDelta       = op{what: "read drive changes with sharing information", permission: "Sites.FullControl.All", drive: true}
	opPermissions = op{what: "read sharing permissions", permission: "Sites.FullControl.All", drive: true}
	opDelete      = op{what: "stop sharing", permission: "Files.ReadWrite.All", drive: true, write: true}
	opExpire      = op{what: "set a sharing link's expiry", permission: "Files.ReadWrite.All", drive: true, write: true}
)

var aadsts = regexp.MustCompile(`AADSTS(\d+)`)

// classify turns any error from the SDK, azidentity or the transport into an
// *Error. Context cancellation is returned unchanged so callers can tell a
// stop from a failure.
func (c *Client) classify(o op, err error) error {
	if err == nil {
		return nil
	}
	var already *Error
	if errors.As(err, &already) {
		return err
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}

	var authErr *azidentity.AuthenticationFailedError
	if errors.As(err, &authErr) || strings.Contains(err.Error(), "ClientSecretCredential") || strings.Contains(err.Error(), "ClientCertificateCredential") {
		return c.classifySignIn(err, authErr)
	}

	var odata *odataerrors.ODataError
	if errors.As(err, &odata) {
		code, msg := "", ""
		if m := odata.GetErrorEscaped(); m != nil {
			code, msg = deref(m.GetCode()), deref(m.GetMessage())
		}
		var loc string
		if h := odata.GetResponseHeaders(); h != nil {
			if v := h.Get("Location"); len(v) > 0 {
				loc = v[0]
			}
		}
		var ra time.Duration
		if h := odata.GetResponseHeaders(); h != nil {
			if v := h.Get("Retry-After"); len(v) > 0 {
				ra, _ = parseRetryAfter(v[0], time.Now())
			}
		}
		return c.classifyStatus(o, odata.ResponseStatusCode, code, msg, loc, ra, err)
	}
	var api *abs.ApiError
	if errors.As(err, &api) {
		var loc string
		if api.ResponseHeaders != nil {
			if v := api.ResponseHeaders.Get("Location"); len(v) > 0 {
				loc = v[0]
			}
		}
		return c.classifyStatus(o, api.ResponseStatusCode, "", api.Message, loc, 0, err)
	}
	if ne := c.classifyNetwork(err, c.graphHost); ne != nil {
		return ne
	}
	return &Error{Kind: Unknown, Message: fmt.Sprintf("Could not %s: %v.", o.what, redact(err.Error())), err: err}
}

// classifyStatus maps an HTTP status and Graph error code.
func (c *Client) classifyStatus(o op, status int, code, msg, location string, retryAfter time.Duration, err error) *Error {
	e := &Error{Status: status, Code: code, err: err, Location: location, RetryAfter: retryAfter}
	// Decisions key on the status and Graph's error code only: messages are
	// for people and change without notice.
	switch {
	case o.drive && (status == 423 || status == 403 && strings.EqualFold(code, "notAllowed") && !o.write):
		// A change answered 403 notAllowed is ambiguous: a blocked site and an
		// entry the item inherits both get it. It stays NotAllowed below; the
		// caller tells them apart by reading the item (sharing does).
		lockedDrive(e, o, status, code)
	case status == 403 && strings.EqualFold(code, "notAllowed"):
		e.Kind = NotAllowed
		e.Message = fmt.Sprintf("Microsoft 365 does not allow this on this item (403 notAllowed) while trying to %s.", o.what)
	case o.drive && status == 403 && !c.lacksPermission(o.permission):
		// The app holds the permission (the token says so, or nothing said
		// otherwise): this drive alone is closed to it. Graph answers the
		// same 403 accessDenied in both cases, so the body cannot tell.
		e.Kind = NoAccess
		e.Message = "Microsoft 365 does not let the app open this OneDrive (403 Access denied): an administrator has restricted access to its SharePoint site. It is skipped, and tried again on the next sync."
	case status == 403 || strings.EqualFold(code, "accessDenied") || strings.EqualFold(code, "Authorization_RequestDenied"):
		e.Kind, e.Permission = MissingPermission, o.permission
		e.Message = fmt.Sprintf("The app is not allowed to %s: grant it the Microsoft Graph application permission %s (with admin consent) in Microsoft Entra ID.", o.what, o.permission)
	case status == 410:
		e.Kind = ResyncRequired
		e.Message = "Microsoft Graph can no longer serve changes from the stored delta link; the drive must be enumerated again."
	case status == 404:
		e.Kind = NotFound
		e.Message = fmt.Sprintf("Could not %s: the object no longer exists.", o.what)
	case status == 429 || status == 503:
		e.Kind = Throttled
		e.Message = fmt.Sprintf("Microsoft Graph is throttling this app; could not %s after several retries.", o.what)
	case status == 401:
		e.Kind = Unknown
		e.Message = fmt.Sprintf("Microsoft Graph rejected the app's access token while trying to %s (%s).", o.what, nonEmpty(code, "401"))
	case status == 400 || status == 405 || status == 409:
		e.Kind = Rejected
		if o == opExpire {
			e.Message = "Microsoft Graph only accepts an expiry date on anonymous (\"Anyone with the link\") links; this permission is not one."
		} else {
			e.Message = fmt.Sprintf("Microsoft Graph refused to %s: %s", o.what, sentence(msg))
		}
	default:
		e.Kind = Unknown
		e.Message = fmt.Sprintf("Microsoft Graph answered %d %s while trying to %s: %s", status, code, o.what, sentence(msg))
	}
	return e
}

// lockedDrive fills e for a 423 on one drive, or a 403 notAllowed on a read.
// SharePoint answers a NoAccess site lock with notAllowed on every call, and a
// change on a ReadOnly-locked site with 423 accessDenied.
func lockedDrive(e *Error, o op, status int, code string) {
	e.Kind = Locked
	switch {
	case o.write && status == 423 && strings.EqualFold(code, "accessDenied"):
		e.Message = "The OneDrive is locked read-only (its SharePoint site has a ReadOnly lock): Microsoft 365 refuses changes to its sharing until a SharePoint administrator unlocks the site."
	case o.write:
		e.Message = "The OneDrive is locked (its SharePoint site has a NoAccess lock): Microsoft 365 refuses every call on it until a SharePoint administrator unlocks the site."
	default:
		e.Message = "The OneDrive is locked (its SharePoint site has a NoAccess lock): Microsoft 365 refuses to show its contents until a SharePoint administrator unlocks the site. It is skipped, and tried again on the next sync."
	}
}

// classifySignIn maps Entra ID's AADSTS codes.
func (c *Client) classifySignIn(err error, authErr *azidentity.AuthenticationFailedError) error {
	text := err.Error()
	e := &Error{err: err}
	if authErr != nil && authErr.RawResponse != nil {
		e.Status = authErr.RawResponse.StatusCode
	}
	m := aadsts.FindStringSubmatch(text)
	if m != nil {
		e.Code = "AADSTS" + m[1]
	}
	switch e.Code {
	case "AADSTS7000215":
		e.Kind = WrongSecret
		e.Message = fmt.Sprintf("Microsoft Entra ID rejected the client secret for app %s (AADSTS7000215): copy the secret's Value, not its Secret ID, from the app's Certificates & secrets page.", c.cfg.ClientID)
	case "AADSTS7000222":
		e.Kind = ExpiredSecret
		e.Message = fmt.Sprintf("The client secret of app %s has expired (AADSTS7000222): create a new secret in the app's Certificates & secrets page and update the integration.", c.cfg.ClientID)
	case "AADSTS700027", "AADSTS50013":
		// One code for three causes: only the bracketed reason tells them apart, so
		// this is the one decision taken on Entra's words (field texts in
		// docs/graph-behaviour.md, "Certificates").
		switch reason := strings.ToLower(text); {
		case strings.Contains(reason, "key was not found") || strings.Contains(reason, "not registered"):
			e.Kind = UnknownCertificate
			e.Message = fmt.Sprintf("Microsoft Entra ID does not know the certificate with thumbprint %s for app %s (%s, the key was not found): upload the certificate (its public part, a .cer or .pem file without the key) in the app's Certificates & secrets page, or give the certificate that is uploaded there.", c.certThumbprint, c.cfg.ClientID, e.Code)
		case strings.Contains(reason, "expired"):
			e.Kind = ExpiredCertificate
			e.Message = fmt.Sprintf("The certificate with thumbprint %s of app %s has expired in Microsoft Entra ID (%s): upload a new certificate in the app's Certificates & secrets page and update the integration with it.", c.certThumbprint, c.cfg.ClientID, e.Code)
		default:
			e.Kind = WrongCertificate
			e.Message = fmt.Sprintf("Microsoft Entra ID could not verify the client assertion of app %s with the certificate registered under thumbprint %s (%s, the signature did not match): the private key does not belong to that certificate; give the PEM holding the uploaded certificate together with its own key.", c.cfg.ClientID, c.certThumbprint, e.Code)
		}
	case "AADSTS1000502":
		e.Kind = ExpiredCertificate
		e.Message = fmt.Sprintf("The certificate with thumbprint %s of app %s is outside its validity period (AADSTS1000502): create a new certificate, upload it in the app's Certificates & secrets page and update the integration with it.", c.certThumbprint, c.cfg.ClientID)
	case "AADSTS700024":
		e.Kind = Unknown
		e.Message = fmt.Sprintf("Microsoft Entra ID refused the client assertion of app %s as outside its valid time range (AADSTS700024): this server's clock is probably wrong; synchronise it (NTP).", c.cfg.ClientID)
	case "AADSTS700016":
		e.Kind = ClientNotFound
		e.Message = fmt.Sprintf("No application with client ID %s exists in tenant %s (AADSTS700016): check the Application (client) ID, and that the app is registered in or consented to by this tenant.", c.cfg.ClientID, c.cfg.TenantID)
	case "AADSTS900023":
		e.Kind, e.Message = TenantNotFound, notATenant(c.cfg.TenantID, "AADSTS900023")
	case "AADSTS90002", "AADSTS90023":
		e.Kind = TenantNotFound
		e.Message = fmt.Sprintf("Tenant %s was not found (%s): check the Directory (tenant) ID.", c.cfg.TenantID, e.Code)
	default:
		if ne := c.classifyNetwork(err, c.authorityHost); ne != nil {
			ne.err = err
			return ne
		}
		e.Kind = Unknown
		if e.Code != "" {
			e.Message = fmt.Sprintf("Microsoft Entra ID refused to issue a token for app %s (%s).", c.cfg.ClientID, e.Code)
		} else {
			e.Message = fmt.Sprintf("Could not sign in to Microsoft Entra ID as app %s: %s", c.cfg.ClientID, sentence(firstLine(redact(text))))
		}
	}
	return e
}

// classifyNetwork recognises transport failures, by type where the error
// chain keeps them and by text where azidentity flattened it.
func (c *Client) classifyNetwork(err error, host string) *Error {
	text := err.Error()
	var dns *net.DNSError
	var unknownCA x509.UnknownAuthorityError
	var hostErr x509.HostnameError
	var certInvalid x509.CertificateInvalidError
	var verify *tls.CertificateVerificationError
	var rec tls.RecordHeaderError
	var uerr *url.Error
	if errors.As(err, &uerr) {
		if u, perr := url.Parse(uerr.URL); perr == nil && u.Host != "" {
			host = u.Host
		}
	}
	e := &Error{Kind: Network, err: err}
	switch {
	case errors.As(err, &dns) || strings.Contains(text, "no such host"):
		e.Message = fmt.Sprintf("Cannot resolve %s (DNS lookup failed): check the host name and this server's DNS.", host)
	case errors.Is(err, syscall.ECONNREFUSED) || strings.Contains(text, "connection refused"):
		e.Message = fmt.Sprintf("Connection to %s refused: nothing is listening there, or a firewall rejects it.", host)
	case errors.As(err, &unknownCA) || errors.As(err, &hostErr) || errors.As(err, &certInvalid) || errors.As(err, &verify) ||
		errors.As(err, &rec) || strings.Contains(text, "x509:") || strings.Contains(text, "tls:"):
		e.Message = fmt.Sprintf("TLS with %s failed (%s): if a proxy inspects TLS, give its CA in OVERSHARE_GRAPH_CA_FILE.", host, tlsReason(text))
	case isTimeout(err) || strings.Contains(text, "i/o timeout"):
		e.Message = fmt.Sprintf("Timed out talking to %s.", host)
	case errors.Is(err, syscall.ECONNRESET) || strings.Contains(text, "connection reset") || strings.Contains(text, "EOF"):
		e.Message = fmt.Sprintf("The connection to %s was cut repeatedly.", host)
	case errors.Is(err, syscall.EHOSTUNREACH) || errors.Is(err, syscall.ENETUNREACH):
		e.Message = fmt.Sprintf("%s is unreachable from this server (no route).", host)
	default:
		return nil
	}
	return e
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

func tlsReason(text string) string {
	switch {
	case strings.Contains(text, "unknown authority"):
		return "certificate signed by an unknown authority"
	case strings.Contains(text, "not valid for") || strings.Contains(text, "doesn't contain any IP SANs"):
		return "certificate does not match the host name"
	case strings.Contains(text, "expired"):
		return "certificate expired or not yet valid"
	case strings.Contains(text, "first record does not look like a TLS handshake"):
		return "the server does not speak TLS"
	}
	return "handshake failed"
}

var bearer = regexp.MustCompile(`(?i)(bearer\s+|client_secret=|access_token["=:\s]+)[A-Za-z0-9._~+/=-]+`)

// redact removes anything that looks like a token or secret from text we
// did not write ourselves.
func redact(s string) string {
	return bearer.ReplaceAllString(s, "${1}[redacted]")
}

func firstLine(s string) string {
	s = strings.TrimSpace(s)
	for _, line := range strings.Split(s, "\n") {
		if strings.Contains(line, "AADSTS") || strings.Contains(line, "error") {
			return strings.TrimSpace(line)
		}
	}
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return strings.TrimSpace(s[:i])
	}
	return s
}

func sentence(s string) string {
	s = strings.TrimSpace(s)
	if s == "" {
		return "no reason given."
	}
	if !strings.HasSuffix(s, ".") {
		s += "."
	}
	return s
}

func nonEmpty(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}

// notATenant says what a tenant identifier looks like, for one that is not (code: Entra ID's, or
// "" when refused before any request).
func notATenant(id, code string) string {
	if code != "" {
		code = " (" + code + ")"
	}
	return fmt.Sprintf("%q is not a tenant identifier%s: the Directory (tenant) ID is a GUID such as 72f988bf-86f1-41af-91ab-2d7cd011db47, or a domain of the tenant such as contoso.onmicrosoft.com.", id, code)
}

// validTenantID is azidentity's own check, made first so that its refusal is the caller's
// input in words, not a failure of this server's settings: letters, digits, '.' and '-'.
func validTenantID(id string) bool {
	for _, r := range id {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '-') {
			return false
		}
	}
	return id != ""
}
