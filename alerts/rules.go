// Package alerts generates, from the KPI catalogue, the Prometheus alerting
// rules that tell an owning ministry or province that a KPI is slipping,
// their promtool unit tests, and the Alertmanager configuration that routes
// each alert to its owner. Adding a KPI to the catalogue adds it to the rules,
// tests and routes with no other edit.
//
// The exporter judges every figure, roll-ups included (status and why, the
// gap to plan, the forecast, the units in each status), and serves the
// judgement on its main endpoint; the rules record nothing and only select
// what it served, in the way of the monitoring mixins: one rule per alert
// and class of KPIs (those whose rule is the same but for the KPI: the same
// "for", severity and routing labels), selected by a kpi matcher. A KPI's
// names come from the served kpi_info series joined in the expression, and
// a unit's from the served kpi_unit_info and kpi_owner_info looked up in
// the description (the whole in the units set's words), so a rule reads
// the same for thirty KPIs as for one. An alert that fires at once names
// the worst units the exporter ranks for its roll-up
// (kpi_rollup_worst_units_info), at most model.WorstUnits.
// No rule reads more than RideOut of any series of the main endpoint, or
// UnitsRideOut of the unit endpoint. Everything is plain PromQL that
// Prometheus 2.42 and vmalert both run.
package alerts

import (
	"fmt"
	"maps"
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

// Rule is an alerting rule (or, in hand-made files, a recording one).
type Rule struct {
	Record      string             `yaml:"record,omitempty"`
	Alert       string             `yaml:"alert,omitempty"`
	Expr        string             `yaml:"expr"`
	For         catalogue.Duration `yaml:"for,omitempty"`
	Labels      map[string]string  `yaml:"labels,omitempty"`
	Annotations map[string]string  `yaml:"annotations,omitempty"`
	// KPIs are the KPIs the rule alerts on (its class), in catalogue
	// order; none for a rule about no KPI (tasks, sources).
	KPIs []string `yaml:"-"`
}

// Group names.
const (
	// SharedGroup holds the rules about no KPI: overdue tasks, failing
	// sources.
	SharedGroup = "kpiwatch.shared"
	// KPIGroup holds the alerts on the exporter's judgement of the KPIs.
	KPIGroup = "kpiwatch.kpi"
)

// Interval is how often every group runs: the rules are a few selectors
// over served series, so an alert follows a new report (or a deadline
// passing, a source failing) within a minute at any cadence.
const Interval = catalogue.Duration(time.Minute)

// Rules builds the rule groups of a catalogue: the shared group (overdue
// tasks, failing sources), the KPI alerts and the reporting-completeness
// alerts.
func Rules(cat *catalogue.Catalogue) ([]RuleGroup, error) {
	return []RuleGroup{
		{Name: SharedGroup, Interval: Interval, Rules: concat(taskAlerts(cat), collectorAlerts(cat.Metadata))},
		{Name: KPIGroup, Interval: Interval, Rules: kpiAlerts(cat)},
		CompletenessRules(cat),
	}, nil
}

func concat(parts ...[]Rule) []Rule {
	var out []Rule
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

// ---- Classes of KPIs.

// ruleOf builds a KPI's rule of one alert with the given kpi matcher, or
// reports that the KPI has none (the tier is off, or the alert does not
// apply to it). The rule must depend on the KPI only through what the
// matcher selects and what its class shares.
type ruleOf func(k *catalogue.KPI, kpiMatcher string) (Rule, bool)

// classMarker stands for the kpi matcher while the rules of KPIs are
// compared.
const classMarker = `kpi=~"CLASS"`

// classes builds one rule per class of the catalogue's KPIs: the KPIs whose
// rules are the same but for the kpi matcher, each class selected by the
// shortest matcher that says who is in it (its KPIs, every KPI but the
// others, or none when it holds them all). Classes come in the order of
// their first KPI in the catalogue.
func classes(cat *catalogue.Catalogue, build ruleOf) []Rule {
	var keys []string
	members := map[string][]*catalogue.KPI{}
	for i := range cat.KPIs {
		k := &cat.KPIs[i]
		r, ok := build(k, classMarker)
		if !ok {
			continue
		}
		key := ruleKey(r)
		if _, seen := members[key]; !seen {
			keys = append(keys, key)
		}
		members[key] = append(members[key], k)
	}
	var out []Rule
	for _, key := range keys {
		ks := members[key]
		ids := make([]string, len(ks))
		for i, k := range ks {
			ids[i] = k.ID
		}
		r, _ := build(ks[0], kpiMatcher(cat, ids))
		r.KPIs = ids
		out = append(out, r)
	}
	return out
}

// ruleKey is what tells the rules of two KPIs apart but for their matcher.
func ruleKey(r Rule) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s\x00%s\x00%s", r.Alert, r.Expr, r.For)
	for _, m := range []map[string]string{r.Labels, r.Annotations} {
		for _, k := range slices.Sorted(maps.Keys(m)) {
			fmt.Fprintf(&b, "\x00%s=%s", k, m[k])
		}
	}
	return b.String()
}

// kpiMatcher selects the KPIs ids of the catalogue: by name, or as every
// KPI but the others, whichever is shorter; "" when ids are all of them.
func kpiMatcher(cat *catalogue.Catalogue, ids []string) string {
	var others []string
	for _, k := range cat.KPIs {
		if !slices.Contains(ids, k.ID) {
			others = append(others, k.ID)
		}
	}
	if len(others) == 0 {
		return ""
	}
	in, out := strings.Join(ids, "|"), strings.Join(others, "|")
	if len(out) < len(in) {
		return fmt.Sprintf("%s!~%q", c.LabelKPI, out)
	}
	return fmt.Sprintf("%s=~%q", c.LabelKPI, in)
}

// ---- PromQL building blocks.

func eq(label, value string) string { return fmt.Sprintf("%s=%q", label, value) }

// sel is metric{matchers}, leaving out empty matchers.
func sel(metric string, matchers ...string) string {
	ms := slices.DeleteFunc(slices.Clone(matchers), func(m string) bool { return m == "" })
	if len(ms) == 0 {
		return metric
	}
	return metric + "{" + strings.Join(ms, ",") + "}"
}

// byLabels is "a, b, c" for on(), by() and group_left() clauses.
func byLabels(labels ...string) string { return strings.Join(labels, ", ") }
