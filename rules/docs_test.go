package rules

import (
	"os"
	"regexp"
	"slices"
	"strings"
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

// TestDocumentedExamplesCompile compiles every line of the doc's cel blocks:
// an example that no longer compiles misleads the people who copy it.
func TestDocumentedExamplesCompile(t *testing.T) {
	doc, err := os.ReadFile("../docs/rules.md")
	if err != nil {
		t.Fatal(err)
	}
	examples, _, ok := strings.Cut(string(doc), "### The built-in rules in CEL")
	if !ok {
		t.Fatal("docs/rules.md has no section on the built-in rules in CEL")
	}
	block := regexp.MustCompile("(?s)```cel\n(.*?)```")
	blocks := block.FindAllStringSubmatch(examples, -1)
	if len(blocks) == 0 {
		t.Fatal("docs/rules.md has no cel examples")
	}
	for _, b := range blocks {
		for _, line := range strings.Split(strings.TrimSpace(b[1]), "\n") {
			if _, err := Compile(line); err != nil {
				t.Errorf("the example %q does not compile: %v", line, err)
			}
		}
	}
}

// TestDocumentedBuiltinsAreTheRulesThatRun: the doc shows each built-in's
// text as it runs.
func TestDocumentedBuiltinsAreTheRulesThatRun(t *testing.T) {
	doc, err := os.ReadFile("../docs/rules.md")
	if err != nil {
		t.Fatal(err)
	}
	_, section, _ := strings.Cut(string(doc), "### The built-in rules in CEL")
	shown := map[string]string{}
	for _, m := range regexp.MustCompile("(?s)`([a-z-]+)`:\n\n```cel\n(.*?)\n```").FindAllStringSubmatch(section, -1) {
		shown[m[1]] = m[2]
	}
	rules, err := Builtins()
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rules {
		if shown[r.ID] != r.Text {
			t.Errorf("docs/rules.md shows %s as\n%s\nbut it runs\n%s", r.ID, shown[r.ID], r.Text)
		}
	}
}
