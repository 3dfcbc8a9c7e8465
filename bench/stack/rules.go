package main

import (
	"fmt"
	"os"
	"time"

	"github.com/prometheus/prometheus/promql/parser"
	"gopkg.in/yaml.v3"
)

// Rule is one rule of a rules file and the history it reads.
type Rule struct {
	Group string
	Name  string // the recorded series or the alert
	Expr  string
	// Window is the longest stretch of history any of its selectors reads
	// per series at one evaluation: a range vector's range, plus the ranges
	// of the subqueries around it; 0 for an instant selector, which reads
	// the latest sample only.
	Window time.Duration
}

// SamplesPerSeries is how many samples the rule reads per series at one
// evaluation when series are scraped every scrape: the samples in its
// window, or the one latest sample for an instant selector.
func (r Rule) SamplesPerSeries(scrape time.Duration) int64 {
	return int64(r.Window/scrape) + 1
}

// RuleFile is what a Prometheus rules file holds.
type RuleFile struct {
	Groups []struct {
		Name  string
		Rules []struct {
			Record, Alert, Expr string
		}
	}
}

// ReadRules reads a rules file and measures each rule's window.
func ReadRules(path string) ([]Rule, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var f RuleFile
	if err := yaml.Unmarshal(b, &f); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	var out []Rule
	for gi, g := range f.Groups {
		for ri, r := range g.Rules {
			w, err := Window(r.Expr)
			if err != nil {
				return nil, fmt.Errorf("%s: groups[%d].rules[%d].expr: %w", path, gi, ri, err)
			}
			name := r.Record
			if name == "" {
				name = r.Alert
			}
			out = append(out, Rule{Group: g.Name, Name: name, Expr: r.Expr, Window: w})
		}
	}
	return out, nil
}

// Window is the longest history a PromQL expression reads per series at
// one evaluation (see Rule.Window).
func Window(expr string) (time.Duration, error) {
	e, err := parser.NewParser(parser.Options{}).ParseExpr(expr)
	if err != nil {
		return 0, err
	}
	var longest time.Duration
	parser.Inspect(e, func(n parser.Node, path []parser.Node) error {
		var w time.Duration
		switch n := n.(type) {
		case *parser.MatrixSelector:
			w = n.Range
		case *parser.VectorSelector:
			if len(path) > 0 {
				if _, inMatrix := path[len(path)-1].(*parser.MatrixSelector); inMatrix {
					return nil // counted with its matrix
				}
			}
		default:
			return nil
		}
		for _, p := range path {
			if sq, ok := p.(*parser.SubqueryExpr); ok {
				w += sq.Range
			}
		}
		longest = max(longest, w)
		return nil
	})
	return longest, nil
}

// Widest is the rule that reads the most history, and how many rules and
// groups there are.
func Widest(rules []Rule) (widest Rule, groups int) {
	seen := map[string]bool{}
	for _, r := range rules {
		if r.Window > widest.Window || widest.Name == "" {
			widest = r
		}
		seen[r.Group] = true
	}
	return widest, len(seen)
}
