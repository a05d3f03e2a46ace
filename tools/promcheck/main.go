// Command promcheck checks Prometheus alert rule files the way `promtool check rules` does for
// what Overshare's file uses: the YAML's shape (groups of rules, each an alert or a record with
// an expression), every expression parsed by Prometheus' own PromQL parser, `for` a valid
// duration, and no duplicate alert names in a group. It prints the metric names the
// expressions select, one per line, so that a test can check them against a real /metrics.
//
// It is its own module so that Prometheus' dependencies stay out of Overshare's go.mod.
package main

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"slices"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql/parser"
	"gopkg.in/yaml.v3"
)

type ruleFile struct {
	Groups []struct {
		Name  string `yaml:"name"`
		Rules []struct {
			Alert       string            `yaml:"alert"`
			Record      string            `yaml:"record"`
			Expr        string            `yaml:"expr"`
			For         string            `yaml:"for"`
			Labels      map[string]string `yaml:"labels"`
			Annotations map[string]string `yaml:"annotations"`
		} `yaml:"rules"`
	} `yaml:"groups"`
}

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: promcheck RULES.yml...")
		os.Exit(2)
	}
	var names []string
	failed := false
	for _, path := range os.Args[1:] {
		n, errs := check(path)
		for _, err := range errs {
			fmt.Fprintf(os.Stderr, "%s: %v\n", path, err)
			failed = true
		}
		names = append(names, n...)
	}
	if failed {
		os.Exit(1)
	}
	slices.Sort(names)
	for _, n := range slices.Compact(names) {
		fmt.Println(n)
	}
}

func check(path string) (names []string, errs []error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, []error{err}
	}
	var f ruleFile
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(&f); err != nil {
		return nil, []error{fmt.Errorf("not a rule file: %w", err)}
	}
	if len(f.Groups) == 0 {
		return nil, []error{errors.New("no rule groups")}
	}
	for _, g := range f.Groups {
		if g.Name == "" {
			errs = append(errs, errors.New("a group without a name"))
		}
		seen := map[string]bool{}
		for i, r := range g.Rules {
			where := fmt.Sprintf("group %q rule %d (%s%s)", g.Name, i+1, r.Alert, r.Record)
			if (r.Alert == "") == (r.Record == "") {
				errs = append(errs, fmt.Errorf("%s: needs exactly one of alert and record", where))
			}
			if r.Alert != "" && seen[r.Alert] {
				errs = append(errs, fmt.Errorf("%s: duplicate alert name", where))
			}
			seen[r.Alert] = true
			if r.For != "" {
				if _, err := model.ParseDuration(r.For); err != nil {
					errs = append(errs, fmt.Errorf("%s: for: %w", where, err))
				}
			}
			for k := range r.Labels {
				if !model.LabelName(k).IsValid() {
					errs = append(errs, fmt.Errorf("%s: invalid label name %q", where, k))
				}
			}
			expr, err := parser.NewParser(parser.Options{}).ParseExpr(r.Expr)
			if err != nil {
				errs = append(errs, fmt.Errorf("%s: expr: %w", where, err))
				continue
			}
			parser.Inspect(expr, func(n parser.Node, _ []parser.Node) error {
				if vs, ok := n.(*parser.VectorSelector); ok {
					for _, m := range vs.LabelMatchers {
						if m.Name == labels.MetricName && m.Type == labels.MatchEqual {
							names = append(names, m.Value)
						}
					}
				}
				return nil
			})
		}
	}
	return names, errs
}
