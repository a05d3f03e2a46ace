package rules

import (
	"errors"
	"strings"
	"testing"
)

// FuzzCompile: whatever an admin types, Compile answers without panicking,
// either with a rule that runs on an item or with problems that each have
// a line and a column inside the text and a message.
func FuzzCompile(f *testing.F) {
	for _, b := range builtins {
		f.Add(b.text)
	}
	for _, text := range append(customRules, `item.sise > 3`, `(item.size > 3`, `permission.scope = "x"`,
		"item.name ==\n 'a", `settings.allowedDomains.all(a, settings.allowedDomains.all(b, a == b))`) {
		f.Add(text)
	}
	in := input(Item{Name: "Passwords.xlsx"}, edit(anyone("a")), guest("g", "x@fabrikam.com"))
	f.Fuzz(func(t *testing.T, text string) {
		r, err := Compile(text)
		if err == nil {
			r.ID = "fuzzed"
			if _, err := (&Pack{Rules: []*Rule{r}}).Evaluate(&in, nil); err != nil &&
				!strings.Contains(err.Error(), "rule fuzzed") {
				t.Fatalf("a failed run does not name its rule: %v", err)
			}
			return
		}
		var ce *CompileError
		if !errors.As(err, &ce) || len(ce.Problems) == 0 {
			t.Fatalf("Compile(%q) = %v, want problems in words", text, err)
		}
		lines := strings.Count(text, "\n") + 1
		for _, p := range ce.Problems {
			if p.Line < 1 || p.Line > lines || p.Column < 1 || p.Message == "" {
				t.Fatalf("Compile(%q): problem %+v is not inside the text", text, p)
			}
		}
	})
}
