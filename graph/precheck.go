package graph

import (
	"cmp"
	"context"
	"fmt"
	"strings"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
	"github.com/vektah/gqlparser/v2/parser"
	"github.com/vektah/gqlparser/v2/validator/core"
	"github.com/vektah/gqlparser/v2/validator/rules"

	"github.com/overshare/overshare/auth"
)

// What runs before gqlgen parses and validates a request. The validator is the expensive part
// of a hostile request: its overlapping-fields rule compares every pair of fields that share a
// response key, and reports every pair that conflicts, so 1,660 fields under one alias cost
// seconds of CPU and a 168 MB answer. gqlgen runs the validator before any resolver, and so
// before @hasRole and the limits of MutateOperationContext. Hence, per request, in order:
//
//  1. the caller must be authenticated (an anonymous request is never parsed);
//  2. a document not validated before (gqlgen's query cache holds the valid ones) is parsed
//     once more here and refused when it selects more than MaxFields fields, nests deeper than
//     MaxDepth, or gives one response key two different fields: all found in one pass that
//     stops at the limit, linear in the document;
//  3. the validator's rules report at most maxValidationErrors errors between them.

// maxValidationErrors caps the errors of one answer: a person reads the first few, and a list
// of thousands only costs the server.
const maxValidationErrors = 20

var _ graphql.OperationParameterMutator = &limitsExtension{}

// MutateOperationParameters is gqlgen's hook before parsing (steps 1 and 2 above).
func (e *limitsExtension) MutateOperationParameters(ctx context.Context, p *graphql.RawParams) *gqlerror.Error {
	if _, err := auth.PrincipalFrom(ctx); err != nil {
		code, msg, _ := classify(err)
		return &gqlerror.Error{Message: msg, Extensions: map[string]any{"code": code}}
	}
	if e.cache != nil {
		if _, ok := e.cache.Get(ctx, p.Query); ok {
			return nil
		}
	}
	doc, err := parser.ParseQueryWithTokenLimit(&ast.Source{Input: p.Query}, e.limits.MaxTokens)
	if err != nil {
		return nil // gqlgen parses it again and answers the parse error
	}
	c := precheck{doc: doc, limits: e.limits, path: map[string]bool{}}
	for _, op := range doc.Operations {
		c.sets([]scoped{{set: op.SelectionSet}}, 1)
		if c.err != nil {
			return c.err
		}
	}
	return nil
}

// precheck walks a parsed, unvalidated document: fragments may be missing or cyclic.
type precheck struct {
	doc    *ast.QueryDocument
	limits Limits
	fields int
	path   map[string]bool // fragments being expanded: a cycle is left to the validator
	err    *gqlerror.Error
}

// scoped is a selection set under the type condition of the fragment it came from ("" for
// none): fields of different type conditions may share a response key.
type scoped struct {
	set  ast.SelectionSet
	cond string
}

// condField is a field and the type condition it was selected under.
type condField struct {
	*ast.Field
	cond string
}

// against are the fields a field of one response key under type condition cond must agree
// with: those under the same condition, and those under none (the parent's own type), or with
// no condition, all. Two different conditions may name different fields (their types may be
// different objects); the validator judges those, within the field limit. The number of
// conditions is bounded by the schema's types, so this stays linear in the document.
func (c *precheck) against(first map[string]*ast.Field, cond string) []*ast.Field {
	if cond != "" {
		var out []*ast.Field
		for _, k := range []string{cond, ""} {
			if f := first[k]; f != nil {
				out = append(out, f)
			}
		}
		return out
	}
	out := make([]*ast.Field, 0, len(first))
	for _, f := range first {
		out = append(out, f)
	}
	return out
}

// sets checks the selection sets that GraphQL merges into one (the same response key selected
// several times) as one: their fields by response key, then each key's merged children.
func (c *precheck) sets(sets []scoped, depth int) {
	if depth > c.limits.MaxDepth {
		c.err = limitError("the query nests more than %d levels deep", c.limits.MaxDepth)
		return
	}
	var order []string
	byKey := map[string][]condField{}
	var collect func(set ast.SelectionSet, cond string)
	collect = func(set ast.SelectionSet, cond string) {
		for _, sel := range set {
			if c.err != nil {
				return
			}
			c.fields++
			if c.fields > c.limits.MaxFields {
				c.err = limitError("the query selects more than %d fields (aliases and fragments count once per use); split it", c.limits.MaxFields)
				return
			}
			switch s := sel.(type) {
			case *ast.Field:
				k := cmp.Or(s.Alias, s.Name)
				if _, seen := byKey[k]; !seen {
					order = append(order, k)
				}
				byKey[k] = append(byKey[k], condField{s, cond})
			case *ast.InlineFragment:
				collect(s.SelectionSet, cmp.Or(s.TypeCondition, cond))
			case *ast.FragmentSpread:
				f := c.doc.Fragments.ForName(s.Name)
				if f == nil || c.path[s.Name] {
					continue
				}
				c.path[s.Name] = true
				collect(f.SelectionSet, cmp.Or(f.TypeCondition, cond))
				delete(c.path, s.Name)
			}
		}
	}
	for _, s := range sets {
		collect(s.set, s.cond)
	}
	if c.err != nil {
		return
	}
	for _, k := range order {
		var children []scoped
		first := map[string]*ast.Field{} // by type condition: the first field of the key
		for _, f := range byKey[k] {
			for _, g := range c.against(first, f.cond) {
				if f.Name != g.Name || arguments(f.Field) != arguments(g) {
					c.err = limitError("the response key %q names two different fields (%s and %s); give them different aliases", k, describe(g), describe(f.Field))
					return
				}
			}
			if first[f.cond] == nil {
				first[f.cond] = f.Field
			}
			if len(f.SelectionSet) > 0 {
				children = append(children, scoped{set: f.SelectionSet})
			}
		}
		if len(children) > 0 {
			c.sets(children, depth+1)
		}
		if c.err != nil {
			return
		}
	}
}

func arguments(f *ast.Field) string {
	var b strings.Builder
	for _, a := range f.Arguments {
		fmt.Fprintf(&b, "%s:%s,", a.Name, a.Value.String())
	}
	return b.String()
}

func describe(f *ast.Field) string {
	if len(f.Arguments) == 0 {
		return f.Name
	}
	return f.Name + "(" + strings.TrimSuffix(arguments(f), ",") + ")"
}

// validationRules are gqlparser's default rules, each reporting through one counter that stops
// at maxValidationErrors (step 3). gqlgen asks for them once per request it validates.
func validationRules() *rules.Rules {
	r := rules.NewDefaultRules()
	// The rules without suggestions (SetDisableSuggestion), here so that they count too:
	// gqlgen adds its own only when none of that name is present.
	for _, swap := range []struct {
		old  string
		with core.Rule
	}{
		{"FieldsOnCorrectType", rules.FieldsOnCorrectTypeRuleWithoutSuggestions},
		{"ScalarLeafs", rules.ScalarLeafsRuleWithoutSuggestions},
	} {
		r.RemoveRule(swap.old)
		r.AddRule(swap.with.Name, swap.with.RuleFunc)
	}
	n := 0
	for name, rule := range r.GetInner() {
		r.ReplaceRule(name, func(observers *core.Events, addError core.AddErrFunc) {
			rule(observers, func(options ...core.ErrorOption) {
				n++
				switch {
				case n < maxValidationErrors:
					addError(options...)
				case n == maxValidationErrors:
					addError(core.Message("more errors left out: the first %d are above", maxValidationErrors-1))
				}
			})
		})
	}
	return r
}
