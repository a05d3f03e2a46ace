package graph

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"strings"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/overshare/overshare/auth"
	"github.com/overshare/overshare/graph/model"
	"github.com/overshare/overshare/sharing/change"
	"github.com/overshare/overshare/store"
)

// Error codes in extensions.code. Every error the API answers carries exactly one of them.
const (
	CodeUnauthenticated = "UNAUTHENTICATED"
	CodeForbidden       = "FORBIDDEN"
	CodeBadUserInput    = "BAD_USER_INPUT"
	CodeNotFound        = "NOT_FOUND"
	CodeGraphError      = "GRAPH_ERROR"
	CodeInternal        = "INTERNAL"
	// CodeRateLimited answers a request over a rate limit (HTTP 429, with Retry-After).
	CodeRateLimited = "RATE_LIMITED"
)

// apiError is an error whose message is written for the caller.
type apiError struct {
	code string
	msg  string
}

func (e *apiError) Error() string     { return e.msg }
func (e *apiError) ErrorCode() string { return e.code }

func badInput(format string, args ...any) error {
	return &apiError{CodeBadUserInput, fmt.Sprintf(format, args...)}
}

func notFound(format string, args ...any) error {
	return &apiError{CodeNotFound, fmt.Sprintf(format, args...)}
}

func unavailable(what string) error {
	return &apiError{CodeInternal, what + " is not available on this server"}
}

// coded is what services return for errors meant for people (see services.go).
type coded interface {
	error
	ErrorCode() string
}

// kindCodes is the code of each kind of failure of a change of sharing.
var kindCodes = map[change.Kind]string{
	change.Invalid:     CodeBadUserInput,
	change.NotFound:    CodeNotFound,
	change.GraphFailed: CodeGraphError,
}

// explained reports whether err carries its own answer for the caller: a *change.Error of a
// known kind, or a coded error.
func explained(err error) bool {
	var c coded
	var ce *change.Error
	return errors.As(err, &c) || (errors.As(err, &ce) && kindCodes[ce.Kind] != "")
}

var publicCodes = map[string]bool{
	CodeBadUserInput: true, CodeNotFound: true, CodeForbidden: true, CodeGraphError: true,
	CodeUnauthenticated: true, CodeInternal: true,
}

// PublicError is the GraphQL code and the message a caller may see for err, for answers made
// outside the GraphQL handler (the server's 401 before a request is parsed).
func PublicError(err error) (code, message string) {
	code, message, _ = classify(err)
	return code, message
}

// classify returns the code and public message of err. The message of an unexpected error is
// never shown: it may quote SQL, a file path or worse.
func classify(err error) (code, msg string, expected bool) {
	var c coded
	var ce *change.Error
	var idErr *model.IDError
	var tokenErr *auth.TokenError
	switch {
	case errors.As(err, &tokenErr):
		return CodeUnauthenticated, tokenErr.Error(), true
	case errors.Is(err, auth.ErrNoToken):
		return CodeUnauthenticated, "authentication required: send a bearer token", true
	case errors.Is(err, auth.ErrForbidden):
		return CodeForbidden, err.Error(), true
	case errors.As(err, &c) && publicCodes[c.ErrorCode()]:
		return c.ErrorCode(), c.Error(), c.ErrorCode() != CodeInternal
	case errors.As(err, &ce) && kindCodes[ce.Kind] != "":
		return kindCodes[ce.Kind], ce.Message, true
	case errors.As(err, &idErr):
		return CodeBadUserInput, idErr.Error(), true
	case errors.Is(err, store.ErrBadCursor):
		return CodeBadUserInput, "the cursor is not valid for this list and ordering", true
	case errors.Is(err, store.ErrNotFound):
		return CodeNotFound, "not found", true
	case errors.Is(err, context.Canceled):
		return CodeInternal, "the request was cancelled", true
	case errors.Is(err, context.DeadlineExceeded):
		return CodeInternal, "the request took too long", true
	}
	return CodeInternal, "internal error", false
}

// resolverError marks an error returned by a resolver or directive (see markResolverErrors), so
// that the presenter classifies it strictly even after gqlgen wraps it with the field's location.
type resolverError struct{ err error }

func (e *resolverError) Error() string { return e.err.Error() }
func (e *resolverError) Unwrap() error { return e.err }

// markResolverErrors is a field middleware.
func markResolverErrors(ctx context.Context, next graphql.Resolver) (any, error) {
	res, err := next(ctx)
	if err != nil {
		err = &resolverError{err}
	}
	return res, err
}

// ErrorPresenter maps every error to a message fit for the caller and one of the codes above.
// Unexpected errors are logged with the field path and answered "internal error".
func ErrorPresenter(log *slog.Logger) graphql.ErrorPresenterFunc {
	return func(ctx context.Context, err error) *gqlerror.Error {
		out := &gqlerror.Error{Path: graphql.GetPath(ctx)}
		var located *gqlerror.Error
		if errors.As(err, &located) {
			if located.Path != nil {
				out.Path = located.Path
			}
			out.Locations = located.Locations
		}
		var code, msg string
		var fromResolver *resolverError
		switch {
		case errors.As(err, &fromResolver) || located == nil:
			var expected bool
			code, msg, expected = classify(err)
			if !expected {
				log.ErrorContext(ctx, "GraphQL request failed", "path", out.Path.String(), "error", err)
			}
		case strings.HasPrefix(located.Message, "json request body could not be decoded"):
			// gqlgen's POST transport quotes the body and Go's type names here.
			code, msg = CodeBadUserInput, `the request body is not a GraphQL request: send a JSON object {"query": "…", "variables": {…}}`
		case strings.Contains(located.Message, "must not be null"):
			// A resolver returned nothing for a non-null field: the server's fault.
			log.ErrorContext(ctx, "GraphQL request failed", "path", out.Path.String(), "error", err)
			code, msg = CodeInternal, "internal error"
		default:
			// Raised by gqlgen itself before any resolver ran: parsing, validation, argument
			// coercion, the request limits. These describe the query, never the server's state.
			code, msg = CodeBadUserInput, located.Message
			if c, ok := located.Extensions["code"].(string); ok && publicCodes[c] {
				code = c
			}
		}
		out.Message = msg
		out.Extensions = map[string]any{"code": code}
		return out
	}
}

// Recover turns a panic in a resolver into INTERNAL, logging the value and stack for operators;
// neither reaches the caller.
func Recover(log *slog.Logger) graphql.RecoverFunc {
	return func(ctx context.Context, v any) error {
		log.ErrorContext(ctx, "GraphQL resolver panicked", "panic", fmt.Sprint(v), "stack", string(debug.Stack()))
		return &apiError{CodeInternal, "internal error"}
	}
}
