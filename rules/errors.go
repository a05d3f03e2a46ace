package rules

import (
	"fmt"
	"reflect"
	"regexp"
	"strings"

	"cel.dev/cel-go/cel"
)

// CompileError lists what is wrong with a rule's text.
type CompileError struct {
	Problems []Problem
}

// Problem is one mistake, where it is (1-based line and column) and what was
// expected there, in words.
type Problem struct {
	Line, Column int
	Message      string
}

func (e *CompileError) Error() string {
	lines := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		lines[i] = fmt.Sprintf("line %d, column %d: %s", p.Line, p.Column, p.Message)
	}
	return strings.Join(lines, "\n")
}

var (
	undefinedField = regexp.MustCompile(`^undefined field '(\w+)'`)
	undeclaredRef  = regexp.MustCompile(`^undeclared reference to '(\w+)'`)
	noOverload     = regexp.MustCompile(`^found no matching overload for '([^']+)' applied to '(.*)'`)
)

// compileError rewrites cel-go's issues for people who write rules, not
// compilers: the variable and field they meant, the nearest known name.
func compileError(text string, iss *cel.Issues) *CompileError {
	out := &CompileError{}
	for _, e := range iss.Errors() {
		out.Problems = append(out.Problems, Problem{
			Line: max(e.Location.Line(), 1), Column: max(e.Location.Column()+1, 1),
			Message: inWords(text, e.Message),
		})
	}
	return out
}

func inWords(text, msg string) string {
	if m := undefinedField.FindStringSubmatch(msg); m != nil {
		return unknownField(text, m[1])
	}
	if m := undeclaredRef.FindStringSubmatch(msg); m != nil {
		return unknownName(text, m[1])
	}
	if m := noOverload.FindStringSubmatch(msg); m != nil {
		return wrongTypes(operator(m[1]), m[2])
	}
	if rest, ok := strings.CutPrefix(msg, "Syntax error: "); ok {
		return syntaxInWords(rest)
	}
	return msg
}

func unknownField(text, field string) string {
	owner := regexp.MustCompile(`(\w+)\s*\.\s*` + regexp.QuoteMeta(field) + `\b`).FindStringSubmatch(text)
	if owner == nil {
		return "unknown field '" + field + "'"
	}
	for _, v := range variables {
		if v.name == owner[1] {
			return "unknown field '" + field + "' of " + v.name + suggest(field, fieldsOf(v.typ))
		}
	}
	return "unknown field '" + field + "' of " + owner[1]
}

// functions a rule may call, for suggestions.
var functions = []string{"contains", "startsWith", "endsWith", "matches", "matchesAny", "size",
	"exists", "exists_one", "all", "map", "filter", "has", "days", "duration", "timestamp",
	"int", "string", "double", "getFullYear", "getMonth", "getDayOfWeek"}

func unknownName(text, name string) string {
	if regexp.MustCompile(`\b` + regexp.QuoteMeta(name) + `\s*\(`).MatchString(text) {
		return "unknown function '" + name + "'" + suggest(name, functions)
	}
	known := []string{"now"}
	for _, v := range variables {
		known = append(known, v.name)
	}
	return "unknown name '" + name + "'" + suggest(name, known) +
		"; a rule sees item, permission, owner, drive, settings and now"
}

// wrongTypes explains an operator or function applied to types it does not
// take; cel-go writes the argument types as "(a, b)" or "target.(args)".
func wrongTypes(op, applied string) string {
	target, args, member := strings.Cut(applied, ".(")
	var msg string
	if member {
		msg = fmt.Sprintf("'%s' cannot be used on %s with %s", op, target, strings.TrimSuffix(args, ")"))
	} else {
		msg = fmt.Sprintf("'%s' cannot be used on %s", op, strings.ReplaceAll(strings.Trim(applied, "()"), ", ", " and "))
	}
	switch {
	case op == "contains" && strings.HasPrefix(target, "list("):
		msg += "; to test a list, write: \"value\" in the.list"
	case (op == "-" || op == "+") && strings.Contains(applied, "timestamp") && strings.Contains(applied, "int"):
		msg += "; to shift a time by days, write: now - days(30)"
	}
	return msg
}

func syntaxInWords(msg string) string {
	msg = strings.ReplaceAll(msg, "'<EOF>'", "the end of the rule")
	if rest, ok := strings.CutPrefix(msg, "mismatched input "); ok {
		if found, expected, ok := strings.Cut(rest, " expecting "); ok {
			if strings.Contains(expected, "IDENTIFIER") {
				expected = "a value (a name, a number, a string, a list or an opening parenthesis)"
			}
			return "found " + found + ", expected " + expected
		}
	}
	if rest, ok := strings.CutPrefix(msg, "token recognition error at: "); ok {
		switch {
		case strings.HasPrefix(rest, "'="):
			return "unexpected '='; to compare, write '=='"
		case strings.HasPrefix(rest, "''") || strings.HasPrefix(rest, "'\""):
			return "a string is missing its closing quote"
		}
		return "unexpected character " + rest
	}
	if rest, ok := strings.CutPrefix(msg, "extraneous input "); ok {
		found, expected, _ := strings.Cut(rest, " expecting ")
		if expected == "the end of the rule" {
			return "unexpected " + found + " where the rule should end"
		}
		return "unexpected " + found
	}
	if rest, ok := strings.CutPrefix(msg, "missing "); ok {
		if what, at, ok := strings.Cut(rest, " at "); ok {
			return "missing " + what + " before " + at
		}
	}
	return msg
}

func operator(overload string) string {
	if strings.HasPrefix(overload, "_") && strings.HasSuffix(overload, "_") {
		return strings.Trim(overload, "_")
	}
	return overload
}

// fieldsOf lists the CEL names of a variable's fields.
func fieldsOf(t reflect.Type) []string {
	var out []string
	for i := range t.NumField() {
		if name := t.Field(i).Tag.Get("cel"); name != "" && name != "-" {
			out = append(out, name)
		}
	}
	return out
}

// suggest names the closest known name when it is close enough to be the
// one meant (at most a third of it mistyped).
func suggest(got string, known []string) string {
	best, bestDist := "", len(got)/3+1
	for _, k := range known {
		if d := distance(strings.ToLower(got), strings.ToLower(k)); d < bestDist {
			best, bestDist = k, d
		}
	}
	if best == "" {
		return ""
	}
	return " (did you mean '" + best + "'?)"
}

// distance is Levenshtein's edit distance.
func distance(a, b string) int {
	prev := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur := make([]int, len(b)+1)
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev = cur
	}
	return prev[len(b)]
}
