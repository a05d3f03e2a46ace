package rules

import "sort"

// Weights of the severities in an item's risk score: a critical match counts
// more than several low ones together.
var severityWeight = map[Severity]int{Low: 1, Medium: 4, High: 10, Critical: 25}

// Risk is an item's score and the factors it is the sum of.
type Risk struct {
	Score   int
	Factors []Factor
}

// Factor is one rule's part of a score. A rule counts once per item, however
// many permissions it matched (Matches says how many): three guests with edit
// rights are one risk to fix, not three times the risk of one.
type Factor struct {
	RuleID   string
	Severity Severity
	Weight   int
	Matches  int
}

// Score sums the item's matches, heaviest factor first.
func Score(matches []Match) Risk {
	var r Risk
	index := map[string]int{}
	for _, m := range matches {
		if i, ok := index[m.RuleID]; ok {
			r.Factors[i].Matches++
			continue
		}
		index[m.RuleID] = len(r.Factors)
		r.Factors = append(r.Factors, Factor{RuleID: m.RuleID, Severity: m.Severity,
			Weight: severityWeight[m.Severity], Matches: 1})
	}
	for _, f := range r.Factors {
		r.Score += f.Weight
	}
	sort.SliceStable(r.Factors, func(i, j int) bool { return r.Factors[i].Weight > r.Factors[j].Weight })
	return r
}
