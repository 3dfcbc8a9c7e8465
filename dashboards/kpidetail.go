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

// Matchers for the KPI detail board's variables.
var (
	thisKPI      = eq(c.LabelKPI, "$kpi")
	thisProvince = eq(c.LabelProvince, "$province")
)

// detailScope selects the roll-up the KPI detail board shows: the KPI's
// whole, or, on a board with provinces, the province chosen. "All"
// provinces is wholeChoice, which no province matches, and so is the whole.
func detailScope(provinces bool) []string {
	if !provinces {
		return []string{thisKPI, atWhole}
	}
	return []string{thisKPI, re(c.LabelLevel, c.LevelWhole+"|"+catalogue.DimProvince), re(c.LabelProvince, "$province")}
}

// wholeChoice is the province variable's "All": the empty province, that
// of the whole.
const wholeChoice = "^$"

// kpiDetail is one KPI (a variable) as a whole or in one province: where it
// stands now, its path against plan and target with the exporter's forecast
// to the deadline, every province ranked with when it last reported, and the
// units reporting it. Every figure is the exporter's roll-up of the whole or
// of the province chosen, judged against the target of its own level, as in
// the alerts.
func kpiDetail(cat *catalogue.Catalogue) *dashboard.DashboardBuilder {
	b := newBoard(cat, UIDKPIDetail, "Chi tiết chỉ tiêu", "KPI detail",
		"One KPI, as a whole ("+cat.UnitSet().Whole.NameEN+") or in one province: value against plan and target, the forecast to the deadline, every province ranked.",
		"now-1y", "5m").
		WithVariable(blockVariable()).
		WithVariable(queryVariable(c.LabelKPI, bi("Chỉ tiêu", "KPI"), fmt.Sprintf("label_values(%s, %s)", sel(c.KPIInfo, thisBlock), c.LabelKPI), ""))
	if hasProvinces(cat) {
		b.WithVariable(queryVariable(c.LabelProvince, bi("Tỉnh, thành", "Province"),
			fmt.Sprintf("label_values(%s, %s)", sel(c.RollupStatus, thisKPI, atProvince), c.LabelProvince), wholeChoice))
	}
	d := detailQueriesFor(hasProvinces(cat))
	b.WithRow(row("Hiện tại", "Now"))
	b.WithPanel(nameHeader(bi("Chỉ tiêu", "KPI"), "The KPI chosen: its names, owner and reporting cadence.", sel(c.KPIInfo, thisKPI),
		fmt.Sprintf("{{%s}} / {{%s}} · {{%s}} · {{%s}}", c.LabelNameVI, c.LabelName, c.LabelOwner, c.LabelCadence)))
	b.WithPanel(kpiStat(cat, bi("Giá trị", "Value"), "The latest reports rolled up by the exporter, as a whole or in the province chosen (ratios as the sum of numerators over the sum of denominators).", d.value, ""))
	b.WithPanel(kpiStat(cat, bi("Kế hoạch", "Plan"), "Where the KPI should be today, interpolated from the baseline through the milestones (the province's own plan where it has targets of its own).",
		d.plan, "plan"))
	b.WithPanel(kpiStat(cat, bi("Mục tiêu", "Target"), "The milestone in force: the next one due, or the last one passed (the province's own where it has one).",
		d.target, "target"))
	b.WithPanel(kpiStat(cat, bi("Dự báo đến hạn", "Forecast at deadline"),
		"The value the exporter forecasts from the recent trend for the milestone's deadline, the same number as the forecast-miss alert's. Shown while a trend exists, the deadline is ahead and the target is not yet met.",
		d.forecast, "forecast"))
	b.WithPanel(kpiStat(cat, bi("Chậm so với kế hoạch", "Behind plan by"),
		"How far the latest report is behind its plan, as the exporter judges it; empty when on or ahead of plan.",
		d.gap, "gap"))
	b.WithPanel(newStat(bi("Hạn mốc", "Milestone deadline"), "When the milestone in force is due (the province's own deadline where it has one).").
		WithTarget(instantSeries("A", millis(d.deadline), "deadline")).Span(3).
		Unit("dateTimeAsIso").ColorMode(common.BigValueColorModeNone))
	b.WithPanel(newStat(bi("Còn lại (ngày)", "Days left"), "Days until the milestone in force is due; 0 once it has passed (the status then says whether it was met).").
		WithTarget(instantSeries("A", daysLeft(d.deadline), "days")).Span(3).
		Unit("none").Decimals(0).ColorMode(common.BigValueColorModeNone))
	b.WithPanel(newStat(bi("Tình trạng", "Status"), "The exporter's status of the KPI as a whole, or in the province chosen.").
		WithTarget(instantSeries("A", statusRank(byKPI, detailScope(hasProvinces(cat))...), "status")).Span(3).
		Mappings(statusMappings()).Unit("none").ColorScheme(colorByThresholds()))
	b.WithRow(row("Diễn biến", "Over time"))
	b.WithPanel(pathToTarget(cat, d))
	if hasProvinces(cat) {
		b.WithRow(row("Các tỉnh, thành", "Provinces"))
		b.WithPanel(provincesRanked())
		b.WithPanel(provincesTable())
	}
	b.WithRow(row("Các đơn vị báo cáo", "Units reporting"))
	b.WithPanel(unitsTable(hasProvinces(cat)))
	if len(cat.Dimensions) > 0 {
		b.WithRow(row("Theo phân tổ", "Breakdowns"))
		for _, d := range cat.Dimensions {
			b.WithPanel(declaredBreakdown(d))
		}
	}
	return b
}

// declaredBreakdown is the KPI's figure by each value of a dimension the
// catalogue declares (empty for a KPI not broken down by it): the
// exporter's roll-up at that level.
func declaredBreakdown(d catalogue.DeclaredDimension) *bargauge.PanelBuilder {
	return newBarGauge(bi(cmp.Or(d.NameVI, d.Name), cmp.Or(d.NameEN, d.Name)),
		fmt.Sprintf("The KPI as a whole, by %s, as the exporter rolls it up; empty for a KPI not broken down by it.", cmp.Or(d.NameEN, d.Name))).
		WithTarget(instantSeries("A", "sort_desc("+sel(c.RollupValue, thisKPI, eq(c.LabelLevel, d.Name))+")", "{{"+d.Name+"}}")).
		Unit("short").ColorScheme(fixedColor(neutral))
}

// detailQueries are the KPI detail board's figures for the KPI and the
// province chosen (or the whole): the exporter's roll-up.
type detailQueries struct {
	value, plan, target, forecast, gap, deadline string
}

func detailQueriesFor(provinces bool) detailQueries {
	f := func(metric string) string { return sel(metric, detailScope(provinces)...) }
	return detailQueries{value: f(c.RollupValue), plan: f(c.RollupPlan), target: f(c.RollupTarget),
		forecast: f(c.RollupForecast), gap: f(c.RollupPlanGap), deadline: f(c.RollupTargetDeadline)}
}

// queryVariable is a variable whose values come from a label's values,
// with an "All" choice of value all unless it is "".
func queryVariable(name, label, query, all string) *dashboard.QueryVariableBuilder {
	v := dashboard.NewQueryVariableBuilder(name).Label(label).
		Query(dashboard.StringOrMap{String: ptr(query)}).Definition(query).
		Datasource(datasource()).Refresh(dashboard.VariableRefreshOnTimeRangeChanged).
		Sort(dashboard.VariableSortAlphabeticalCaseInsensitiveAsc)
	if all != "" {
		v.IncludeAll(true).AllValue(all)
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
		"The value (as a whole or in the province chosen), the plan and the milestone in force over time (a step at each milestone), and the value the exporter forecast, at each moment, for the milestone's deadline.").
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

// provinceRollups selects the KPI's roll-up of every province.
var provinceRollups = []string{thisKPI, atProvince}

// provincesRanked ranks every province reporting the KPI by the exporter's
// attainment (from its own baseline to its own target where it has them),
// which ranks alike whichever way the KPI is better.
func provincesRanked() *bargauge.PanelBuilder {
	return newBarGauge(bi("Xếp hạng tỉnh, thành", "Provinces ranked"),
		"Every province reporting the KPI, by how far it has come from the baseline to the target (100% = target reached). The status of each is in the table beside.").
		Height(18).
		WithTarget(instantSeries("A", "sort_desc("+sel(c.RollupAttainment, provinceRollups...)+")", "{{"+c.LabelProvince+"}}")).
		Unit("percentunit").Min(0).Max(1).ColorScheme(fixedColor(neutral)).
		DataLinks([]cog.Builder[dashboard.DashboardLink]{link(bi("Thẻ điểm tỉnh", "Province scorecard"), UIDProvince, "var-province=${__field.labels.province}")})
}

// provincesTable is every province's value, target, attainment, gap to
// plan, forecast and status, and when it last reported, including
// provinces that never did: the exporter's province roll-ups.
func provincesTable() *table.PanelBuilder {
	// Only the labels named, so that the queries merge into a row per province.
	keep := func(metric string) string {
		return fmt.Sprintf("max by (%s) (%s)", strings.Join(byProvince, ", "), sel(metric, provinceRollups...))
	}
	cols := [][2]string{
		{c.LabelProvince, bi("Tỉnh, thành", "Province")}, {"Value #value", bi("Giá trị", "Value")},
		{"Value #target", bi("Mục tiêu", "Target")}, {"Value #attainment", bi("Mức đạt", "Attainment")},
		{"Value #gap", bi("Chậm so với kế hoạch", "Behind plan by")}, {"Value #forecast", bi("Dự báo đến hạn", "Forecast at deadline")},
		{"Value #status", bi("Tình trạng", "Status")}, {"Value #reported", bi("Kỳ báo cáo gần nhất", "Last report period")},
	}
	t := newTable(bi("Các tỉnh, thành: giá trị, tình trạng, kỳ báo cáo", "Provinces: value, status, last report"),
		"Every province for the KPI, as the exporter rolls it up and judges it: its latest value, its target (its own where it has one), attainment, how far behind plan, the forecast at the deadline, its status and the period its latest report covers; provinces that never reported show as no data.").
		Span(12).Height(18).
		WithTarget(instantQuery("status", statusRank(byProvince, provinceRollups...))).
		WithTarget(instantQuery("value", keep(c.RollupValue))).
		WithTarget(instantQuery("target", keep(c.RollupTarget))).
		WithTarget(instantQuery("attainment", keep(c.RollupAttainment))).
		WithTarget(instantQuery("gap", keep(c.RollupPlanGap))).
		WithTarget(instantQuery("forecast", keep(c.RollupForecast))).
		WithTarget(instantQuery("reported", millis(keep(c.RollupReportPeriod)))).
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

// unitsTable is every observed series of the KPI in the province chosen
// (its communes, or its own series), or, with the whole chosen, those not
// broken down by province (ministries, blocks, the KPI's one whole
// series): each unit, its value, the exporter's status of it and the period
// its latest report covers, from the unit endpoint, which is scraped every
// ten minutes.
func unitsTable(provinces bool) *table.PanelBuilder {
	ms := []string{thisKPI}
	if provinces {
		ms = append(ms, re(c.LabelProvince, "$province"))
	}
	keep := func(expr string) string {
		return fmt.Sprintf("max without (%s, %s, %s) (%s)", c.LabelStatus, c.LabelReason, labelInstance, expr)
	}
	cols := [][2]string{
		{c.LabelProvince, bi("Tỉnh, thành", "Province")}, {c.LabelCommune, bi("Xã, phường", "Commune")},
		{c.LabelMinistry, bi("Bộ, ngành", "Ministry")}, {c.LabelBlock, bi("Khối", "Block")},
		{"Value #value", bi("Giá trị", "Value")}, {"Value #status", bi("Tình trạng", "Status")},
		{"Value #reported", bi("Kỳ báo cáo gần nhất", "Last report period")},
	}
	return newTable(bi("Các đơn vị báo cáo", "Units reporting"),
		"Every unit reporting the KPI in the province chosen (its communes, or the province itself), or with the whole chosen those not broken down by province (ministries, blocks, the whole's one series): its latest value, the exporter's status of it and the period its latest report covers, from the exporter's unit endpoint (scraped every ten minutes).").
		Span(24).Height(14).
		WithTarget(instantQuery("value", keep(unitSeries(c.KPIValue, ms...)))).
		WithTarget(instantQuery("status", keep(unitStatusRank(ms...)))).
		WithTarget(instantQuery("reported", millis(keep(unitSeries(c.KPIReportPeriod, ms...))))).
		WithTransformation(merge()).
		WithTransformation(organize([]string{"Time", c.LabelKPI, labelJob}, cols)).
		OverrideByName(bi("Giá trị", "Value"), []dashboard.DynamicConfigValue{unitProp("short")}).
		OverrideByName(bi("Tình trạng", "Status"), []dashboard.DynamicConfigValue{{Id: "mappings", Value: statusMappings()}, cellColorBackground()}).
		OverrideByName(bi("Kỳ báo cáo gần nhất", "Last report period"), []dashboard.DynamicConfigValue{unitProp("dateTimeAsIso")})
}
