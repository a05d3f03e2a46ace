package rules

import (
	"os"
	"regexp"
	"slices"
	"testing"
)

// TestDocumentedVariablesExist keeps docs/rules.md and the structs equal:
// every documented variable compiles, every field a rule can see is
// documented, and every built-in rule is in the doc's table.
func TestDocumentedVariablesExist(t *testing.T) {
	doc, err := os.ReadFile("../docs/rules.md")
	if err != nil {
		t.Fatal(err)
	}
	documented := map[string]bool{}
	for _, m := range regexp.MustCompile("(?m)^- `([a-z]+(?:\\.[a-zA-Z]+)?)` ").FindAllSubmatch(doc, -1) {
		ref := string(m[1])
		documented[ref] = true
		if _, err := Compile(ref + " == " + ref); err != nil {
			t.Errorf("docs/rules.md lists %s, which a rule cannot use: %v", ref, err)
		}
	}
	if !documented["now"] {
		t.Error("docs/rules.md does not list now")
	}
	for _, v := range variables {
		for _, f := range fieldsOf(v.typ) {
			if !documented[v.name+"."+f] {
				t.Errorf("%s.%s is not in docs/rules.md", v.name, f)
			}
		}
	}
	rules, err := Builtins()
	if err != nil {
		t.Fatal(err)
	}
	inTable := regexp.MustCompile("(?m)^\\| `([a-z-]+)` \\| ([A-Z]+) \\|").FindAllSubmatch(doc, -1)
	for _, r := range rules {
		if !slices.ContainsFunc(inTable, func(m [][]byte) bool { return string(m[1]) == r.ID && string(m[2]) == string(r.Severity) }) {
			t.Errorf("built-in rule %s (%s) is not in docs/rules.md's table", r.ID, r.Severity)
		}
	}
}
