package dashboards

import (
	"fmt"
	"strings"

	"github.com/grafana/grafana-foundation-sdk/go/bargauge"
	"github.com/grafana/grafana-foundation-sdk/go/cog"
	"github.com/grafana/grafana-foundation-sdk/go/common"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
	"github.com/grafana/grafana-foundation-sdk/go/stat"
	"github.com/grafana/grafana-foundation-sdk/go/table"
	"github.com/grafana/grafana-foundation-sdk/go/timeseries"

	"github.com/kpiwatch/kpiwatch/catalogue"
	c "github.com/kpiwatch/kpiwatch/conventions"
)

// Matchers for the KPI detail board's variables; "All" provinces is ".*",
// which also matches series with no province (national ones).
var (
	thisKPI      = eq(c.LabelKPI, "$kpi")
	provinceOpt  = re(c.LabelProvince, "$province")
	thisProvince = eq(c.LabelProvince, "$province")
)

// kpiDetail is one KPI (a variable) nationally or in one province: where it
// stands now, its path against plan and target with the forecast to the
// deadline, and every province ranked with when it last reported.
func kpiDetail(cat *catalogue.Catalogue) *dashboard.DashboardBuilder {
	b := newBoard(cat, UIDKPIDetail, "Chi tiết chỉ tiêu", "KPI detail",
		"One KPI, nationally or in one province: value against plan and target, the forecast to the deadline, every province ranked.",
		"now-1y", "5m").
		WithVariable(queryVariable(c.LabelKPI, bi("Chỉ tiêu", "KPI"), fmt.Sprintf("label_values(%s, %s)", c.KPIInfo, c.LabelKPI), false)).
		WithVariable(queryVariable(c.LabelProvince, bi("Tỉnh, thành", "Province"),
			fmt.Sprintf("label_values(%s, %s)", sel(c.KPIStatus, thisKPI), c.LabelProvince), true))
	b.WithRow(row("Hiện tại", "Now"))
	b.WithPanel(nameHeader(bi("Chỉ tiêu", "KPI"), sel(c.KPIInfo, thisKPI),
		fmt.Sprintf("{{%s}} / {{%s}} · {{%s}} · {{%s}}", c.LabelNameVI, c.LabelName, c.LabelOwner, c.LabelCadence)))
	value := rollup(thisKPI, provinceOpt)
	deadline := kpiWide(c.KPITargetDeadline, thisKPI)
	b.WithPanel(kpiStat(cat, bi("Giá trị", "Value"), "The latest reports rolled up over the provinces selected.", value, ""))
	b.WithPanel(kpiStat(cat, bi("Kế hoạch", "Plan"), "Where the KPI should be today, interpolated from the baseline through the milestones.",
		unitOrWide(c.KPIPlan, thisProvince, thisKPI), "plan"))
	b.WithPanel(kpiStat(cat, bi("Mục tiêu", "Target"), "The milestone in force: the next one due, or the last one passed.",
		unitOrWide(c.KPITarget, thisProvince, thisKPI), "target"))
	b.WithPanel(newStat(bi("Hạn mốc", "Milestone deadline"), "When the milestone in force is due.").
		WithTarget(instantSeries("A", millis(deadline), "deadline")).
		Unit("dateTimeAsIsoNoDateIfToday").ColorMode(common.BigValueColorModeNone))
	b.WithPanel(newStat(bi("Còn lại (ngày)", "Days left"), "Days until the milestone in force is due; negative once it has passed.").
		WithTarget(instantSeries("A", daysUntil(deadline), "days")).
		Unit("none").Decimals(0).ColorScheme(colorByThresholds()).
		Thresholds(thresholds("red", step{0, "orange"}, step{30, "green"})))
	b.WithPanel(newStat(bi("Tình trạng", "Status"), "The worst status among the series selected.").
		WithTarget(instantSeries("A", statusRank([]string{c.LabelKPI}, thisKPI, provinceOpt), "status")).
		Mappings(statusMappings()).ColorScheme(colorByThresholds()))
	b.WithRow(row("Diễn biến", "Over time"))
	b.WithPanel(pathToTarget(cat, value, deadline))
	b.WithRow(row("Các tỉnh, thành", "Provinces"))
	b.WithPanel(provincesRanked())
	b.WithPanel(provincesTable())
	return b
}

// queryVariable is a variable whose values come from a label's values.
func queryVariable(name, label, query string, all bool) *dashboard.QueryVariableBuilder {
	v := dashboard.NewQueryVariableBuilder(name).Label(label).
		Query(dashboard.StringOrMap{String: ptr(query)}).Definition(query).
		Datasource(datasource()).Refresh(dashboard.VariableRefreshOnTimeRangeChanged).
		Sort(dashboard.VariableSortAlphabeticalCaseInsensitiveAsc)
	if all {
		v.IncludeAll(true).AllValue(".*")
	}
	return v
}

// kpiStat is a value of whichever KPI the variable picks, shown in that KPI's
// unit and colours: the generator adds an override per catalogue KPI.
func kpiStat(cat *catalogue.Catalogue, title, description, expr, what string) *stat.PanelBuilder {
	legend := "{{" + c.LabelKPI + "}}"
	if what != "" {
		legend += " · " + what
	}
	p := newStat(title, description).WithTarget(instantSeries("A", expr, legend)).
		ColorScheme(colorByThresholds()).Text(common.NewVizTextDisplayOptionsBuilder().TitleSize(12)).
		TextMode(common.BigValueTextModeValue)
	for i := range cat.KPIs {
		p.OverrideByRegexp(kpiFieldRegexp(&cat.KPIs[i]), kpiFieldProperties(&cat.KPIs[i]))
	}
	return p
}

// pathToTarget draws the value against the plan and the target over time,
// and the value the trend over the range shown reaches by the deadline.
func pathToTarget(cat *catalogue.Catalogue, value, deadline string) *timeseries.PanelBuilder {
	forecast := fmt.Sprintf("predict_linear(%s[$__range:$__interval], scalar(%s - time()))", paren(value), deadline)
	p := newTimeseries(bi("Giá trị so với kế hoạch và mục tiêu", "Value against plan and target"),
		"The value (rolled up over the provinces selected), the plan and the milestone in force over time (a step at each milestone), where the trend over the range shown would be at the milestone's deadline, and the final target as a line with its at-risk band.").
		Span(24).Height(11).
		WithTarget(rangeQuery("value", value, "{{"+c.LabelKPI+"}}")).
		WithTarget(rangeQuery("plan", unitOrWide(c.KPIPlan, thisProvince, thisKPI), "{{"+c.LabelKPI+"}} · plan")).
		WithTarget(rangeQuery("target", unitOrWide(c.KPITarget, thisProvince, thisKPI), "{{"+c.LabelKPI+"}} · target")).
		WithTarget(rangeQuery("forecast", forecast, "{{"+c.LabelKPI+"}} · forecast at deadline")).
		ColorScheme(dashboard.NewFieldColorBuilder().Mode(dashboard.FieldColorModeIdPaletteClassic)).
		OverrideByQuery("plan", []dashboard.DynamicConfigValue{colorProp("blue"), dashed(10)}).
		OverrideByQuery("target", []dashboard.DynamicConfigValue{colorProp("green"), dashed(4),
			{Id: "custom.lineInterpolation", Value: "stepAfter"}}).
		OverrideByQuery("forecast", []dashboard.DynamicConfigValue{colorProp("orange"), dashed(2)}).
		OverrideByQuery("value", []dashboard.DynamicConfigValue{colorProp("text"), {Id: "custom.lineWidth", Value: 3}})
	// Every series of a KPI in its unit; its value with its final target and
	// the at-risk band drawn behind it.
	for i := range cat.KPIs {
		k := &cat.KPIs[i]
		p.OverrideByRegexp(kpiFieldRegexp(k), []dashboard.DynamicConfigValue{unitProp(kpiUnit(k))})
		p.OverrideByName(k.ID, []dashboard.DynamicConfigValue{thresholdsProp(kpiThresholds(k)),
			{Id: "custom.thresholdsStyle", Value: map[string]any{"mode": "line+area"}}})
	}
	return p
}

func colorProp(color string) dashboard.DynamicConfigValue {
	return dashboard.DynamicConfigValue{Id: "color", Value: map[string]any{"mode": "fixed", "fixedColor": color}}
}

func dashed(dash int) dashboard.DynamicConfigValue {
	return dashboard.DynamicConfigValue{Id: "custom.lineStyle", Value: map[string]any{"fill": "dash", "dash": []int{dash, dash}}}
}

var provinceSeries = []string{thisKPI, ne(c.LabelProvince, "")}

// provincesRanked ranks every province reporting the KPI by attainment
// (against its own target where it has one), which ranks alike whichever way
// the KPI is better.
func provincesRanked() *bargauge.PanelBuilder {
	return newBarGauge(bi("Xếp hạng tỉnh, thành", "Provinces ranked"),
		"Every province reporting the KPI, by how far it has come from the baseline to the target (100% = target reached).").
		Height(18).
		WithTarget(instantSeries("A", "sort_desc("+sel(c.RecAttainment, provinceSeries...)+")", "{{"+c.LabelProvince+"}}")).
		Unit("percentunit").Min(0).Max(1).ColorScheme(colorByThresholds()).Thresholds(attainmentThresholds()).
		DataLinks([]cog.Builder[dashboard.DashboardLink]{link(bi("Thẻ điểm tỉnh", "Province scorecard"), UIDProvince, "var-province=${__field.labels.province}")})
}

// provincesTable is every province's value, attainment, status and when it
// last reported, including provinces that never did.
func provincesTable() *table.PanelBuilder {
	by := []string{c.LabelKPI, c.LabelProvince}
	// Only the labels named, so that the queries merge into a row per province.
	keep := func(expr string) string { return fmt.Sprintf("max by (%s) (%s)", strings.Join(by, ", "), expr) }
	return newTable(bi("Các tỉnh, thành: giá trị, tình trạng, kỳ báo cáo", "Provinces: value, status, last report"),
		"Every province for the KPI: its latest value, attainment, status and the period its latest report covers; provinces that never reported show as no data.").
		Span(12).Height(18).
		WithTarget(instantQuery("status", statusRank(by, provinceSeries...))).
		WithTarget(instantQuery("value", keep(sel(c.KPIValue, provinceSeries...)))).
		WithTarget(instantQuery("attainment", keep(sel(c.RecAttainment, provinceSeries...)))).
		WithTarget(instantQuery("reported", keep(millis(sel(c.KPIReportPeriod, provinceSeries...))))).
		WithTransformation(merge()).
		WithTransformation(organize([]string{"Time", c.LabelKPI}, [][2]string{
			{c.LabelProvince, bi("Tỉnh, thành", "Province")}, {"Value #value", bi("Giá trị", "Value")},
			{"Value #attainment", bi("Mức đạt", "Attainment")}, {"Value #status", bi("Tình trạng", "Status")},
			{"Value #reported", bi("Kỳ báo cáo gần nhất", "Last report period")},
		})).
		OverrideByName(bi("Mức đạt", "Attainment"), []dashboard.DynamicConfigValue{unitProp("percentunit"), cellGauge(),
			thresholdsProp(attainmentThresholds()), {Id: "max", Value: 1}, {Id: "min", Value: 0}}).
		OverrideByName(bi("Tình trạng", "Status"), []dashboard.DynamicConfigValue{{Id: "mappings", Value: statusMappings()}, cellColorBackground()}).
		OverrideByName(bi("Kỳ báo cáo gần nhất", "Last report period"), []dashboard.DynamicConfigValue{unitProp("dateTimeAsIsoNoDateIfToday")}).
		OverrideByName(bi("Tỉnh, thành", "Province"), []dashboard.DynamicConfigValue{linksProp(bi("Thẻ điểm tỉnh", "Province scorecard"),
			boardURL(UIDProvince, "var-province=${__value.raw}"))}).
		SortBy([]cog.Builder[common.TableSortByFieldState]{common.NewTableSortByFieldStateBuilder().DisplayName(bi("Mức đạt", "Attainment")).Desc(true)})
}
