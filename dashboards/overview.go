package dashboards

import (
	"fmt"
	"slices"
	"strings"

	"github.com/grafana/grafana-foundation-sdk/go/bargauge"
	"github.com/grafana/grafana-foundation-sdk/go/cog"
	"github.com/grafana/grafana-foundation-sdk/go/common"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
	"github.com/grafana/grafana-foundation-sdk/go/stat"
	"github.com/grafana/grafana-foundation-sdk/go/table"

	"github.com/kpiwatch/kpiwatch/catalogue"
	c "github.com/kpiwatch/kpiwatch/conventions"
)

// overview is the board leaders open first: how the programme stands, one
// row per KPI, who lags, what is alerting.
func overview(cat *catalogue.Catalogue) *dashboard.DashboardBuilder {
	b := newBoard(cat, UIDOverview, "Tổng quan chương trình", "Programme overview",
		"How many KPIs are achieved, on track, at risk or missed; every KPI against its target; who lags; alerts firing now.",
		"now-90d", "5m").
		WithVariable(blockVariable())
	whole := cat.UnitSet().Whole
	b.WithRow(row("Tình trạng chỉ tiêu "+whole.NameVI, "Where the KPIs stand: "+whole.NameEN))
	for _, s := range standing {
		b.WithPanel(kpisInStatus(s, whole.NameEN))
	}
	b.WithPanel(reportsOverdue(whole.NameEN))
	b.WithPanel(alertsFiringCount())
	b.WithRow(row("Từng chỉ tiêu", "Every KPI"))
	for _, k := range kindsIn(cat) {
		b.WithPanel(kpiTable(k, wholeScope, kpisOf(cat, k)))
	}
	b.WithRow(row("Đơn vị chậm tiến độ", "Who lags"))
	if hasProvinces(cat) && cat.UnitLevel(catalogue.DimProvince) != nil {
		b.WithPanel(laggingProvinces())
	}
	b.WithPanel(laggingOwners(cat))
	if reportsTracked(cat) {
		b.WithRow(row("Kỷ luật báo cáo", "Reporting discipline"))
		b.WithPanel(reportingByBlock())
		b.WithPanel(notReported())
	}
	b.WithRow(row("Cảnh báo đang kích hoạt", "Alerts firing now"))
	b.WithPanel(alertsFiring())
	for _, block := range blocksIn(cat) {
		b.WithRow(row(block.NameVI, block.NameEN))
		for i := range cat.KPIs {
			if k := &cat.KPIs[i]; k.Block == block.ID {
				b.WithPanel(kpiNow(k))
			}
		}
	}
	return b
}

var kindTitles = map[catalogue.KPIKind][2]string{
	catalogue.KindRatio:     {"Chỉ tiêu tỷ lệ", "Ratio KPIs"},
	catalogue.KindCount:     {"Chỉ tiêu số lượng", "Count KPIs"},
	catalogue.KindLevel:     {"Chỉ tiêu chỉ số", "Level KPIs"},
	catalogue.KindMilestone: {"Chỉ tiêu mốc hoàn thành", "Milestone KPIs"},
}

// kpisOf counts the catalogue's KPIs of kind k broken down by dims.
func kpisOf(cat *catalogue.Catalogue, k catalogue.KPIKind, dims ...string) int {
	n := 0
	for i := range cat.KPIs {
		if x := &cat.KPIs[i]; x.Kind == k && !slices.ContainsFunc(dims, func(d string) bool { return !x.HasDimension(d) }) {
			n++
		}
	}
	return n
}

// kindsIn lists the kinds the catalogue's KPIs broken down by dims have, in
// board order.
func kindsIn(cat *catalogue.Catalogue, dims ...string) []catalogue.KPIKind {
	var out []catalogue.KPIKind
	for _, k := range kinds {
		if kpisOf(cat, k, dims...) > 0 {
			out = append(out, k)
		}
	}
	return out
}

// blocksIn lists the catalogue's blocks its KPIs belong to, in its order.
func blocksIn(cat *catalogue.Catalogue) []catalogue.Block {
	var out []catalogue.Block
	for _, id := range cat.BlockIDs() {
		if slices.ContainsFunc(cat.KPIs, func(x catalogue.KPI) bool { return x.Block == id }) {
			b, _ := cat.Block(id)
			out = append(out, b)
		}
	}
	return out
}

// kpisInStatus counts the KPIs in status s as a whole (named whole), as
// the exporter judges each KPI's whole against its target.
func kpisInStatus(s statusStyle, whole string) *stat.PanelBuilder {
	return newStat(bi("Chỉ tiêu "+strings.ToLower(s.vi), "KPIs "+strings.ToLower(s.en)),
		"KPIs whose whole ("+whole+") figure the exporter judges "+strings.ToLower(s.en)+" against the KPI's target: the same judgement as the scorecard's and the alerts'.").
		WithTarget(instantSeries("A", countRank(s, atWhole), s.en)).
		ColorScheme(fixedColor(s.color)).Unit("none").Decimals(0)
}

func reportsOverdue(whole string) *stat.PanelBuilder {
	units := sel(c.RollupUnits, atWhole)
	late := sel(c.RollupUnits, atWhole, re(c.LabelStatus, c.StatusStale+"|"+c.StatusNoData))
	return newStat(bi("Báo cáo quá hạn / chưa có", "Reports overdue or missing"),
		"Units (a KPI's province, ministry, commune, or the KPI as a whole, "+whole+") whose last report is older than its cadence allows, or that never reported, as the exporter counts them.").
		WithTarget(instantSeries("A", orZero("sum("+late+")", "sum("+units+")"), "overdue")).
		ColorScheme(colorByThresholds()).Thresholds(thresholds("green", step{1, "purple"})).Unit("none")
}

var firing = sel(alertsMetric, eq(labelAlertState, "firing"))

func alertsFiringCount() *stat.PanelBuilder {
	return newStat(bi("Cảnh báo đang kích hoạt", "Alerts firing"), "Alerts Prometheus is firing now, from the generated rules.").
		WithTarget(instantSeries("A", "count("+firing+")", "firing")).
		NoValue("0").ColorScheme(colorByThresholds()).Thresholds(thresholds("green", step{1, "red"})).Unit("none")
}

// scope is which roll-up a KPI table shows: the whole, or one province
// (ranked among the provinces).
type scope struct {
	rollup  []string // matchers selecting the roll-up
	ranked  bool     // add the province's rank among provinces and its last report
	linkVar string   // the variable links to the KPI detail carry
}

var wholeScope = scope{rollup: []string{atWhole}}

var provinceScope = scope{rollup: []string{atProvince, eq(c.LabelProvince, "$province")}, ranked: true, linkVar: "&var-province=$province"}

// kpiTable is one row per KPI of a kind (rows of them): value, target,
// plan, attainment, deadline, days left and status, with the kind's unit.
func kpiTable(k catalogue.KPIKind, sc scope, rows int) *table.PanelBuilder {
	// Every query keeps only KPIs of kind k that report in scope, so a row
	// has all its columns or none, and only the labels named, so that the
	// queries merge into one row per KPI.
	inScope := func(expr string, labels ...string) string {
		return fmt.Sprintf("max by (%s) (%s and on (%s) %s and on (%s) %s)", strings.Join(append([]string{c.LabelKPI}, labels...), ", "),
			expr, c.LabelKPI, sel(c.RollupStatus, sc.rollup...), c.LabelKPI, sel(c.KPIInfo, thisBlock))
	}
	keep := func(expr string) string { return inScope(ofKind(paren(expr), k)) }
	figure := func(metric string) string { return sel(metric, sc.rollup...) }
	deadline := figure(c.RollupTargetDeadline)
	t := newTable(bi(kindTitles[k][0], kindTitles[k][1]),
		"One row per KPI, as the exporter rolls it up and judges it (the same figures as the scorecard's and the alerts'): the value (ratios as the sum of numerators over the sum of denominators), the target, plan and deadline of that level (a province's own where it has targets of its own), attainment (how far the value has come from the baseline to the target, 100% = target) and status.").
		Height(uint32(min(4+rows, 16))).
		WithTarget(instantQuery("names", inScope(sel(c.KPIInfo, eq(c.LabelKind, string(k))), c.LabelName, c.LabelNameVI, c.LabelOwner))).
		WithTarget(instantQuery("value", keep(figure(c.RollupValue)))).
		WithTarget(instantQuery("target", keep(figure(c.RollupTarget)))).
		WithTarget(instantQuery("plan", keep(figure(c.RollupPlan)))).
		WithTarget(instantQuery("attainment", keep(figure(c.RollupAttainment)))).
		WithTarget(instantQuery("deadline", keep(millis(deadline)))).
		WithTarget(instantQuery("days", keep(daysLeft(deadline)))).
		WithTarget(instantQuery("status", keep(statusRank(byKPI, sc.rollup...))))
	columns := [][2]string{
		{c.LabelNameVI, "Chỉ tiêu"}, {c.LabelName, "KPI"}, {c.LabelKPI, "ID"}, {c.LabelOwner, bi("Chủ trì", "Owner")},
		{"Value #value", bi("Giá trị", "Value")}, {"Value #target", bi("Mục tiêu", "Target")}, {"Value #plan", bi("Kế hoạch", "Plan")},
		{"Value #attainment", bi("Mức đạt", "Attainment")}, {"Value #deadline", bi("Hạn", "Deadline")},
		{"Value #days", bi("Còn (ngày)", "Days left")}, {"Value #status", bi("Tình trạng", "Status")},
	}
	if sc.ranked {
		// The exporter serves a gap only while a roll-up is behind plan.
		gap := orZero(figure(c.RollupPlanGap), figure(c.RollupValue))
		t.WithTarget(instantQuery("gap", keep(gap))).
			WithTarget(instantQuery("rank", keep(rankAmongProvinces(sc.rollup)))).
			WithTarget(instantQuery("of", keep(fmt.Sprintf("count by (%s) (%s)", c.LabelKPI, sel(c.RollupValue, atProvince))))).
			WithTarget(instantQuery("reported", keep(millis(figure(c.RollupReportPeriod)))))
		columns = append(columns, [2]string{"Value #gap", bi("Chậm so với kế hoạch", "Behind plan by")},
			[2]string{"Value #rank", bi("Hạng", "Rank")}, [2]string{"Value #of", bi("Số tỉnh báo cáo", "Provinces reporting")},
			[2]string{"Value #reported", bi("Kỳ báo cáo gần nhất", "Last report period")})
	}
	unit := kindUnit(k)
	rename := func(ref string) string { // display name of a renamed column
		for _, col := range columns {
			if col[0] == "Value #"+ref {
				return col[1]
			}
		}
		panic("no column " + ref)
	}
	t.WithTransformation(merge()).
		WithTransformation(organize([]string{"Time", "Value #names"}, columns)).
		OverrideByName(rename("value"), []dashboard.DynamicConfigValue{unitProp(unit)}).
		OverrideByName(rename("target"), []dashboard.DynamicConfigValue{unitProp(unit)}).
		OverrideByName(rename("plan"), []dashboard.DynamicConfigValue{unitProp(unit)}).
		OverrideByName(rename("attainment"), attainmentProps()).
		OverrideByName(rename("deadline"), []dashboard.DynamicConfigValue{unitProp("dateTimeAsIso")}).
		OverrideByName(rename("days"), []dashboard.DynamicConfigValue{unitProp("none"), {Id: "decimals", Value: 0}}).
		OverrideByName(rename("status"), []dashboard.DynamicConfigValue{{Id: "mappings", Value: statusMappings()}, cellColorBackground()}).
		OverrideByName("ID", []dashboard.DynamicConfigValue{linksProp(bi("Chi tiết chỉ tiêu", "KPI detail"),
			boardURL(UIDKPIDetail, "var-kpi=${__value.raw}"+sc.linkVar))}).
		SortBy([]cog.Builder[common.TableSortByFieldState]{common.NewTableSortByFieldStateBuilder().DisplayName(rename("status"))})
	if k == catalogue.KindMilestone {
		t.OverrideByName(rename("value"), []dashboard.DynamicConfigValue{{Id: "mappings", Value: doneMappings()}})
	}
	if sc.ranked {
		t.OverrideByName(rename("gap"), []dashboard.DynamicConfigValue{unitProp(unit)}).
			OverrideByName(rename("rank"), []dashboard.DynamicConfigValue{unitProp("none")}).
			OverrideByName(rename("of"), []dashboard.DynamicConfigValue{unitProp("none")}).
			OverrideByName(rename("reported"), []dashboard.DynamicConfigValue{unitProp("dateTimeAsIso")})
	}
	return t
}

// kindUnit is the unit of a kind's values in tables that mix KPIs.
func kindUnit(k catalogue.KPIKind) string {
	if k == catalogue.KindRatio {
		return "percentunit"
	}
	return "short"
}

// rankAmongProvinces is the rank, by the exporter's attainment, of the
// province roll-up selected among all provinces reporting each KPI: 1 plus
// the number doing better.
func rankAmongProvinces(province []string) string {
	all := sel(c.RollupAttainment, atProvince)
	mine := sel(c.RollupAttainment, province...)
	better := fmt.Sprintf("count by (%s) (%s > on (%s) group_left () %s)", c.LabelKPI, paren(all), c.LabelKPI, paren(mine))
	return fmt.Sprintf("(%s or on (%s) 0 * max by (%s) %s) + 1", better, c.LabelKPI, c.LabelKPI, paren(mine))
}

// laggingProvinces ranks provinces by their KPIs at risk or missed, named
// from kpi_unit_info.
func laggingProvinces() *bargauge.PanelBuilder {
	behind := sel(c.RollupStatus, atProvince, re(c.LabelStatus, c.StatusAtRisk+"|"+c.StatusMissed))
	expr := fmt.Sprintf("topk(10, sum by (%s) (%s)) * on (%s) group_left (%s) %s",
		c.LabelProvince, behind, c.LabelProvince, c.LabelNameVI, unitNames(catalogue.DimProvince))
	return newBarGauge(bi("Tỉnh, thành chậm nhất", "Provinces lagging most"),
		"The ten provinces with the most KPIs at risk or missed. Click a bar for the province's scorecard.").
		WithTarget(instantSeries("A", expr, "{{"+c.LabelNameVI+"}}")).
		Unit("none").Decimals(0).ColorScheme(fixedColor("orange")).
		DataLinks([]cog.Builder[dashboard.DashboardLink]{link(bi("Thẻ điểm tỉnh", "Province scorecard"), UIDProvince, "var-province=${__field.labels.province}")})
}

// laggingOwners ranks the owners (ministries and agencies, a province's
// departments: the catalogue's word for them) by the units of the KPIs they
// own that are at risk or missed.
func laggingOwners(cat *catalogue.Catalogue) *bargauge.PanelBuilder {
	behind := fmt.Sprintf("%s * on (%s) group_left (%s) %s",
		sel(c.RollupUnits, atWhole, re(c.LabelStatus, c.StatusAtRisk+"|"+c.StatusMissed)), c.LabelKPI, c.LabelOwner, c.KPIInfo)
	expr := fmt.Sprintf("topk(10, sum by (%s) (%s)) * on (%s) group_left (%s, %s) %s",
		c.LabelOwner, behind, c.LabelOwner, c.LabelName, c.LabelNameVI, c.OwnerInfo)
	return newBarGauge(bi(cat.Metadata.OwnersVI+" chậm nhất", cat.Metadata.OwnersEN+" lagging most"),
		"The ten owners with the most units (provinces, ministries, communes, or the KPI as a whole, "+cat.UnitSet().Whole.NameEN+") of their KPIs at risk or missed, as the exporter counts them.").
		WithTarget(instantSeries("A", expr, "{{"+c.LabelNameVI+"}} · {{"+c.LabelName+"}}")).
		Unit("none").Decimals(0).ColorScheme(fixedColor("orange"))
}

func alertsFiring() *table.PanelBuilder {
	return newTable(bi("Cảnh báo đang kích hoạt", "Alerts firing now"),
		"Every alert Prometheus fires now, with the KPI, unit and owner it concerns; Alertmanager notifies the owner.").
		WithTarget(instantQuery("A", firing)).
		WithTransformation(organize([]string{"Time", "Value", "__name__", labelAlertState, labelInstance, labelJob}, [][2]string{
			{c.LabelSeverity, bi("Mức độ", "Severity")}, {c.LabelAlertName, bi("Cảnh báo", "Alert")},
			{c.LabelKPI, "KPI"}, {c.LabelOwner, bi("Chủ trì", "Owner")}, {c.LabelProvince, bi("Tỉnh", "Province")},
		})).
		NoValue(bi("Không có cảnh báo", "No alerts firing"))
}

// kpiNow is one KPI's value as a whole now, in its unit, with its trend over
// the board's range, beside the exporter's status of the whole, which alone
// carries the colour: an on-track KPI shows green whatever its value.
func kpiNow(k *catalogue.KPI) *stat.PanelBuilder {
	description := k.Description
	if description == "" {
		description = bi(k.NameVI, k.Name)
	}
	p := newStat(bi(k.NameVI, k.Name), description+" Status: the exporter's judgement of the KPI as a whole.").
		Span(6).Height(5).
		WithTarget(rangeQuery("value", sel(c.RollupValue, eq(c.LabelKPI, k.ID), atWhole), k.ID)).
		WithTarget(instantSeries("status", statusRank(byKPI, eq(c.LabelKPI, k.ID), atWhole), k.ID+" · status")).
		GraphMode(common.BigValueGraphModeArea).ColorMode(common.BigValueColorModeValue).TextMode(common.BigValueTextModeValue).
		Unit(kpiUnit(k)).ColorScheme(fixedColor("text")).
		OverrideByQuery("status", []dashboard.DynamicConfigValue{unitProp("none"), {Id: "mappings", Value: statusMappings()}}).
		Links([]cog.Builder[dashboard.DashboardLink]{link(bi("Chi tiết chỉ tiêu", "KPI detail"), UIDKPIDetail, "var-kpi="+k.ID)})
	if k.Kind == catalogue.KindMilestone {
		p.OverrideByQuery("value", []dashboard.DynamicConfigValue{{Id: "mappings", Value: doneMappings()}})
	}
	return p
}

// reportsTracked reports whether the exporter tracks reporting completeness
// for any KPI of the catalogue: a KPI by province, ministry or block alone,
// or a national one.
func reportsTracked(cat *catalogue.Catalogue) bool {
	for _, k := range cat.KPIs {
		if len(k.Dimensions) <= 1 && !k.HasDimension(catalogue.DimCommune) {
			return true
		}
	}
	return false
}

// reportingByBlock is, per block, the share of the reports expected on the
// last period due that are in, and the share that came by the due day (of
// the KPIs whose reports are dated).
func reportingByBlock() *bargauge.PanelBuilder {
	share := func(num, den string) string {
		return fmt.Sprintf("sum by (%s) (%s) / sum by (%s) (%s)", c.LabelBlock, sel(num, thisBlock), c.LabelBlock, den)
	}
	expected := sel(c.ReportExpected, thisBlock)
	// The reports expected of the units whose source dates them.
	dated := fmt.Sprintf("%s and %s", expected, sel(c.ReportOnTime, thisBlock))
	return newBarGauge(bi("Báo cáo đã nhận và đúng hạn, theo khối", "Reports received and on time, by block"),
		"For the last period whose report is due (monthly: by the 15th of the next month): the share of the reports expected from each unit that are in, and the share sent by the due day (of the KPIs whose reports carry the date they were sent). Each block separately.").
		WithTarget(instantSeries("received", share(c.ReportReceived, expected), "{{"+c.LabelBlock+"}} · "+bi("đã nhận", "received"))).
		WithTarget(instantSeries("on_time", share(c.ReportOnTime, dated), "{{"+c.LabelBlock+"}} · "+bi("đúng hạn", "on time"))).
		Unit("percentunit").Min(0).Max(1).ColorScheme(fixedColor(neutral))
}

// notReported lists the units whose report on the last period due is not in.
func notReported() *table.PanelBuilder {
	expr := fmt.Sprintf("(%s == 0) * on (%s) group_left (%s, %s) %s", sel(c.ReportReceived, thisBlock), c.LabelKPI, c.LabelName, c.LabelNameVI, c.KPIInfo)
	return newTable(bi("Chưa báo cáo kỳ này", "Not reported this period"),
		"Each unit (province, ministry or block) whose report on the last period due had not arrived; the KPI's owner chases it.").
		WithTarget(instantQuery("A", expr)).
		WithTransformation(organize([]string{"Time", "Value", "__name__", labelInstance, labelJob}, [][2]string{
			{c.LabelNameVI, "Chỉ tiêu"}, {c.LabelName, "KPI"}, {c.LabelKPI, "ID"}, {c.LabelProvince, bi("Tỉnh, thành", "Province")},
			{c.LabelMinistry, bi("Bộ, ngành", "Ministry")}, {c.LabelOwner, bi("Chủ trì", "Owner")}, {c.LabelBlock, bi("Khối", "Block")},
		})).
		Unit("none").
		NoValue(bi("Mọi đơn vị đã báo cáo", "Every unit has reported"))
}
