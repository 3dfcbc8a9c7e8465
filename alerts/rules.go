// Package alerts generates, from the KPI catalogue, the Prometheus recording
// and alerting rules that tell an owning ministry or province that a KPI is
// slipping, their promtool unit tests, and the Alertmanager configuration that
// routes each alert to its owner. Adding a KPI to the catalogue adds its rules,
// tests and routes with no other edit.
//
// The exporter judges every series (status and why, the gap to plan, the
// forecast, the plausibility checks) and serves the judgement; the alerts
// only select what it served, and the recording rules only aggregate across
// series (national, block, declared-dimension, owner and status roll-ups). No
// rule reads more than RideOut of any series. Everything is plain PromQL that
// Prometheus 2.42 and vmalert both run.
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

// How long a KPI must be behind plan before it alerts, where the catalogue
// does not say: monthly figures change once a month, and a day rides out a
// report that is corrected the same day.
const DefaultBehindFor = catalogue.Duration(24 * time.Hour)

// collectorFailCycles is how many refreshes in a row a source may fail
// before it alerts.
const collectorFailCycles = 2

// RuleFile is a Prometheus rule file.
type RuleFile struct {
	Groups []RuleGroup `yaml:"groups"`
}

// RuleGroup is one group of rules, evaluated in order every Interval.
type RuleGroup struct {
	Name     string             `yaml:"name"`
	Interval catalogue.Duration `yaml:"interval,omitempty"`
	Rules    []Rule             `yaml:"rules"`
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

// Rules builds the rule groups of a catalogue: one shared group (status
// counts per owner and block, overdue tasks, failing sources), then one group
// per KPI with its roll-ups and its alerts. The exporter has judged every
// series already (status, gap, forecast, checks); the rules only aggregate
// across series and raise alerts on what it served, so no rule reads more
// than the last RideOut of any series.
func Rules(cat *catalogue.Catalogue) ([]RuleGroup, error) {
	groups := []RuleGroup{{Name: SharedGroup, Interval: SharedInterval,
		Rules: concat(statusCounts(), taskAlerts(cat), collectorAlerts(cat.Metadata))}}
	for i := range cat.KPIs {
		k := &cat.KPIs[i]
		if err := checkTemplateSafe(k); err != nil {
			return nil, err
		}
		rules := concat(rollups(k), kpiAlerts(cat, k))
		// Every series these rules produce already has the KPI's id; saying
		// so keeps the rules of different KPIs apart for promtool's lint.
		for i := range rules {
			if rules[i].Labels == nil {
				rules[i].Labels = map[string]string{}
			}
			rules[i].Labels[c.LabelKPI] = k.ID
		}
		groups = append(groups, RuleGroup{Name: GroupName(k.ID), Interval: GroupInterval(k.Cadence.Period), Rules: rules})
	}
	groups = append(groups, CompletenessRules(cat)...)
	return groups, nil
}

// SharedInterval is how often the shared group runs: a failing source or an
// overdue task shows within a minute.
const SharedInterval = catalogue.Duration(time.Minute)

// GroupInterval is how often a KPI's group runs. Weekly and monthly figures
// are evaluated every minute, so that an alert follows a new report (or a
// deadline passing) within a minute: the rules are a few selectors over
// served series, cheap at any cadence. Quarterly and yearly figures can
// wait five minutes.
func GroupInterval(p catalogue.Period) catalogue.Duration {
	switch p {
	case catalogue.Quarterly, catalogue.Yearly:
		return catalogue.Duration(5 * time.Minute)
	}
	return catalogue.Duration(time.Minute)
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

// ---- Units with targets of their own.

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

// ---- Roll-ups.

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
	// A declared breakdown (service type, channel, ...) rolls up nationally
	// by its own values.
	for _, d := range k.Dimensions {
		if expr, ok := rollup(k, d); ok && !slices.Contains(catalogue.Dimensions, d) {
			out = append(out, Rule{Record: c.RecDimension(d), Expr: expr})
		}
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
