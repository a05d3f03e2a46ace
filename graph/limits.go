package graph

import (
	"context"
	"fmt"
	"net/http"

	"github.com/99designs/gqlgen/complexity"
	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/overshare/overshare/auth"
	"github.com/overshare/overshare/graph/model"
)

// Limits bound the work one GraphQL request may ask for. Every request is checked before any
// resolver runs; a request over a limit is answered BAD_USER_INPUT saying which limit and by how
// much, and costs the server next to nothing.
type Limits struct {
	// MaxTokens bounds the lexer: a query of more tokens is refused while parsing, before the
	// validator (whose overlap check is quadratic in repeated fields) sees it.
	MaxTokens int
	// MaxDepth is the deepest nesting of selections (the root field is depth 1).
	MaxDepth int
	// MaxFields is the number of fields selected, counted after expanding fragments: aliases of
	// one field count once each.
	MaxFields int
	// MaxComplexity bounds the estimated cost: each field costs 1 plus its children, a
	// connection `first` times its children, a list of permissions 10 times.
	MaxComplexity int
}

// DefaultLimits fit the dashboard and scripts with a wide margin: a page of 500 items with every
// field, permissions, owner and drive costs about 80,000.
var DefaultLimits = Limits{MaxTokens: 5000, MaxDepth: 12, MaxFields: 500, MaxComplexity: 100_000}

// MaxFirst is the largest page a connection returns.
const MaxFirst = 500

// permissionsPerItem is the complexity estimate of an item's permission list.
const permissionsPerItem = 10

// limitsExtension enforces Limits and the schema's default deny on root fields.
type limitsExtension struct {
	limits Limits
	es     graphql.ExecutableSchema
	// cache is gqlgen's cache of validated documents: one found there passed precheck before.
	cache graphql.Cache[*ast.QueryDocument]
	// introspection: __schema and __type answer (to an ADMIN); otherwise they are refused.
	introspection bool
}

type overPOSTKey struct{}

// OverPOST marks a request that came as a POST, which cannot carry a subscription's stream:
// one is refused at once instead of holding the request until its first event.
func OverPOST(r *http.Request) *http.Request {
	return r.WithContext(context.WithValue(r.Context(), overPOSTKey{}, true))
}

var _ interface {
	graphql.HandlerExtension
	graphql.OperationContextMutator
} = &limitsExtension{}

func (e *limitsExtension) ExtensionName() string { return "OvershareLimits" }

func (e *limitsExtension) Validate(es graphql.ExecutableSchema) error {
	e.es = es
	return nil
}

func limitError(format string, args ...any) *gqlerror.Error {
	return &gqlerror.Error{
		Message:    fmt.Sprintf(format, args...),
		Extensions: map[string]any{"code": CodeBadUserInput},
	}
}

func (e *limitsExtension) MutateOperationContext(ctx context.Context, opCtx *graphql.OperationContext) *gqlerror.Error {
	if opCtx.Operation.Operation == ast.Subscription && ctx.Value(overPOSTKey{}) != nil {
		return limitError("a subscription needs the websocket at /graphql (graphql-transport-ws); POST answers queries and mutations")
	}
	if err := rootRules(ctx, opCtx, e.introspection); err != nil {
		return err
	}
	w := walker{opCtx: opCtx, maxFields: e.limits.MaxFields, maxDepth: e.limits.MaxDepth}
	w.selections(opCtx.Operation.SelectionSet, 1)
	if w.fields > e.limits.MaxFields {
		return limitError("the query selects more than %d fields (aliases and fragments count once per use); split it", e.limits.MaxFields)
	}
	if w.depth > e.limits.MaxDepth {
		return limitError("the query nests %d levels deep; the limit is %d", w.depth, e.limits.MaxDepth)
	}
	if c := complexity.Calculate(ctx, e.es, opCtx.Operation, opCtx.Variables); c > e.limits.MaxComplexity {
		return limitError("the query is too complex: %d against a limit of %d (a connection costs `first` × its fields); ask for fewer rows or fields", c, e.limits.MaxComplexity)
	}
	return nil
}

// walker counts fields and depth, stopping as soon as a limit is passed so that a fragment
// bomb (fragments spreading fragments twice, 2^n fields) costs no more than the limit.
type walker struct {
	opCtx     *graphql.OperationContext
	maxFields int
	maxDepth  int
	fields    int
	depth     int
}

func (w *walker) over() bool { return w.fields > w.maxFields || w.depth > w.maxDepth }

func (w *walker) selections(set ast.SelectionSet, depth int) {
	for _, sel := range set {
		if w.over() {
			return
		}
		switch s := sel.(type) {
		case *ast.Field:
			w.fields++
			if depth == 1 && (s.Name == "__schema" || s.Name == "__type") {
				// Introspection (only when enabled) is bounded by the schema's own shape and by
				// the validator's introspection depth rule.
				continue
			}
			if depth > w.depth {
				w.depth = depth
			}
			w.selections(s.SelectionSet, depth+1)
		case *ast.InlineFragment:
			w.fields++
			w.selections(s.SelectionSet, depth)
		case *ast.FragmentSpread:
			w.fields++
			if f := w.opCtx.Doc.Fragments.ForName(s.Name); f != nil {
				w.selections(f.SelectionSet, depth)
			}
		}
	}
}

// rootRules denies a root field that carries no role rule. The schema gives every root field
// @hasRole, and a test walks the schema for it; this is the runtime half of default deny, for a
// field added without one.
func rootRules(ctx context.Context, opCtx *graphql.OperationContext, introspection bool) *gqlerror.Error {
	for _, f := range graphql.CollectFields(opCtx, opCtx.Operation.SelectionSet, nil) {
		if f.Name == "__typename" {
			continue
		}
		if f.Name == "__schema" || f.Name == "__type" {
			// Off unless enabled; then for ADMINs. Refused in words either way: gqlgen's own
			// answer is an error without a code, which reads as INTERNAL.
			if !introspection {
				return limitError("introspection is turned off on this server; the whole schema is schema.graphqls in Overshare's repository")
			}
			if _, err := auth.Require(ctx, auth.RoleAdmin); err != nil {
				code, msg, _ := classify(err)
				return &gqlerror.Error{Message: msg, Extensions: map[string]any{"code": code}}
			}
			continue
		}
		if f.Definition == nil || f.Definition.Directives.ForName("hasRole") == nil {
			return &gqlerror.Error{
				Message:    fmt.Sprintf("%s has no access rule, so nobody may use it", f.Name),
				Extensions: map[string]any{"code": CodeForbidden},
			}
		}
	}
	return nil
}

// hasRole is the @hasRole directive.
func hasRole(ctx context.Context, _ any, next graphql.Resolver, role auth.Role) (any, error) {
	if _, err := auth.Require(ctx, role); err != nil {
		return nil, err
	}
	return next(ctx)
}

// pageFirst checks a connection's `first`.
func pageFirst(first *int) (int, error) {
	if first == nil {
		return 50, nil
	}
	switch {
	case *first < 0:
		return 0, badInput("first must not be negative")
	case *first > MaxFirst:
		return 0, badInput("first must be at most %d, got %d; page with `after`", MaxFirst, *first)
	}
	return *first, nil
}

// connectionCost is the complexity of a connection: `first` (at most MaxFirst, the resolver
// refuses more with a clearer message) times its selection.
func connectionCost(child int, first *int) int {
	n := 50
	if first != nil {
		n = min(max(*first, 1), MaxFirst)
	}
	return n * child
}

// newComplexity prices connections and lists by the rows they may return.
func newComplexity() ComplexityRoot {
	var c ComplexityRoot
	c.Query.Users = func(child int, _ string, _ *model.UserFilter, first *int, _ *string) int {
		return connectionCost(child, first)
	}
	c.Query.Drives = func(child int, _ string, _ *model.DriveFilter, first *int, _ *string) int {
		return connectionCost(child, first)
	}
	c.Query.DriveItems = func(child int, _ string, _ *model.DriveItemFilter, first *int, _ *string, _ *model.DriveItemOrder) int {
		return connectionCost(child, first)
	}
	c.Query.SyncRuns = func(child int, _ string, first *int, _ *string) int {
		return connectionCost(child, first)
	}
	c.Query.AuditEvents = func(child int, _ *string, _ *model.AuditEventFilter, first *int, _ *string) int {
		return connectionCost(child, first)
	}
	c.Overview.TopSharers = func(child int, first *int) int { return connectionCost(child, first) }
	c.Overview.DrivesNearQuota = func(child int, first *int) int { return connectionCost(child, first) }
	c.DriveItem.Permissions = func(child int) int { return permissionsPerItem * child }
	c.BulkPreviewItem.Permissions = func(child int) int { return permissionsPerItem * child }
	c.StopSharingBulkResult.Preview = func(child int) int { return MaxFirst * child }
	return c
}
