// Package alerts generates, from the KPI catalogue, the Prometheus recording
// and alerting rules that tell an owning ministry or province that a KPI is
// slipping, their promtool unit tests, and the Alertmanager configuration that
// routes each alert to its owner. Adding a KPI to the catalogue adds its rules,
// tests and routes with no other edit.
//
// The exporter already judges every series (kpi_status); the alerts rest on
// that judgement where it exists and use recording rules only for what it does
// not serve: roll-ups, attainment, the gap to plan, the trend and the forecast.
// Everything is plain PromQL that Prometheus 2.42 and vmalert both run.
package alerts

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/kpiwatch/kpiwatch/catalogue"
	c "github.com/kpiwatch/kpiwatch/conventions"
)

// Alert names.
const (
	AlertBehindPlan       = "KPIBehindPlan"
	AlertForecastMiss     = "KPIForecastMiss"
	AlertTargetMissed     = "KPITargetMissed"
	AlertReportOverdue    = "KPIReportOverdue"
	AlertDataSuspect      = "KPIDataSuspect"
	AlertTaskOverdue      = "KPITaskOverdue"
	AlertCollectorFailing = "KPICollectorFailing"
)

// AlertNames lists every alert the rules can raise.
var AlertNames = []string{AlertBehindPlan, AlertForecastMiss, AlertTargetMissed, AlertReportOverdue,
	AlertDataSuspect, AlertTaskOverdue, AlertCollectorFailing}

// LabelCheck tells which plausibility check a KPIDataSuspect alert failed.
const LabelCheck = "check"

// Values of LabelCheck.
const (
	CheckFell  = "cumulative_fell"
	CheckRatio = "numerator_above_denominator"
	CheckJump  = "jump"
)

// How long a condition must hold before it alerts, where the catalogue does
// not say. Monthly figures change once a month: a day rides out a report
// that is corrected the same day; a judgement by the exporter needs less.
const (
	DefaultBehindFor    = catalogue.Duration(24 * time.Hour)
	judgedFor           = catalogue.Duration(time.Hour)
	collectorFailCycles = 2 // refresh intervals a source may fail before it alerts
	collectorStaleAfter = 3 // refresh intervals after which a last success is too old
)

// RuleFile is a Prometheus rule file.
type RuleFile struct {
	Groups []RuleGroup `yaml:"groups"`
}

// RuleGroup is one group of rules, evaluated in order.
type RuleGroup struct {
	Name  string `yaml:"name"`
	Rules []Rule `yaml:"rules"`
}

// Rule is a recording or an alerting rule.
type Rule struct {
	Record      string             `yaml:"record,omitempty"`
	Alert       string             `yaml:"alert,omitempty"`
	Expr        string             `yaml:"expr"`
	For         catalogue.Duration `yaml:"for,omitempty"`
	Labels      map[string]string  `yaml:"labels,omitempty"`
	Annotations map[string]string  `yaml:"annotations,omitempty"`
}

// SharedGroup is the name of the group that is not about one KPI.
const SharedGroup = "kpiwatch.shared"

// GroupName is the name of a KPI's rule group.
func GroupName(kpiID string) string { return "kpiwatch.kpi." + kpiID }

// Rules builds the rule groups of a catalogue: one shared group (status counts
// per owner and block, overdue tasks, failing sources), then one group per
// KPI in which each step reads what the one before recorded: the per-KPI
// figures joined onto each series, progress against them, the trend and its
// forecast, the roll-ups, and finally the alerts.
func Rules(cat *catalogue.Catalogue) ([]RuleGroup, error) {
	groups := []RuleGroup{{Name: SharedGroup, Rules: concat(statusCounts(), taskAlerts(cat.Metadata), collectorAlerts(cat))}}
	for i := range cat.KPIs {
		k := &cat.KPIs[i]
		if err := checkTemplateSafe(k); err != nil {
			return nil, err
		}
		rules := concat(seriesFigures(k), progress(k), trend(k), rollups(k), kpiAlerts(cat.Metadata, k))
		// Every series these rules produce already has the KPI's id; saying
		// so keeps the rules of different KPIs apart for promtool's lint.
		for i := range rules {
			if rules[i].Labels == nil {
				rules[i].Labels = map[string]string{}
			}
			rules[i].Labels[c.LabelKPI] = k.ID
		}
		groups = append(groups, RuleGroup{Name: GroupName(k.ID), Rules: rules})
	}
	return groups, nil
}

func concat(parts ...[]Rule) []Rule {
	var out []Rule
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

// checkTemplateSafe refuses names that would break the annotation templates
// they are written into.
func checkTemplateSafe(k *catalogue.KPI) error {
	for _, s := range []string{k.Name, k.NameVI} {
		if strings.Contains(s, "{{") || strings.Contains(s, "}}") {
			return fmt.Errorf("kpi %s: name %q must not contain {{ or }}", k.ID, s)
		}
	}
	return nil
}

// ---- PromQL building blocks.

func eq(label, value string) string { return fmt.Sprintf("%s=%q", label, value) }
func ne(label, value string) string { return fmt.Sprintf("%s!=%q", label, value) }

// sel is metric{matchers}.
func sel(metric string, matchers ...string) string {
	if len(matchers) == 0 {
		return metric
	}
	return metric + "{" + strings.Join(matchers, ",") + "}"
}

// of selects a KPI's series of metric.
func of(k *catalogue.KPI, metric string, matchers ...string) string {
	return sel(metric, append([]string{eq(c.LabelKPI, k.ID)}, matchers...)...)
}

// byLabels is "kpi, d1, d2" for on() and by() clauses.
func byLabels(labels ...string) string { return strings.Join(labels, ", ") }

// ---- Step 1: the per-KPI figures, joined onto each series.

// unitDimSets lists the dimension sets that units with targets of their own
// are selected by, the most specific first, so that a series takes its own
// unit's figures before a broader unit's and the KPI-wide ones last.
func unitDimSets(k *catalogue.KPI) [][]string {
	seen := map[string]bool{}
	var sets [][]string
	for _, t := range k.Targets {
		dims := unitDims(k, t.Unit)
		if key := strings.Join(dims, ","); len(dims) > 0 && !seen[key] {
			seen[key] = true
			sets = append(sets, dims)
		}
	}
	for i := 1; i < len(sets); i++ { // insertion sort: longest first, then by name
		for j := i; j > 0 && moreSpecific(sets[j], sets[j-1]); j-- {
			sets[j], sets[j-1] = sets[j-1], sets[j]
		}
	}
	return sets
}

// unitDims are the dimensions a target's unit selector names, in the KPI's
// order; none for a KPI-wide target.
func unitDims(k *catalogue.KPI, unit map[string]string) []string {
	var dims []string
	for _, d := range k.Dimensions {
		if _, ok := unit[d]; ok {
			dims = append(dims, d)
		}
	}
	return dims
}

func moreSpecific(a, b []string) bool {
	if len(a) != len(b) {
		return len(a) > len(b)
	}
	return strings.Join(a, ",") < strings.Join(b, ",")
}

// seriesFigure puts the value of a per-KPI metric (kpi_target, kpi_plan, ...)
// on every series of the KPI, with the series' labels: the unit's own figure
// where the exporter serves one, else the KPI-wide figure.
func seriesFigure(k *catalogue.KPI, metric string) string {
	series := "(0 * " + of(k, c.KPIValue) + ")"
	sets := unitDimSets(k)
	var anyUnit []string
	for _, s := range sets {
		for _, d := range s {
			if !slices.Contains(anyUnit, d) {
				anyUnit = append(anyUnit, d)
			}
		}
	}
	arm := func(dims []string) string {
		var ms []string
		for _, d := range anyUnit {
			if slices.Contains(dims, d) {
				ms = append(ms, ne(d, ""))
			} else {
				ms = append(ms, eq(d, ""))
			}
		}
		return fmt.Sprintf("%s + on (%s) group_right () %s", of(k, metric, ms...), byLabels(append([]string{c.LabelKPI}, dims...)...), series)
	}
	arms := make([]string, 0, len(sets)+1)
	for _, s := range sets {
		arms = append(arms, "("+arm(s)+")")
	}
	if len(arms) == 0 {
		return arm(nil)
	}
	return strings.Join(append(arms, "("+arm(nil)+")"), "\nor\n")
}

// seriesFigureRecords maps each recorded per-series figure to the per-KPI
// metric it is joined from.
var seriesFigureRecords = []struct{ record, metric string }{
	{c.RecSeriesTarget, c.KPITarget},
	{c.RecSeriesPlan, c.KPIPlan},
	{c.RecSeriesBaseline, c.KPIBaseline},
	{c.RecSeriesDeadline, c.KPITargetDeadline},
}

func seriesFigures(k *catalogue.KPI) []Rule {
	out := make([]Rule, 0, len(seriesFigureRecords))
	for _, f := range seriesFigureRecords {
		out = append(out, Rule{Record: f.record, Expr: seriesFigure(k, f.metric)})
	}
	return out
}

// ---- Step 2: progress against the figures.

// span is |target - baseline|, left out where it is zero (a target equal to
// its baseline has no way to go, so no share of the way can be computed).
func span(k *catalogue.KPI) string {
	return fmt.Sprintf("(abs(%s - %s) > 0)", of(k, c.RecSeriesTarget), of(k, c.RecSeriesBaseline))
}

func progress(k *catalogue.KPI) []Rule {
	value := of(k, c.KPIValue)
	gap := fmt.Sprintf("%s - %s", of(k, c.RecSeriesPlan), value)
	if k.Direction == catalogue.LowerIsBetter {
		gap = fmt.Sprintf("%s - %s", value, of(k, c.RecSeriesPlan))
	}
	return []Rule{
		{Record: c.RecAttainment, Expr: fmt.Sprintf("(%s - %s) / ((%s - %s) != 0)",
			value, of(k, c.RecSeriesBaseline), of(k, c.RecSeriesTarget), of(k, c.RecSeriesBaseline))},
		{Record: c.RecPlanGap, Expr: gap},
		{Record: c.RecPlanGapRatio, Expr: fmt.Sprintf("%s / %s", of(k, c.RecPlanGap), span(k))},
	}
}

// ---- Step 3: the trend and where it leads by the deadline.

// TrendWindow is the window the trend is fitted over: a few reports' worth,
// so that one late or early report does not swing it. Prometheus must keep
// at least this much history (--storage.tsdb.retention.time).
func TrendWindow(p catalogue.Period) catalogue.Duration {
	const day = 24 * time.Hour
	switch p {
	case catalogue.Weekly:
		return catalogue.Duration(28 * day)
	case catalogue.Quarterly:
		return catalogue.Duration(365 * day)
	case catalogue.Yearly:
		return catalogue.Duration(3 * 365 * day)
	}
	return catalogue.Duration(90 * day)
}

// periodLength is the longest a cadence period lasts: the distance back to
// the previous report that a jump is measured from.
func periodLength(p catalogue.Period) catalogue.Duration {
	const day = 24 * time.Hour
	switch p {
	case catalogue.Weekly:
		return catalogue.Duration(7 * day)
	case catalogue.Quarterly:
		return catalogue.Duration(92 * day)
	case catalogue.Yearly:
		return catalogue.Duration(366 * day)
	}
	return catalogue.Duration(31 * day)
}

func trend(k *catalogue.KPI) []Rule {
	w := TrendWindow(k.Cadence.Period)
	// A trend needs two reports: without a new report period in the window
	// the slope would only measure how long nothing has happened.
	slope := fmt.Sprintf("deriv(%s[%s])\nand\nchanges(%s[%s]) > 0", of(k, c.KPIValue), w, of(k, c.KPIReportPeriod), w)
	return []Rule{
		{Record: c.RecTrend, Expr: slope},
		{Record: c.RecForecast, Expr: fmt.Sprintf("%s + %s * clamp_min(%s - time(), 0)",
			of(k, c.KPIValue), of(k, c.RecTrend), of(k, c.RecSeriesDeadline))},
	}
}

// ---- Step 4: roll-ups.

// rollup is the KPI's value summed up by the given labels: sum(num)/sum(den)
// for a ratio, the sum for a count. Levels and milestones are not summable.
func rollup(k *catalogue.KPI, by ...string) (string, bool) {
	b := byLabels(append([]string{c.LabelKPI}, by...)...)
	switch k.Kind {
	case catalogue.KindRatio:
		return fmt.Sprintf("sum by (%s) (%s)\n/\nsum by (%s) (%s)", b, of(k, c.KPINumerator), b, of(k, c.KPIDenominator)), true
	case catalogue.KindCount:
		return fmt.Sprintf("sum by (%s) (%s)", b, of(k, c.KPIValue)), true
	}
	return "", false
}

func rollups(k *catalogue.KPI) []Rule {
	var out []Rule
	if expr, ok := rollup(k); ok {
		out = append(out, Rule{Record: c.RecNational, Expr: expr})
	} else if len(k.Dimensions) == 0 {
		// A national level or milestone is its one series.
		out = append(out, Rule{Record: c.RecNational, Expr: of(k, c.KPIValue)})
	}
	if expr, ok := rollup(k, catalogue.DimBlock); ok && k.HasDimension(catalogue.DimBlock) {
		out = append(out, Rule{Record: c.RecBlock, Expr: expr})
	}
	return out
}

// statusCounts counts series by status per owner and per block. A series
// broken down by block counts in its own block, any other in its KPI's.
func statusCounts() []Rule {
	return []Rule{
		{Record: c.RecOwnerStatus, Expr: fmt.Sprintf("count by (%s, %s) (%s * on (%s) group_left (%s) %s)",
			c.LabelOwner, c.LabelStatus, c.KPIStatus, c.LabelKPI, c.LabelOwner, c.KPIInfo)},
		{Record: c.RecBlockStatus, Expr: fmt.Sprintf("count by (%s, %s) (\n  %s\n  or\n  %s * on (%s) group_left (%s) %s\n)",
			c.LabelBlock, c.LabelStatus, sel(c.KPIStatus, ne(c.LabelBlock, "")),
			sel(c.KPIStatus, eq(c.LabelBlock, "")), c.LabelKPI, c.LabelBlock, c.KPIInfo)},
	}
}
