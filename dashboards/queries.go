package dashboards

import (
	"fmt"
	"strings"

	"github.com/kpiwatch/kpiwatch/catalogue"
	c "github.com/kpiwatch/kpiwatch/conventions"
)

// The PromQL the boards share. Every metric name comes from conventions. The
// boards compute no figure: every value, plan, target, attainment, gap,
// forecast and status of the whole, a province, a block or a declared
// dimension is the exporter's kpi_rollup_* series (one model, one answer),
// and the detail of each unit is its own series on the unit endpoint.

func eq(label, value string) string { return fmt.Sprintf("%s=%q", label, value) }
func re(label, value string) string { return fmt.Sprintf("%s=~%q", label, value) }

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

// Roll-up levels (docs/one-model.md): the exporter serves every figure and
// judgement of the whole and of each province as kpi_rollup_* series.
var (
	atWhole    = eq(c.LabelLevel, c.LevelWhole)
	atProvince = eq(c.LabelLevel, catalogue.DimProvince)
)

// ofKind keeps the series of expr (labelled by kpi) whose KPI is of kind k.
func ofKind(expr string, k catalogue.KPIKind) string {
	return fmt.Sprintf("%s * on (%s) group_left () %s", expr, c.LabelKPI, sel(c.KPIInfo, eq(c.LabelKind, string(k))))
}

// byKPI and byProvince group series per KPI, and per KPI and province.
var (
	byKPI      = []string{c.LabelKPI}
	byProvince = []string{c.LabelKPI, c.LabelProvince}
)

// kinds lists every KPI kind, in the order the boards show them.
var kinds = []catalogue.KPIKind{catalogue.KindRatio, catalogue.KindCount, catalogue.KindLevel, catalogue.KindMilestone}

// statusRank is, for each group of roll-ups (by labels), the rank of its
// status as the exporter judged it (see statusStyles); the exporter serves
// one status per roll-up, so a group of one roll-up has that status's rank.
// Statuses are tried worst first; `or` keeps the first one present.
func statusRank(by []string, matchers ...string) string {
	parts := make([]string, len(statusStyles))
	for i, s := range statusStyles {
		parts[i] = fmt.Sprintf("%d * max by (%s) (%s)", i+1, strings.Join(by, ", "),
			sel(c.RollupStatus, append([]string{eq(c.LabelStatus, s.status)}, matchers...)...))
	}
	return strings.Join(parts, " or ")
}

// countRank counts the roll-ups whose status is s; 0 when there are
// roll-ups but none in s, nothing when there are none at all.
func countRank(s statusStyle, matchers ...string) string {
	return orZero("count("+sel(c.RollupStatus, append([]string{eq(c.LabelStatus, s.status)}, matchers...)...)+")",
		"count("+sel(c.RollupStatus, matchers...)+")")
}

// withNames adds the KPI's names and owner to each series of expr.
func withNames(expr string) string {
	return fmt.Sprintf("%s * on (%s) group_left (%s, %s, %s) %s",
		paren(expr), c.LabelKPI, c.LabelName, c.LabelNameVI, c.LabelOwner, c.KPIInfo)
}

// unitSeries is the newest sample of an observed series of the unit
// endpoint (c.UnitsPath), scraped every ten minutes: two scrapes back, so
// that one failed scrape leaves no gap.
func unitSeries(metric string, matchers ...string) string {
	return fmt.Sprintf("last_over_time(%s[%s])", sel(metric, matchers...), unitsRideOut)
}

// unitNames are the units of a listed level as kpi_unit_info names them
// (name_vi), labelled by the level's dimension as the KPIs' series are.
func unitNames(level string) string {
	return fmt.Sprintf("label_replace(%s, %q, \"$1\", %q, \"(.*)\")", sel(c.UnitInfo, eq(c.LabelLevel, level)), level, c.LabelUnit)
}

// unitStatusRank is, for each observed series the matchers select, the
// rank of the status the exporter judged it in (see statusStyles), from
// the unit endpoint.
func unitStatusRank(matchers ...string) string {
	parts := make([]string, len(statusStyles))
	for i, s := range statusStyles {
		parts[i] = fmt.Sprintf("%d * %s", i+1, unitSeries(c.KPIStatus, append([]string{eq(c.LabelStatus, s.status)}, matchers...)...))
	}
	return strings.Join(parts, " or ")
}

// unitsRideOut is how far back a board reads the unit endpoint.
const unitsRideOut = "20m"

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
