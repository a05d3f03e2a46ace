package auth

import (
	"errors"
)

var (
	// ErrNoToken means the request carried no bearer token.
	ErrNoToken = errors.New("no bearer token")
	// ErrInvalidToken matches every *TokenError with errors.Is.
	ErrInvalidToken = errors.New("invalid token")
	// ErrForbidden means the token is valid but lacks the role asked for.
	ErrForbidden = errors.New("forbidden")
)

// Reason names why a token was refused, in words fit for an API error message.
type Reason string

const (
	ReasonMalformed       Reason = "malformed"
	ReasonAlgorithm       Reason = "unsupported algorithm"
	ReasonIssuer          Reason = "wrong issuer"
	ReasonSignature       Reason = "bad signature"
	ReasonExpired         Reason = "expired"
	ReasonNotYetValid     Reason = "not yet valid"
	ReasonAudience        Reason = "wrong audience"
	ReasonKeysUnavailable Reason = "signing keys unavailable"
	ReasonInvalid         Reason = "invalid"
)

// TokenError says why a bearer token was refused. Its message never contains the token or any
// claim value taken from it, so it can be returned to the caller and logged as is.
type TokenError struct {
	Reason  Reason
	Message string // a sentence for people, e.g. "the token expired at 2026-11-29T12:00:00Z"
	// Scope is the scope to request for a token this API accepts, when the refusal is about the
	// audience and the scope is known: RFC 6750 §3 lets the WWW-Authenticate answer name it.
	Scope string
	cause error // go-oidc's error, for logs; it may quote claim values, so Error() leaves it out
}

func (e *TokenError) Error() string { return "invalid token: " + e.Message }

// Is makes errors.Is(err, ErrInvalidToken) true for every TokenError.
func (e *TokenError) Is(target error) bool { return target == ErrInvalidToken }

// Unwrap gives the underlying verification error, e.g. *oidc.TokenExpiredError.
func (e *TokenError) Unwrap() error { return e.cause }
