package dashboards

import (
	"cmp"
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
// stands now, its path against plan and target with the exporter's forecast
// to the deadline, and every province ranked with when it last reported.
// Plan, target, deadline, forecast and gap are the chosen province's own
// wherever the exporter serves them, as in the province's alerts.
func kpiDetail(cat *catalogue.Catalogue) *dashboard.DashboardBuilder {
	b := newBoard(cat, UIDKPIDetail, "Chi tiết chỉ tiêu", "KPI detail",
		"One KPI, nationally or in one province: value against plan and target, the forecast to the deadline, every province ranked.",
		"now-1y", "5m").
		WithVariable(blockVariable()).
		WithVariable(queryVariable(c.LabelKPI, bi("Chỉ tiêu", "KPI"), fmt.Sprintf("label_values(%s, %s)", sel(c.KPIInfo, thisBlock), c.LabelKPI), false))
	if hasProvinces(cat) {
		b.WithVariable(queryVariable(c.LabelProvince, bi("Tỉnh, thành", "Province"),
			fmt.Sprintf("label_values(%s, %s)", sel(c.KPIStatus, thisKPI), c.LabelProvince), true))
	}
	d := detailQueriesFor(cat)
	b.WithRow(row("Hiện tại", "Now"))
	b.WithPanel(nameHeader(bi("Chỉ tiêu", "KPI"), "The KPI chosen: its names, owner and reporting cadence.", sel(c.KPIInfo, thisKPI),
		fmt.Sprintf("{{%s}} / {{%s}} · {{%s}} · {{%s}}", c.LabelNameVI, c.LabelName, c.LabelOwner, c.LabelCadence)))
	b.WithPanel(kpiStat(cat, bi("Giá trị", "Value"), "The latest reports rolled up over the provinces selected (ratios as the sum of numerators over the sum of denominators).", d.value, ""))
	b.WithPanel(kpiStat(cat, bi("Kế hoạch", "Plan"), "Where the KPI should be today, interpolated from the baseline through the milestones (the province's own plan where it has targets of its own).",
		d.plan, "plan"))
	b.WithPanel(kpiStat(cat, bi("Mục tiêu", "Target"), "The milestone in force: the next one due, or the last one passed (the province's own where it has one).",
		d.target, "target"))
	b.WithPanel(kpiStat(cat, bi("Dự báo đến hạn", "Forecast at deadline"),
		"The value the exporter forecasts from the recent trend for the milestone's deadline, the same number as the forecast-miss alert's. Shown while a trend exists, the deadline is ahead and the target is not yet met; with all provinces, only for a KPI reported nationally.",
		d.forecast, "forecast"))
	b.WithPanel(kpiStat(cat, bi("Chậm so với kế hoạch", "Behind plan by"),
		"How far the latest report is behind its plan, as the exporter judges it; empty when on or ahead of plan. With all provinces, only for a KPI reported nationally: see each province below.",
		d.gap, "gap"))
	b.WithPanel(newStat(bi("Hạn mốc", "Milestone deadline"), "When the milestone in force is due (the province's own deadline where it has one).").
		WithTarget(instantSeries("A", millis(d.deadline), "deadline")).Span(3).
		Unit("dateTimeAsIso").ColorMode(common.BigValueColorModeNone))
	b.WithPanel(newStat(bi("Còn lại (ngày)", "Days left"), "Days until the milestone in force is due; 0 once it has passed (the status then says whether it was met).").
		WithTarget(instantSeries("A", daysLeft(d.deadline), "days")).Span(3).
		Unit("none").Decimals(0).ColorMode(common.BigValueColorModeNone))
	b.WithPanel(newStat(bi("Tình trạng", "Status"), "The exporter's status of the series selected; with all provinces, the worst of them.").
		WithTarget(instantSeries("A", statusRank(byKPI, thisKPI, d.units), "status")).Span(3).
		Mappings(statusMappings()).Unit("none").ColorScheme(colorByThresholds()))
	b.WithRow(row("Diễn biến", "Over time"))
	b.WithPanel(pathToTarget(cat, d))
	if hasProvinces(cat) {
		b.WithRow(row("Các tỉnh, thành", "Provinces"))
		b.WithPanel(provincesRanked())
		b.WithPanel(provincesTable())
	}
	if len(cat.Dimensions) > 0 {
		b.WithRow(row("Theo phân tổ", "Breakdowns"))
		for _, d := range cat.Dimensions {
			b.WithPanel(declaredBreakdown(d))
		}
	}
	return b
}

// declaredBreakdown is the KPI's national figure by each value of a
// dimension the catalogue declares (empty for a KPI not broken down by it).
func declaredBreakdown(d catalogue.DeclaredDimension) *bargauge.PanelBuilder {
	return newBarGauge(bi(cmp.Or(d.NameVI, d.Name), cmp.Or(d.NameEN, d.Name)),
		fmt.Sprintf("The KPI nationally, by %s (the %s recording rule); empty for a KPI not broken down by it.", cmp.Or(d.NameEN, d.Name), c.RecDimension(d.Name))).
		WithTarget(instantSeries("A", "sort_desc("+sel(c.RecDimension(d.Name), thisKPI)+")", "{{"+d.Name+"}}")).
		Unit("short").ColorScheme(fixedColor(neutral))
}

// detailQueries are the KPI detail board's figures for the KPI and the
// province chosen.
type detailQueries struct {
	units                                        string // the series selected: the province chosen, or all
	value, plan, target, forecast, gap, deadline string
}

// detailQueriesFor builds them; a catalogue without province KPIs has no
// province variable, and every figure is the KPI's own.
func detailQueriesFor(cat *catalogue.Catalogue) detailQueries {
	if !hasProvinces(cat) {
		return detailQueries{
			value: rollup(byKPI, thisKPI), plan: kpiWide(c.KPIPlan, thisKPI), target: kpiWide(c.KPITarget, thisKPI),
			forecast: kpiWide(c.KPIForecast, thisKPI), gap: kpiWide(c.KPIPlanGap, thisKPI), deadline: kpiWide(c.KPITargetDeadline, thisKPI),
		}
	}
	own := func(metric string) string { return unitOrWide(metric, thisProvince, thisKPI) }
	return detailQueries{
		units: provinceOpt, value: rollup(byKPI, thisKPI, provinceOpt), plan: own(c.KPIPlan), target: own(c.KPITarget),
		forecast: own(c.KPIForecast), gap: own(c.KPIPlanGap), deadline: own(c.KPITargetDeadline),
	}
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

// kpiStat is a figure of whichever KPI the variable picks, shown in that
// KPI's unit (the generator adds an override per catalogue KPI) and without
// colour: the status panel says how the KPI stands.
func kpiStat(cat *catalogue.Catalogue, title, description, expr, what string) *stat.PanelBuilder {
	legend := "{{" + c.LabelKPI + "}}"
	if what != "" {
		legend += " · " + what
	}
	p := newStat(title, description).WithTarget(instantSeries("A", expr, legend)).Span(3).
		Unit("short").ColorMode(common.BigValueColorModeNone).Text(common.NewVizTextDisplayOptionsBuilder().TitleSize(12)).
		TextMode(common.BigValueTextModeValue)
	for i := range cat.KPIs {
		p.OverrideByRegexp(kpiFieldRegexp(&cat.KPIs[i]), kpiFieldProperties(&cat.KPIs[i]))
	}
	return p
}

// pathToTarget draws the value against the plan and the target over time,
// and the exporter's forecast for the deadline as it was judged over time.
func pathToTarget(cat *catalogue.Catalogue, d detailQueries) *timeseries.PanelBuilder {
	p := newTimeseries(bi("Giá trị so với kế hoạch và mục tiêu", "Value against plan and target"),
		"The value (rolled up over the provinces selected), the plan and the milestone in force over time (a step at each milestone), and the value the exporter forecast, at each moment, for the milestone's deadline.").
		Span(24).Height(11).Unit("short").
		WithTarget(rangeQuery("value", d.value, "{{"+c.LabelKPI+"}}")).
		WithTarget(rangeQuery("plan", d.plan, "{{"+c.LabelKPI+"}} · plan")).
		WithTarget(rangeQuery("target", d.target, "{{"+c.LabelKPI+"}} · target")).
		WithTarget(rangeQuery("forecast", d.forecast, "{{"+c.LabelKPI+"}} · forecast at deadline")).
		ColorScheme(dashboard.NewFieldColorBuilder().Mode(dashboard.FieldColorModeIdPaletteClassic)).
		OverrideByQuery("plan", []dashboard.DynamicConfigValue{colorProp("blue"), dashed(10)}).
		OverrideByQuery("target", []dashboard.DynamicConfigValue{colorProp("green"), dashed(4),
			{Id: "custom.lineInterpolation", Value: "stepAfter"}}).
		OverrideByQuery("forecast", []dashboard.DynamicConfigValue{colorProp("orange"), dashed(2)}).
		OverrideByQuery("value", []dashboard.DynamicConfigValue{colorProp("text"), {Id: "custom.lineWidth", Value: 3}})
	// Every series of a KPI in its unit.
	for i := range cat.KPIs {
		k := &cat.KPIs[i]
		p.OverrideByRegexp(kpiFieldRegexp(k), []dashboard.DynamicConfigValue{unitProp(kpiUnit(k))})
	}
	return p
}

func dashed(dash int) dashboard.DynamicConfigValue {
	return dashboard.DynamicConfigValue{Id: "custom.lineStyle", Value: map[string]any{"fill": "dash", "dash": []int{dash, dash}}}
}

var provinceSeries = []string{thisKPI, ne(c.LabelProvince, "")}

// provincesRanked ranks every province reporting the KPI by attainment
// (from its own baseline to its own target where it has them), which ranks
// alike whichever way the KPI is better.
func provincesRanked() *bargauge.PanelBuilder {
	return newBarGauge(bi("Xếp hạng tỉnh, thành", "Provinces ranked"),
		"Every province reporting the KPI, by how far it has come from the baseline to the target (100% = target reached). The status of each is in the table beside.").
		Height(18).
		WithTarget(instantSeries("A", "sort_desc("+provinceAttainment(ne(c.LabelProvince, ""), thisKPI)+")", "{{"+c.LabelProvince+"}}")).
		Unit("percentunit").Min(0).Max(1).ColorScheme(fixedColor(neutral)).
		DataLinks([]cog.Builder[dashboard.DashboardLink]{link(bi("Thẻ điểm tỉnh", "Province scorecard"), UIDProvince, "var-province=${__field.labels.province}")})
}

// provincesTable is every province's value, attainment, the exporter's gap
// to plan, forecast and status, and when it last reported, including
// provinces that never did.
func provincesTable() *table.PanelBuilder {
	// Only the labels named, so that the queries merge into a row per province.
	keep := func(expr string) string { return fmt.Sprintf("max by (%s) (%s)", strings.Join(byProvince, ", "), expr) }
	cols := [][2]string{
		{c.LabelProvince, bi("Tỉnh, thành", "Province")}, {"Value #value", bi("Giá trị", "Value")},
		{"Value #target", bi("Mục tiêu", "Target")}, {"Value #attainment", bi("Mức đạt", "Attainment")},
		{"Value #gap", bi("Chậm so với kế hoạch", "Behind plan by")}, {"Value #forecast", bi("Dự báo đến hạn", "Forecast at deadline")},
		{"Value #status", bi("Tình trạng", "Status")}, {"Value #reported", bi("Kỳ báo cáo gần nhất", "Last report period")},
	}
	t := newTable(bi("Các tỉnh, thành: giá trị, tình trạng, kỳ báo cáo", "Provinces: value, status, last report"),
		"Every province for the KPI: its latest value, its target (its own where it has one), attainment, how far behind plan and the forecast at the deadline as the exporter judges them, its status and the period its latest report covers; provinces that never reported show as no data.").
		Span(12).Height(18).
		WithTarget(instantQuery("status", statusRank(byProvince, provinceSeries...))).
		WithTarget(instantQuery("value", rollup(byProvince, provinceSeries...))).
		WithTarget(instantQuery("target", perProvince(c.KPITarget, ne(c.LabelProvince, ""), thisKPI))).
		WithTarget(instantQuery("attainment", provinceAttainment(ne(c.LabelProvince, ""), thisKPI))).
		WithTarget(instantQuery("gap", keep(sel(c.KPIPlanGap, provinceSeries...)))).
		WithTarget(instantQuery("forecast", keep(sel(c.KPIForecast, provinceSeries...)))).
		WithTarget(instantQuery("reported", keep(millis(sel(c.KPIReportPeriod, provinceSeries...))))).
		WithTransformation(merge()).
		WithTransformation(organize([]string{"Time", c.LabelKPI}, cols))
	for _, col := range cols[1:3] {
		t.OverrideByName(col[1], []dashboard.DynamicConfigValue{unitProp("short")})
	}
	for _, col := range cols[4:6] {
		t.OverrideByName(col[1], []dashboard.DynamicConfigValue{unitProp("short")})
	}
	return t.OverrideByName(bi("Mức đạt", "Attainment"), attainmentProps()).
		OverrideByName(bi("Tình trạng", "Status"), []dashboard.DynamicConfigValue{{Id: "mappings", Value: statusMappings()}, cellColorBackground()}).
		OverrideByName(bi("Kỳ báo cáo gần nhất", "Last report period"), []dashboard.DynamicConfigValue{unitProp("dateTimeAsIso")}).
		OverrideByName(bi("Tỉnh, thành", "Province"), []dashboard.DynamicConfigValue{linksProp(bi("Thẻ điểm tỉnh", "Province scorecard"),
			boardURL(UIDProvince, "var-province=${__value.raw}"))}).
		SortBy([]cog.Builder[common.TableSortByFieldState]{common.NewTableSortByFieldStateBuilder().DisplayName(bi("Mức đạt", "Attainment")).Desc(true)})
}
