package rules

import (
	"fmt"
	"strings"

	"cel.dev/cel-go/cel"
)

// Severity is how bad a match is.
type Severity string

const (
	Low      Severity = "LOW"
	Medium   Severity = "MEDIUM"
	High     Severity = "HIGH"
	Critical Severity = "CRITICAL"
)

// Fix is the one-step remedy a rule offers.
type Fix string

const (
	FixStopSharing Fix = "STOP_SHARING"
	FixSetExpiry   Fix = "SET_EXPIRY"
	FixDowngrade   Fix = "DOWNGRADE_TO_VIEW"
	FixAccept      Fix = "ACCEPT"
)

// CostLimit bounds what one evaluation of a rule may cost, in cel-go's cost
// units (about one per field read, comparison or list element): a rule whose
// estimated worst case is above it is refused when compiled, and a run on an
// input beyond the estimate's bounds (cost.go) stops with an error when it
// exceeds it.
const CostLimit = 10_000

// Rule is a compiled rule. Built-in rules carry every field; Compile fills
// Text and the program, and the caller names and rates a custom rule.
type Rule struct {
	ID       string
	Title    string
	Severity Severity
	Why      string
	Fixes    []Fix
	Text     string
	// PerPermission: the expression names permission, so it runs once per
	// permission and each match names one.
	PerPermission bool
	// program runs inputs within the estimate's bounds, counted the others
	// (Rule.eval).
	program, counted cel.Program
}

// Compile checks a rule's text and prepares it to run. Its error is a
// *CompileError whose problems say, in words, where and what is wrong.
func Compile(text string) (*Rule, error) {
	env, err := environment()
	if err != nil {
		return nil, err
	}
	if strings.TrimSpace(text) == "" {
		return nil, &CompileError{Problems: []Problem{{Line: 1, Column: 1,
			Message: `the rule is empty; write a condition, e.g. permission.scope == "anonymous"`}}}
	}
	ast, iss := env.Compile(text)
	if iss.Err() != nil {
		return nil, compileError(text, iss)
	}
	if !ast.OutputType().IsExactType(cel.BoolType) {
		return nil, &CompileError{Problems: []Problem{{Line: 1, Column: 1, Message: fmt.Sprintf(
			"a rule must be true or false, but this one is %s", typeInWords(ast.OutputType()))}}}
	}
	if err := checkCost(env, ast); err != nil {
		return nil, err
	}
	prg, err := env.Program(ast, cel.EvalOptions(cel.OptOptimize))
	if err != nil {
		return nil, fmt.Errorf("prepare the rule to run: %w", err)
	}
	counted, err := env.Program(ast, cel.EvalOptions(cel.OptOptimize), cel.CostLimit(CostLimit))
	if err != nil {
		return nil, fmt.Errorf("prepare the rule to run with a cost limit: %w", err)
	}
	r := &Rule{Text: text, PerPermission: names(ast, "permission"), program: prg, counted: counted}
	// A custom rule can always be accepted; one about a permission can also
	// be fixed by removing it. Built-ins name their own fixes.
	r.Fixes = []Fix{FixAccept}
	if r.PerPermission {
		r.Fixes = []Fix{FixStopSharing, FixAccept}
	}
	return r, nil
}

// names reports whether the checked expression refers to the variable.
func names(ast *cel.Ast, variable string) bool {
	for _, ref := range ast.NativeRep().ReferenceMap() {
		if ref.Name == variable {
			return true
		}
	}
	return false
}

func checkCost(env *cel.Env, ast *cel.Ast) error {
	est, err := env.EstimateCost(ast, sizes{})
	if err != nil {
		return fmt.Errorf("estimate the rule's cost: %w", err)
	}
	if est.Max > CostLimit {
		return &CompileError{Problems: []Problem{{Line: 1, Column: 1, Message: fmt.Sprintf(
			"the rule could cost up to %d steps per item, more than the limit of %d; "+
				"avoid nested loops over lists (exists, all, map, filter)", est.Max, CostLimit)}}}
	}
	return nil
}

func typeInWords(t *cel.Type) string {
	switch {
	case t.IsExactType(cel.StringType):
		return "a string"
	case t.IsExactType(cel.IntType), t.IsExactType(cel.UintType), t.IsExactType(cel.DoubleType):
		return "a number"
	case t.IsExactType(cel.TimestampType):
		return "a time"
	case t.IsExactType(cel.DurationType):
		return "a duration"
	case t.IsExactType(cel.DynType):
		return "of a type known only when it runs; compare it with something"
	}
	return "a " + t.String()
}
