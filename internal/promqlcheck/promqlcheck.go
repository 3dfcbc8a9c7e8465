// Package promqlcheck finds the metric names a PromQL expression reads, so
// that generated rules and dashboards can be checked against the names the
// exporter serves and the recording rules record (conventions), and a query
// naming a metric nobody produces fails a test instead of a dashboard panel.
package promqlcheck

import (
	"fmt"
	"sort"
	"time"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql/parser"
)

// MetricNames parses expr and returns the metric names its selectors read,
// sorted and without duplicates. A selector without a fixed name (only a
// regular expression on __name__, or no name at all) is an error: nothing
// could check what it reads.
func MetricNames(expr string) ([]string, error) {
	e, err := parser.NewParser(parser.Options{}).ParseExpr(expr)
	if err != nil {
		return nil, fmt.Errorf("parsing %q: %w", expr, err)
	}
	seen := map[string]bool{}
	var bad error
	parser.Inspect(e, func(n parser.Node, _ []parser.Node) error {
		vs, ok := n.(*parser.VectorSelector)
		if !ok {
			return nil
		}
		name := vs.Name
		for _, m := range vs.LabelMatchers {
			if m.Name == model.MetricNameLabel && m.Type == labels.MatchEqual {
				name = m.Value
			}
		}
		if name == "" && bad == nil {
			bad = fmt.Errorf("%q: selector %s names no metric", expr, vs)
		}
		seen[name] = true
		return nil
	})
	if bad != nil {
		return nil, bad
	}
	names := make([]string, 0, len(seen))
	for n := range seen {
		names = append(names, n)
	}
	sort.Strings(names)
	return names, nil
}

// Unknown returns the metric names expr reads that known does not contain.
func Unknown(expr string, known map[string]bool) ([]string, error) {
	names, err := MetricNames(expr)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, n := range names {
		if !known[n] {
			out = append(out, n)
		}
	}
	return out, nil
}

// Lookback is how far back in time expr reads raw samples: its longest range
// selector or subquery, plus any offset. An instant selector reads nothing
// older than the lookback delta, which is not counted here.
func Lookback(expr string) (time.Duration, error) {
	e, err := parser.NewParser(parser.Options{}).ParseExpr(expr)
	if err != nil {
		return 0, fmt.Errorf("parsing %q: %w", expr, err)
	}
	var longest time.Duration
	parser.Inspect(e, func(n parser.Node, _ []parser.Node) error {
		switch n := n.(type) {
		case *parser.MatrixSelector:
			longest = max(longest, n.Range+n.VectorSelector.(*parser.VectorSelector).OriginalOffset)
		case *parser.SubqueryExpr:
			longest = max(longest, n.Range+n.OriginalOffset)
		case *parser.VectorSelector:
			longest = max(longest, n.OriginalOffset)
		}
		return nil
	})
	return longest, nil
}
