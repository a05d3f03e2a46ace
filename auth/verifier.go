package auth

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/go-jose/go-jose/v4"
)

// Verifier checks bearer tokens against one OpenID Connect provider.
type Verifier struct {
	cfg  Config
	algs []jose.SignatureAlgorithm
	idv  *oidc.IDTokenVerifier
}

// NewVerifier discovers the provider at cfg.Issuer (its /.well-known/openid-configuration, whose
// "issuer" must equal cfg.Issuer) and returns a verifier that fetches its keys on first use and
// caches them.
// The provider must be reachable now; a caller that starts before its provider retries.
func NewVerifier(ctx context.Context, cfg Config) (*Verifier, error) {
	cfg = cfg.withDefaults()
	if cfg.Issuer == "" {
		return nil, errors.New("auth: the OIDC issuer is not set (OVERSHARE_OIDC_ISSUER)")
	}
	if cfg.Audience == "" {
		return nil, errors.New("auth: the OIDC audience is not set (OVERSHARE_OIDC_AUDIENCE)")
	}
	algs := make([]jose.SignatureAlgorithm, 0, len(cfg.SupportedAlgs))
	for _, a := range cfg.SupportedAlgs {
		// With only the provider's public keys at hand, an HMAC "secret" would be public and
		// "none" is no signature at all: accepting either lets anyone mint tokens.
		if a == "none" || strings.HasPrefix(strings.ToUpper(a), "HS") {
			return nil, fmt.Errorf("auth: signature algorithm %q cannot be accepted for bearer tokens", a)
		}
		algs = append(algs, jose.SignatureAlgorithm(a))
	}
	if cfg.HTTPClient != nil {
		ctx = oidc.ClientContext(ctx, cfg.HTTPClient)
	}
	provider, err := oidc.NewProvider(ctx, cfg.Issuer)
	if err != nil {
		return nil, fmt.Errorf("auth: discover OIDC provider %s: %w", cfg.Issuer, err)
	}
	var meta struct {
		JWKSURL string `json:"jwks_uri"`
	}
	if err := provider.Claims(&meta); err != nil || meta.JWKSURL == "" {
		return nil, fmt.Errorf("auth: OIDC provider %s publishes no jwks_uri", cfg.Issuer)
	}
	client := cfg.HTTPClient
	if client == nil {
		client = http.DefaultClient
	}
	// provider.Verifier would use go-oidc's RemoteKeySet; keySet says why it is not used.
	keys := &keySet{url: meta.JWKSURL, client: client, algs: algs}
	idv := oidc.NewVerifier(cfg.Issuer, keys, &oidc.Config{
		ClientID:             cfg.Audience,
		SupportedSigningAlgs: cfg.SupportedAlgs,
	})
	return &Verifier{cfg: cfg, algs: algs, idv: idv}, nil
}

// Config returns the configuration in use, defaults filled in.
func (v *Verifier) Config() Config { return v.cfg }

// Verify checks a raw bearer token: signature and algorithm, issuer, audience and expiry. It
// answers ErrNoToken for an empty token and a *TokenError otherwise. A valid token whose role
// claim holds neither role yields a Principal without roles, not an error.
func (v *Verifier) Verify(ctx context.Context, rawToken string) (*Principal, error) {
	if rawToken == "" {
		return nil, ErrNoToken
	}
	// go-oidc checks the signature before the issuer, so a token from another provider would be
	// reported as a bad signature, after a key fetch looking for its key id. Reading the header
	// and issuer first (trusting neither: they only pick the message for a token that is refused
	// anyway) gives the precise reason and saves that fetch.
	jws, err := jose.ParseSignedCompact(rawToken, v.algs)
	if err != nil {
		var unexpected *jose.ErrUnexpectedSignatureAlgorithm
		if errors.As(err, &unexpected) {
			return nil, &TokenError{Reason: ReasonAlgorithm, cause: err,
				Message: fmt.Sprintf("tokens signed with %s are not accepted (accepted: %s)",
					printable(string(unexpected.Got)), strings.Join(v.cfg.SupportedAlgs, ", "))}
		}
		return nil, &TokenError{Reason: ReasonMalformed, cause: err, Message: "the token is not a well-formed signed JWT"}
	}
	var unverified struct {
		Issuer   string          `json:"iss"`
		Audience json.RawMessage `json:"aud"`
		Version  string          `json:"ver"`
	}
	if err := json.Unmarshal(jws.UnsafePayloadWithoutVerification(), &unverified); err != nil {
		return nil, &TokenError{Reason: ReasonMalformed, cause: err, Message: "the token's claims are not a JSON object"}
	}
	// A token for Microsoft Graph is what Entra ID gives a sign-in that asked for no scope of
	// this API. Entra issues it as a v1.0 token (another issuer), so it is told apart before the
	// issuer: "wrong issuer" would send an operator to the wrong setting.
	if auds := audiences(unverified.Audience); isGraph(auds) && !slices.Contains(auds, v.cfg.Audience) {
		return nil, v.wrongAudience(nil, true)
	}
	if unverified.Issuer != v.cfg.Issuer {
		msg := fmt.Sprintf("the token was not issued by %s", v.cfg.Issuer)
		if unverified.Version == "1.0" && strings.HasSuffix(v.cfg.Issuer, "/v2.0") {
			// Entra ID issues v1.0 access tokens (issuer https://sts.windows.net/<tenant>/) for
			// an API app until its manifest asks for version 2.
			msg += "; it is an Entra ID v1.0 token: set accessTokenAcceptedVersion to 2 in the API app's manifest"
		}
		return nil, &TokenError{Reason: ReasonIssuer, Message: msg}
	}

	tok, err := v.idv.Verify(ctx, rawToken)
	if err != nil {
		return nil, v.classify(err)
	}
	var claims struct {
		Name              string `json:"name"`
		Email             string `json:"email"`
		PreferredUsername string `json:"preferred_username"`
		ClientID          string `json:"client_id"`
		AuthorizedParty   string `json:"azp"`
	}
	var payload json.RawMessage
	if err := tok.Claims(&claims); err != nil {
		return nil, &TokenError{Reason: ReasonMalformed, cause: err, Message: "the token's claims cannot be read"}
	}
	if err := tok.Claims(&payload); err != nil {
		return nil, &TokenError{Reason: ReasonMalformed, cause: err, Message: "the token's claims cannot be read"}
	}
	return &Principal{
		Subject:   tok.Subject,
		Name:      firstNonEmpty(claims.Name, claims.PreferredUsername, claims.ClientID, claims.AuthorizedParty, tok.Subject),
		Email:     claims.Email,
		Roles:     mapRoles(claimValues(payload, v.cfg.RolesClaim), v.cfg),
		ExpiresAt: tok.Expiry,
	}, nil
}

// classify turns go-oidc's errors into reasons. go-oidc has a type only for expiry; the other
// checks fail with fmt.Errorf text, matched here on the stable parts of its messages.
func (v *Verifier) classify(err error) *TokenError {
	var expired *oidc.TokenExpiredError
	msg := err.Error()
	switch {
	case errors.As(err, &expired):
		return &TokenError{Reason: ReasonExpired, cause: err,
			Message: "the token expired at " + expired.Expiry.UTC().Format(time.RFC3339)}
	case strings.Contains(msg, "expected audience"):
		return v.wrongAudience(err, false)
	case strings.Contains(msg, "issued by a different provider"):
		return &TokenError{Reason: ReasonIssuer, cause: err,
			Message: fmt.Sprintf("the token was not issued by %s", v.cfg.Issuer)}
	case strings.Contains(msg, "fetching keys"):
		return &TokenError{Reason: ReasonKeysUnavailable, cause: err,
			Message: "the identity provider's signing keys could not be fetched to check the token"}
	case strings.Contains(msg, "failed to verify signature"):
		return &TokenError{Reason: ReasonSignature, cause: err, Message: "the token's signature does not verify"}
	case strings.Contains(msg, "nbf"):
		return &TokenError{Reason: ReasonNotYetValid, cause: err, Message: "the token is not valid yet"}
	case strings.Contains(msg, "malformed"):
		return &TokenError{Reason: ReasonMalformed, cause: err, Message: "the token is not a well-formed signed JWT"}
	}
	return &TokenError{Reason: ReasonInvalid, cause: err, Message: "the token is not valid"}
}

// printable quotes an attacker-supplied header value briefly enough to put in a message.
func printable(s string) string {
	if len(s) > 16 {
		s = s[:16] + "…"
	}
	return fmt.Sprintf("%q", s)
}

func firstNonEmpty(values ...string) string {
	for _, v := range values {
		if v != "" {
			return v
		}
	}
	return ""
}
