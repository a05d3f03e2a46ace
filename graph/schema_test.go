package graph

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/overshare/overshare/auth"
	"github.com/overshare/overshare/graph/model"
	"github.com/overshare/overshare/store"
)

// viewerFields are the only places a VIEWER may reach; every other rule names ADMIN.
var viewerFields = map[string]bool{"Query.viewer": true, "Query.overview": true}

// Default deny, checked on the schema itself: every root field carries a role rule, and only the
// fields meant for viewers accept the VIEWER role. A field added without a rule fails here.
func TestEveryRootFieldHasARoleRule(t *testing.T) {
	schema := NewExecutableSchema(Config{}).Schema()
	roots := []*ast.Definition{schema.Query, schema.Mutation, schema.Subscription}
	checked := 0
	for _, root := range roots {
		if root == nil {
			t.Fatal("the schema lacks a root type")
		}
		for _, f := range root.Fields {
			if strings.HasPrefix(f.Name, "__") {
				continue
			}
			checked++
			name := root.Name + "." + f.Name
			d := f.Directives.ForName("hasRole")
			if d == nil {
				t.Errorf("%s has no @hasRole rule", name)
				continue
			}
			role := d.Arguments.ForName("role").Value.Raw
			if want := map[bool]string{true: "VIEWER", false: "ADMIN"}[viewerFields[name]]; role != want {
				t.Errorf("%s allows %s, want %s", name, role, want)
			}
		}
	}
	if checked < 20 {
		t.Fatalf("only %d root fields found", checked)
	}
	// The overview's lists name people and drives: admin only.
	for _, f := range []string{"topSharers", "drivesNearQuota"} {
		d := schema.Types["Overview"].Fields.ForName(f).Directives.ForName("hasRole")
		if d == nil || d.Arguments.ForName("role").Value.Raw != "ADMIN" {
			t.Errorf("Overview.%s is not ADMIN-only", f)
		}
	}
}

// The run-time half of default deny refuses a root field without a rule.
func TestRootFieldWithoutRuleIsDenied(t *testing.T) {
	schema := gqlparser.MustLoadSchema(&ast.Source{Input: `
directive @hasRole(role: String!) on FIELD_DEFINITION
type Query { open: Int  guarded: Int @hasRole(role: "ADMIN") }`})
	for q, want := range map[string]string{"{ open }": "FORBIDDEN", "{ guarded __typename }": "", "{ guarded ... { open } }": "FORBIDDEN"} {
		doc, errs := gqlparser.LoadQueryWithRules(schema, q, nil)
		if errs != nil {
			t.Fatal(errs)
		}
		opCtx := &graphql.OperationContext{Doc: doc, Operation: doc.Operations[0]}
		err := rootRules(context.Background(), opCtx, false)
		got := ""
		if err != nil {
			got = err.Extensions["code"].(string)
		}
		if got != want {
			t.Errorf("%s: got %q (%v), want %q", q, got, err, want)
		}
	}
}

// Errors reach the caller with a code and words meant for them; anything unexpected is
// "internal error", never its text.
func TestErrorPresenter(t *testing.T) {
	present := ErrorPresenter(slog.New(slog.DiscardHandler))
	ctx := graphql.WithResponseContext(context.Background(), graphql.DefaultErrorPresenter, nil)
	sqlErr := errors.New(`ERROR: relation "drive_items" does not exist (SQLSTATE 42P01) SELECT * FROM drive_items WHERE secret='hunter2'`)
	for _, c := range []struct {
		err      error
		code     string
		contains string
	}{
		{auth.ErrNoToken, CodeUnauthenticated, "bearer token"},
		{&auth.TokenError{Reason: auth.ReasonExpired, Message: "the token expired"}, CodeUnauthenticated, "expired"},
		{fmt.Errorf("%w: this needs the ADMIN role", auth.ErrForbidden), CodeForbidden, "ADMIN"},
		{badInput("first must be at most 500"), CodeBadUserInput, "500"},
		{fmt.Errorf("load: %w", store.ErrNotFound), CodeNotFound, "not found"},
		{fmt.Errorf("list: %w", store.ErrBadCursor), CodeBadUserInput, "cursor"},
		{&apiError{CodeGraphError, "the client secret has expired"}, CodeGraphError, "expired"},
		{sqlErr, CodeInternal, "internal error"},
		{fmt.Errorf("list drive items: %w", sqlErr), CodeInternal, "internal error"},
		{&wrapped{"stop sharing", sqlErr}, CodeInternal, "internal error"},
		// As gqlgen hands resolver errors over: marked by the field middleware, then located.
		{graphql.ErrorOnPath(ctx, &resolverError{fmt.Errorf("list: %w", sqlErr)}), CodeInternal, "internal error"},
		{graphql.ErrorOnPath(ctx, &resolverError{badInput("first must be at most 500")}), CodeBadUserInput, "500"},
		{graphql.ErrorOnPath(ctx, &resolverError{&apiError{CodeInternal, "syncing is not available on this server"}}), CodeInternal, "not available"},
		// Argument coercion, before any resolver: about the query.
		{graphql.ErrorOnPath(ctx, errors.New("time: cannot parse \"yesterday\"")), CodeBadUserInput, "cannot parse"},
	} {
		got := present(ctx, c.err)
		if got.Extensions["code"] != c.code || !strings.Contains(got.Message, c.contains) {
			t.Errorf("%v: presented as %q %v", c.err, got.Message, got.Extensions)
		}
		if strings.Contains(got.Message, "SELECT") || strings.Contains(got.Message, "hunter2") {
			t.Errorf("%v: leaked %q", c.err, got.Message)
		}
	}
}

func TestGlobalIDsRoundTrip(t *testing.T) {
	for _, parts := range [][]string{{"it1", "b!abc:def%x"}, {"00000000-0000-0000-0000-000000000001", "01ABC!123"}} {
		id := model.EncodeID(model.TypeDriveItem, parts...)
		got, err := model.DecodeID(id, model.TypeDriveItem)
		if err != nil || got[0] != parts[0] || got[1] != parts[1] {
			t.Errorf("%v: round trip gave %v, %v", parts, got, err)
		}
		if _, err := model.DecodeID(id, model.TypeUser); err == nil {
			t.Errorf("%v: a DriveItem ID passed as a User ID", parts)
		}
	}
	for _, bad := range []string{"", "!!!", model.EncodeID("Secret", "x"), model.EncodeID(model.TypeDriveItem, "only-one-part")} {
		if _, _, err := model.DecodeAnyID(bad); err == nil {
			t.Errorf("%q decoded", bad)
		}
	}
	if id, err := integrationIDArg("3f1c2a9e-7d7b-4b59-9d7c-2f1f3b9a1c11"); err != nil || id != "3f1c2a9e-7d7b-4b59-9d7c-2f1f3b9a1c11" {
		t.Errorf("a plain integration id: %q %v", id, err)
	}
}

// Every selection path a list resolver prefetches for walks the schema: each step's field exists
// on its type, and its type is the next step's. A renamed field or type fails here instead of
// leaving the prefetch silently unused.
func TestPrefetchPathsExistInTheSchema(t *testing.T) {
	schema := NewExecutableSchema(Config{}).Schema()
	for _, path := range prefetchPaths() {
		steps := strings.Fields(path)
		for i, step := range steps {
			typ, name, ok := strings.Cut(step, ".")
			def := schema.Types[typ]
			if !ok || def == nil {
				t.Errorf("%s: no type %q", path, typ)
				break
			}
			f := def.Fields.ForName(name)
			if f == nil {
				t.Errorf("%s: %s has no field %s", path, typ, name)
				break
			}
			if i+1 < len(steps) {
				nextType, _, _ := strings.Cut(steps[i+1], ".")
				if got := f.Type.Name(); got != nextType {
					t.Errorf("%s: %s.%s is a %s, not a %s", path, typ, name, got, nextType)
					break
				}
			}
		}
	}
	if n := len(prefetchPaths()); n < 8 {
		t.Fatalf("only %d prefetch paths", n)
	}
}
