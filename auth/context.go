package auth

import (
	"context"
	"fmt"
	"net/http"
	"strings"
)

type contextKey struct{}

// state is what the context knows about the caller: a principal or why there is none.
type state struct {
	principal *Principal
	err       error
}

// WithPrincipal returns a context that carries p as the caller.
func WithPrincipal(ctx context.Context, p *Principal) context.Context {
	return context.WithValue(ctx, contextKey{}, state{principal: p})
}

// WithError returns a context that records why the caller could not be authenticated, e.g. a
// *TokenError, so that Require can answer with the reason.
func WithError(ctx context.Context, err error) context.Context {
	return context.WithValue(ctx, contextKey{}, state{err: err})
}

// PrincipalFrom returns the caller, or the reason there is none: ErrNoToken when no token was
// presented (or nothing was recorded), a *TokenError when one was refused.
func PrincipalFrom(ctx context.Context) (*Principal, error) {
	s, _ := ctx.Value(contextKey{}).(state)
	switch {
	case s.err != nil:
		return nil, s.err
	case s.principal == nil:
		return nil, ErrNoToken
	}
	return s.principal, nil
}

// Require returns the caller when it holds role. Otherwise it returns the authentication error
// (ErrNoToken or a *TokenError: answer UNAUTHENTICATED) or an error wrapping ErrForbidden
// (answer FORBIDDEN).
func Require(ctx context.Context, role Role) (*Principal, error) {
	p, err := PrincipalFrom(ctx)
	if err != nil {
		return nil, err
	}
	if !p.HasRole(role) {
		return nil, fmt.Errorf("%w: this needs the %s role", ErrForbidden, role)
	}
	return p, nil
}

// Authenticate verifies rawToken and returns ctx carrying the principal or the reason it was
// refused. It is what Middleware does per request, for transports that receive the token some
// other way (the websocket connection_init payload).
func (v *Verifier) Authenticate(ctx context.Context, rawToken string) context.Context {
	p, err := v.Verify(ctx, rawToken)
	if err != nil {
		return WithError(ctx, err)
	}
	return WithPrincipal(ctx, p)
}

// BearerToken returns the token of an "Authorization: Bearer <token>" header. The scheme is
// matched case-insensitively (RFC 9110); any other scheme counts as no token.
func BearerToken(r *http.Request) (string, bool) {
	return ParseBearer(r.Header.Get("Authorization"))
}

// ParseBearer does what BearerToken does on the header value itself, e.g. the "Authorization"
// entry of a websocket connection_init payload.
func ParseBearer(header string) (string, bool) {
	scheme, token, ok := strings.Cut(strings.TrimSpace(header), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	token = strings.TrimSpace(token)
	if token == "" || strings.ContainsAny(token, " \t") {
		return "", false
	}
	return token, true
}

// Middleware verifies the request's bearer token, if any, and passes the request on with the
// principal or the refusal recorded in its context. It never rejects itself: the server refuses
// a request without a principal before parsing it (the API has no public field), and the
// GraphQL layer decides each field's role with Require.
func Middleware(v *Verifier, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		if token, ok := BearerToken(r); ok {
			ctx = v.Authenticate(ctx, token)
		} else if r.Header.Get("Authorization") != "" {
			ctx = WithError(ctx, fmt.Errorf("%w: the Authorization header does not hold a Bearer token", ErrNoToken))
		}
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}
