package rules

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestCompileErrorsInWords(t *testing.T) {
	cases := []struct {
		name, text string
		want       []string // each must appear in the error
	}{
		{"empty", "  \n", []string{"line 1, column 1", "the rule is empty"}},
		{"syntax error", `item.size >`, []string{"line 1, column 12", "found the end of the rule", "expected a value"}},
		{"syntax error on line 2", "item.isFolder &&\n  item.size > > 3", []string{"line 2, column 15"}},
		{"unexpected character", `item.name # 2`, []string{"line 1, column 11", "unexpected character '#'"}},
		{"unknown field", `item.sise > 1000`, []string{"line 1, column 5", "unknown field 'sise' of item (did you mean 'size'?)"}},
		{"unknown field of permission", `permission.scop == "anonymous"`, []string{"unknown field 'scop' of permission (did you mean 'scope'?)"}},
		{"unknown variable", `itm.size > 3`, []string{"line 1, column 1", "unknown name 'itm' (did you mean 'item'?)"}},
		{"wrong types", `item.size == "big"`, []string{"'==' cannot be used on int and string"}},
		{"a time minus a number", `item.modifiedAt < now - 30`, []string{"line 1, column 23", "write: now - days(30)"}},
		{"contains on a list", `permission.roles.contains("write")`, []string{"'contains' cannot be used on list(string)", `"value" in the.list`}},
		{"unknown function", `item.name.startswith("Pay")`, []string{"unknown function 'startswith' (did you mean 'startsWith'?)"}},
		{"one equals sign", `permission.scope = "anonymous"`, []string{"line 1, column 18", "to compare, write '=='"}},
		{"unclosed string", `permission.scope == 'anonymous`, []string{"line 1, column 21", "missing its closing quote"}},
		{"unclosed parenthesis", `(item.size > 3`, []string{"missing ')' before the end of the rule"}},
		{"two mistakes", "item.nme == \"x\" &&\npermission.scpe == \"y\"", []string{
			"line 1, column 5: unknown field 'nme' of item (did you mean 'name'?)",
			"line 2, column 11: unknown field 'scpe' of permission (did you mean 'scope'?)"}},
		{"not a boolean", `item.name`, []string{"a rule must be true or false, but this one is a string"}},
		{"a number", `item.size + 1`, []string{"must be true or false", "a number"}},
		{"over the cost limit", `settings.allowedDomains.exists(a, settings.sensitivePatterns.exists(b,
  permission.domains.exists(c, item.name.matches(a + b + c))))`,
			[]string{"could cost up to", "more than the limit of 10000", "avoid nested loops"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Compile(c.text)
			var ce *CompileError
			if !errors.As(err, &ce) {
				t.Fatalf("Compile(%q) = %v, want a *CompileError", c.text, err)
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
		})
	}
}

func TestCompileAcceptsUsefulRules(t *testing.T) {
	for _, text := range customRules {
		r, err := Compile(text)
		if err != nil {
			t.Errorf("Compile(%q): %v", text, err)
			continue
		}
		if want := strings.Contains(text, "permission."); r.PerPermission != want {
			t.Errorf("%q: PerPermission = %v, want %v", text, r.PerPermission, want)
		}
	}
}

// customRules are what an admin might write: ten rules over every variable,
// also used by the benchmark.
var customRules = []string{
	`item.size > 100 * 1024 * 1024 && permission.scope != "direct"`,
	`item.path.startsWith("/HR/") && permission.scope in ["anonymous", "organization"]`,
	`owner.department == "Finance" && permission.external`,
	`permission.scope == "anonymous" && !permission.hasPassword`,
	`item.name.endsWith(".pst") || item.name.endsWith(".bak")`,
	`permission.granteeDomain in ["gmail.com", "outlook.com", "yahoo.com"]`,
	`owner.userType == "Guest" && permission.scope != "direct"`,
	`item.isFolder && item.sizeBelow > 10 * 1024 * 1024 * 1024`,
	`permission.hasExpiry && permission.expiresAt < now + days(7) && permission.scope != "direct"`,
	`drive.driveType == "business" && item.createdAt > now - days(1) && permission.scope == "anonymous"`,
}

func TestEvaluateTuningAndKeys(t *testing.T) {
	pack := builtinPack(t)
	in := input(Item{Name: "Passwords.xlsx"}, edit(anyone("a")), person("p", "bob@contoso.com"))

	all, err := pack.Evaluate(&in, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := ruleIDs(all); strings.Join(got, ",") != "anyone-link-edit,anyone-link-lifetime,sensitive-name-exposed" {
		t.Fatalf("matches %v", got)
	}
	again, _ := pack.Evaluate(&in, nil)
	for i := range all {
		if all[i].Key != again[i].Key || all[i].Key != MatchKey(all[i].RuleID, "item-1", "a") {
			t.Errorf("match %d has key %s, then %s", i, all[i].Key, again[i].Key)
		}
	}

	tuned, _ := pack.Evaluate(&in, Tuning{
		"anyone-link-lifetime":   {Off: true},
		"sensitive-name-exposed": {Severity: Critical},
	})
	if got := ruleIDs(tuned); strings.Join(got, ",") != "anyone-link-edit,sensitive-name-exposed" {
		t.Fatalf("with one rule off, matches %v", got)
	}
	if tuned[1].Severity != Critical {
		t.Errorf("re-rated rule has severity %s, want CRITICAL", tuned[1].Severity)
	}
}

func TestItemRuleMatchesOncePerItem(t *testing.T) {
	r, err := Compile(`item.name.endsWith(".pst")`)
	if err != nil {
		t.Fatal(err)
	}
	r.ID, r.Severity = "mailbox-export", Low
	in := input(Item{Name: "old.pst"}, anyone("a"), org("o"))
	got, err := (&Pack{Rules: []*Rule{r}}).Evaluate(&in, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].PermissionID != "" {
		t.Errorf("an item rule gave %+v, want one match without a permission", got)
	}
}

func TestBadPatternFailsTheEvaluation(t *testing.T) {
	pack := builtinPack(t)
	in := input(Item{}, anyone("a"))
	in.Settings.SensitivePatterns = []string{"payroll(("}
	_, err := pack.Evaluate(&in, nil)
	if err == nil || !strings.Contains(err.Error(), "sensitive-name-exposed") ||
		!strings.Contains(err.Error(), "is not a regular expression") {
		t.Errorf("a broken pattern gave %v, want the rule and the pattern named", err)
	}
}

func TestScoreListsItsFactors(t *testing.T) {
	risk := Score([]Match{
		{RuleID: "stale-anyone-link", Severity: Low},
		{RuleID: "guest-edit", Severity: High, PermissionID: "g1"},
		{RuleID: "guest-edit", Severity: High, PermissionID: "g2"},
		{RuleID: "anyone-link-edit", Severity: Critical},
	})
	if risk.Score != 25+10+1 {
		t.Errorf("score %d, want 36", risk.Score)
	}
	want := []Factor{{"anyone-link-edit", Critical, 25, 1}, {"guest-edit", High, 10, 2}, {"stale-anyone-link", Low, 1, 1}}
	if len(risk.Factors) != len(want) {
		t.Fatalf("factors %+v", risk.Factors)
	}
	for i := range want {
		if risk.Factors[i] != want[i] {
			t.Errorf("factor %d is %+v, want %+v", i, risk.Factors[i], want[i])
		}
	}
}

func ruleIDs(ms []Match) []string {
	out := make([]string, len(ms))
	for i, m := range ms {
		out[i] = m.RuleID
	}
	return out
}

// An input beyond the sizes rules are checked for runs counted: a rule that
// would stay under the limit for 64 allowed domains stops, by name, at 5,000.
func TestCostLimitHoldsForOversizedInput(t *testing.T) {
	r, err := Compile(`settings.allowedDomains.exists(d, size(d) > 200)`)
	if err != nil {
		t.Fatal(err)
	}
	r.ID = "long-domain"
	pack := &Pack{Rules: []*Rule{r}}
	in := input(Item{})
	if _, err := pack.Evaluate(&in, nil); err != nil {
		t.Fatalf("within the bounds: %v", err)
	}
	for i := range 5000 {
		in.Settings.AllowedDomains = append(in.Settings.AllowedDomains, fmt.Sprintf("d%d.example", i))
	}
	_, err = pack.Evaluate(&in, nil)
	if err == nil || !strings.Contains(err.Error(), "rule long-domain stopped at the cost limit of 10000") {
		t.Errorf("with 5,000 domains: %v, want the cost limit named", err)
	}
}

// An expired link gives no access: it matches nothing, while the same link
// a minute before it expires still does.
func TestExpiredLinksMatchNothing(t *testing.T) {
	pack := builtinPack(t)
	for _, c := range []struct {
		expires time.Time
		want    int
	}{{testNow.Add(-time.Minute), 0}, {testNow, 0}, {testNow.Add(time.Minute), 1}} {
		in := input(Item{}, expiring(edit(anyone("a")), c.expires))
		got, err := pack.Evaluate(&in, nil)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != c.want {
			t.Errorf("a link expiring at %s gave %v, want %d matches", c.expires, ruleIDs(got), c.want)
		}
	}
}

// Evaluate is shared by the workers of a run: in parallel it gives what it
// gives alone.
func TestConcurrentEvaluationAgrees(t *testing.T) {
	pack := builtinPack(t)
	pool := syntheticInputs(2_000)
	want := make([][]Match, len(pool))
	for i := range pool {
		want[i], _ = pack.Evaluate(&pool[i], nil)
	}
	got := make([][]Match, len(pool))
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			for i := w; i < len(pool); i += 4 {
				got[i], _ = pack.Evaluate(&pool[i], nil)
			}
		})
	}
	wg.Wait()
	for i := range pool {
		if !slices.Equal(got[i], want[i]) {
			t.Fatalf("item %d: in parallel %v, alone %v", i, got[i], want[i])
		}
	}
}

func TestNewPackNeedsUniqueIDs(t *testing.T) {
	custom := func(id string) *Rule {
		r, err := Compile(`item.size > 0`)
		if err != nil {
			t.Fatal(err)
		}
		r.ID = id
		return r
	}
	p, err := NewPack(custom("big-file"))
	if err != nil || len(p.Rules) != len(builtins)+1 {
		t.Fatalf("NewPack(big-file) = %v, %v", p, err)
	}
	for _, c := range []struct {
		rules []*Rule
		want  string
	}{
		{[]*Rule{custom("")}, "a custom rule has no id"},
		{[]*Rule{custom("guest-edit")}, `two rules have the id "guest-edit"`},
		{[]*Rule{custom("x"), custom("x")}, `two rules have the id "x"`},
	} {
		if _, err := NewPack(c.rules...); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("NewPack: %v, want %q", err, c.want)
		}
	}
}
