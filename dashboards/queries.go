package dashboards

import (
	"fmt"
	"strings"

	"github.com/kpiwatch/kpiwatch/catalogue"
	c "github.com/kpiwatch/kpiwatch/conventions"
)

// The PromQL the boards share. Every metric name comes from conventions; the
// roll-ups follow the KPI semantics: a ratio rolls up as the sum of its
// numerators over the sum of its denominators, never as an average of ratios.

func eq(label, value string) string { return fmt.Sprintf("%s=%q", label, value) }
func re(label, value string) string { return fmt.Sprintf("%s=~%q", label, value) }
func ne(label, value string) string { return fmt.Sprintf("%s!=%q", label, value) }

// sel is a vector selector: metric{matchers...}.
func sel(metric string, matchers ...string) string {
	var ms []string
	for _, m := range matchers {
		if m != "" {
			ms = append(ms, m)
		}
	}
	if len(ms) == 0 {
		return metric
	}
	return metric + "{" + strings.Join(ms, ", ") + "}"
}

// kpiWide selects the KPI-wide series of a per-KPI metric (kpi_target,
// kpi_plan, ...): those with no dimension label, as opposed to a unit's own.
func kpiWide(metric string, matchers ...string) string {
	ms := append([]string(nil), matchers...)
	for _, d := range catalogue.Dimensions {
		ms = append(ms, eq(d, ""))
	}
	return sel(metric, ms...)
}

// ofKind keeps the series of expr (labelled by kpi) whose KPI is of kind k.
func ofKind(expr string, k catalogue.KPIKind) string {
	return fmt.Sprintf("%s * on (%s) group_left () %s", expr, c.LabelKPI, sel(c.KPIInfo, eq(c.LabelKind, string(k))))
}

// byKPI and byProvince group series per KPI, and per KPI and province.
var (
	byKPI      = []string{c.LabelKPI}
	byProvince = []string{c.LabelKPI, c.LabelProvince}
)

// rollupOf is the value of each KPI of kind k over the series selected by
// matchers, one series per group of the by labels: sum(num)/sum(den) for
// ratios, the sum for counts, the mean for levels and milestones (neither is
// summable). It aggregates the exporter's series the way the recording rules
// do, so that history backfilled from the exporter's series shows too.
func rollupOf(k catalogue.KPIKind, by []string, matchers ...string) string {
	b := strings.Join(by, ", ")
	switch k {
	case catalogue.KindRatio:
		return fmt.Sprintf("sum by (%s) (%s) / sum by (%s) (%s)",
			b, sel(c.KPINumerator, matchers...), b, sel(c.KPIDenominator, matchers...))
	case catalogue.KindCount:
		return fmt.Sprintf("sum by (%s) (%s)", b, ofKind(sel(c.KPIValue, matchers...), k))
	default:
		return fmt.Sprintf("avg by (%s) (%s)", b, ofKind(sel(c.KPIValue, matchers...), k))
	}
}

// kinds lists every KPI kind, in the order the boards show them.
var kinds = []catalogue.KPIKind{catalogue.KindRatio, catalogue.KindCount, catalogue.KindLevel, catalogue.KindMilestone}

// rollup is rollupOf over every kind, for queries that do not know the KPI's
// kind (a variable picks the KPI).
func rollup(by []string, matchers ...string) string {
	parts := make([]string, len(kinds))
	for i, k := range kinds {
		parts[i] = "(" + rollupOf(k, by, matchers...) + ")"
	}
	return strings.Join(parts, " or ")
}

// statusRank is, for each group of series (by labels), the rank of the worst
// status among them (see statusStyles): a KPI is achieved only when every unit
// reporting it has achieved it. Statuses are tried worst first; `or` keeps the
// first one present for each group.
func statusRank(by []string, matchers ...string) string {
	parts := make([]string, len(statusStyles))
	for i, s := range statusStyles {
		parts[i] = fmt.Sprintf("%d * max by (%s) (%s)", i+1, strings.Join(by, ", "),
			sel(c.KPIStatus, append([]string{eq(c.LabelStatus, s.status)}, matchers...)...))
	}
	return strings.Join(parts, " or ")
}

// countRank counts the groups whose worst status is s; 0 when there are
// groups but none in s, nothing when there are no groups at all.
func countRank(s statusStyle, by []string, matchers ...string) string {
	return fmt.Sprintf("sum(%s == bool %d)", paren(statusRank(by, matchers...)), s.rank())
}

// attainment is how far each series of value (labelled by kpi alone, as a
// roll-up is) has come from the KPI-wide baseline to the KPI-wide target, 1 at
// the target: display arithmetic on the exporter's numbers. The same formula
// holds for either direction, so higher is always better.
func attainment(value string) string {
	return fmt.Sprintf("(%s - on (%s) group_left () %s) / on (%s) group_left () (%s - %s)",
		paren(value), c.LabelKPI, kpiWide(c.KPIBaseline), c.LabelKPI, kpiWide(c.KPITarget), kpiWide(c.KPIBaseline))
}

// unitOrWide is a per-KPI or per-series metric for the unit selected by
// unit, one series per KPI: the unit's own series where the exporter serves
// one, else the KPI-wide (national) one.
func unitOrWide(metric, unit string, matchers ...string) string {
	return fmt.Sprintf("max by (%s) (%s) or on (%s) %s",
		c.LabelKPI, sel(metric, append([]string{unit}, matchers...)...), c.LabelKPI, kpiWide(metric, matchers...))
}

// perProvince is a per-KPI metric (kpi_target, kpi_baseline, ...) for each
// province selected by unit that reports a KPI selected by matchers, one
// series per KPI and province: the province's own where it has targets of its
// own, else the KPI-wide one.
func perProvince(metric, unit string, matchers ...string) string {
	by := strings.Join(byProvince, ", ")
	units := append([]string{unit}, matchers...)
	return fmt.Sprintf("max by (%s) (%s) or on (%s) group by (%s) (%s) * on (%s) group_left () max by (%s) (%s)",
		by, sel(metric, units...), by, by, sel(c.KPIStatus, units...), c.LabelKPI, c.LabelKPI, kpiWide(metric, matchers...))
}

// provinceAttainment is how far each province selected by unit has come from
// its baseline to its target (its own where it has them), 1 at the target,
// one series per KPI and province.
func provinceAttainment(unit string, matchers ...string) string {
	value := rollup(byProvince, append([]string{unit}, matchers...)...)
	base, target := perProvince(c.KPIBaseline, unit, matchers...), perProvince(c.KPITarget, unit, matchers...)
	return fmt.Sprintf("(%s - (%s)) / ((%s) - (%s))", paren(value), base, target, base)
}

// withNames adds the KPI's names and owner to each series of expr.
func withNames(expr string) string {
	return fmt.Sprintf("%s * on (%s) group_left (%s, %s, %s) %s",
		paren(expr), c.LabelKPI, c.LabelName, c.LabelNameVI, c.LabelOwner, c.KPIInfo)
}

// daysLeft is the number of days from now to a deadline in seconds, 0 once
// it has passed.
func daysLeft(ts string) string { return fmt.Sprintf("clamp_min((%s - time()) / 86400, 0)", paren(ts)) }

// millis turns seconds since the epoch into the milliseconds Grafana's date
// units expect.
func millis(ts string) string { return paren(ts) + " * 1000" }

// orZero is expr, or 0 where base has series but expr has none, so a count
// shows 0 rather than nothing while a broken base still shows nothing.
func orZero(expr, base string) string { return fmt.Sprintf("%s or %s * 0", expr, paren(base)) }

func paren(expr string) string { return "(" + expr + ")" }
