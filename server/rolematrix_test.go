package server_test

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/vektah/gqlparser/v2/ast"

	"github.com/overshare/overshare/auth/devidp"
	"github.com/overshare/overshare/auth/devidp/devidptest"
	"github.com/overshare/overshare/graph"
	"github.com/overshare/overshare/graph/model"
	"github.com/overshare/overshare/internal/testdb"
	"github.com/overshare/overshare/store"
)

// TestRoleMatrix is generated from the schema: every query and mutation is called over HTTP
// by each kind of caller, with its required arguments filled in. Without a token: 401 and
// nothing run. With a valid token that holds no role: FORBIDDEN. A VIEWER: FORBIDDEN on every
// field whose rule names ADMIN, never on the VIEWER ones. An ADMIN: never FORBIDDEN (queries
// only: the mutations would change the seed). A field added to the schema is in the matrix
// by itself.
func TestRoleMatrix(t *testing.T) {
	testdb.Each(t, func(t *testing.T, st *store.Store) {
		e := newEnv(t, st, nil)
		schema := graph.NewExecutableSchema(graph.Config{}).Schema()
		tokens := map[string]string{
			"viewer":  e.idp.Token(t, devidp.DemoViewerScriptClientID),
			"no role": e.idp.Token(t, devidptest.NoRolesClient),
			"admin":   e.idp.Token(t, devidp.DemoAdminScriptClientID),
		}
		checked := 0
		for _, root := range []*ast.Definition{schema.Query, schema.Mutation} {
			op := map[bool]string{true: "query", false: "mutation"}[root == schema.Query]
			for _, f := range root.Fields {
				if strings.HasPrefix(f.Name, "__") {
					continue
				}
				checked++
				q := op + " { " + f.Name + args(schema, f.Arguments) + selection(schema, f.Type) + " }"
				role := ""
				if d := f.Directives.ForName("hasRole"); d != nil {
					role = d.Arguments.ForName("role").Value.Raw
				}
				name := root.Name + "." + f.Name
				if r := e.do("", q, nil); r.status != http.StatusUnauthorized || len(r.Data) > 0 && string(r.Data) != "null" {
					t.Errorf("%s without a token: %d %s", name, r.status, r.Data)
				}
				if r := e.do(tokens["no role"], q, nil); !slices.Contains(r.codes(), graph.CodeForbidden) {
					t.Errorf("%s with no role: %v, want FORBIDDEN\n%s", name, r.codes(), q)
				}
				viewer := e.do(tokens["viewer"], q, nil)
				if forbidden := slices.Contains(viewer.codes(), graph.CodeForbidden); forbidden != (role != "VIEWER") {
					t.Errorf("%s (rule %q) as VIEWER: %v\n%s", name, role, viewer.codes(), q)
				}
				if op == "query" {
					if r := e.do(tokens["admin"], q, nil); slices.Contains(r.codes(), graph.CodeForbidden) || slices.Contains(r.codes(), graph.CodeInternal) {
						t.Errorf("%s as ADMIN: %v %+v\n%s", name, r.codes(), r.Errors, q)
					}
				}
			}
		}
		if checked < 20 {
			t.Fatalf("only %d root fields", checked)
		}
	})
}

// args fills a field's required arguments with values of their types.
func args(schema *ast.Schema, defs ast.ArgumentDefinitionList) string {
	var parts []string
	for _, a := range defs {
		if a.Type.NonNull && a.DefaultValue == nil {
			parts = append(parts, a.Name+": "+value(schema, a.Name, a.Type))
		}
	}
	if len(parts) == 0 {
		return ""
	}
	return "(" + strings.Join(parts, ", ") + ")"
}

func value(schema *ast.Schema, name string, t *ast.Type) string {
	if t.Elem != nil {
		return "[" + value(schema, name, t.Elem) + "]"
	}
	switch t.NamedType {
	case "ID":
		if strings.Contains(strings.ToLower(name), "integration") {
			return fmt.Sprintf("%q", model.EncodeID(model.TypeIntegration, integrationID))
		}
		return `"unknown-id"`
	case "String":
		return `"x"`
	case "Int":
		return "1"
	case "Float":
		return "1.0"
	case "Boolean":
		return "true"
	case "Time":
		return `"2026-01-01T00:00:00Z"`
	}
	def := schema.Types[t.NamedType]
	switch {
	case def == nil:
		return `"x"`
	case def.Kind == ast.Enum:
		return def.EnumValues[0].Name
	case def.Kind == ast.InputObject:
		var fields []string
		for _, f := range def.Fields {
			if f.Type.NonNull && f.DefaultValue == nil {
				fields = append(fields, f.Name+": "+value(schema, f.Name, f.Type))
			}
		}
		return "{" + strings.Join(fields, ", ") + "}"
	}
	return `"x"`
}

// selection asks for __typename of an object, nothing of a scalar.
func selection(schema *ast.Schema, t *ast.Type) string {
	for t.Elem != nil {
		t = t.Elem
	}
	if def := schema.Types[t.NamedType]; def != nil && (def.Kind == ast.Object || def.Kind == ast.Interface || def.Kind == ast.Union) {
		return " { __typename }"
	}
	return ""
}
