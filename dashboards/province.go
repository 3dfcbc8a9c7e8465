package dashboards

import (
	"fmt"
	"strings"

	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
	"github.com/grafana/grafana-foundation-sdk/go/stat"
	"github.com/grafana/grafana-foundation-sdk/go/table"

	"github.com/kpiwatch/kpiwatch/catalogue"
	c "github.com/kpiwatch/kpiwatch/conventions"
)

// provinceScorecard is one province (a variable): every KPI it reports, its
// rank among the provinces, and the reports it owes.
func provinceScorecard(cat *catalogue.Catalogue) *dashboard.DashboardBuilder {
	b := newBoard(cat, UIDProvince, "Thẻ điểm tỉnh, thành", "Province scorecard",
		"One province: every KPI it reports against plan and target, its rank among the 34 provinces, its overdue and missing reports.",
		"now-90d", "5m").
		WithVariable(unitVariable(provinceLevel(cat))).
		WithVariable(blockVariable())
	b.WithRow(row("Tình trạng chỉ tiêu của tỉnh", "Where the province's KPIs stand"))
	if l := provinceLevel(cat); l.listed {
		b.WithPanel(unitHeader(l))
	}
	for _, s := range standing {
		b.WithPanel(provinceKPIsInStatus(s))
	}
	b.WithPanel(provinceReportsOverdue())
	b.WithRow(row("Từng chỉ tiêu của tỉnh", "Every KPI in the province"))
	for _, k := range kindsIn(cat, catalogue.DimProvince) {
		b.WithPanel(kpiTable(k, provinceScope, kpisOf(cat, k, catalogue.DimProvince)))
	}
	if hasTasks(cat) {
		b.WithRow(row("Báo cáo và nhiệm vụ quá hạn", "Overdue reports and tasks"))
	} else {
		b.WithRow(row("Báo cáo quá hạn", "Overdue reports"))
	}
	b.WithPanel(provinceOverdueReports())
	if hasTasks(cat) {
		b.WithPanel(provinceOverdueTasks())
	}
	return b
}

var lateReports = re(c.LabelStatus, c.StatusStale+"|"+c.StatusNoData)

func provinceKPIsInStatus(s statusStyle) *stat.PanelBuilder {
	return newStat(bi("Chỉ tiêu "+strings.ToLower(s.vi), "KPIs "+strings.ToLower(s.en)),
		"KPIs the province reports whose roll-up in the province the exporter judges "+strings.ToLower(s.en)+".").
		Span(4).
		WithTarget(instantSeries("A", countRank(s, atProvince, thisProvince), s.en)).
		ColorScheme(fixedColor(s.color)).Unit("none").Decimals(0)
}

func provinceReportsOverdue() *stat.PanelBuilder {
	mine := sel(c.RollupStatus, atProvince, thisProvince)
	return newStat(bi("Báo cáo quá hạn / chưa có", "Reports overdue or missing"),
		"KPIs for which the province's last report is older than its cadence allows, or that it never reported.").
		Span(4).
		WithTarget(instantSeries("A", orZero("count("+sel(c.RollupStatus, atProvince, thisProvince, lateReports)+")", "count("+mine+")"), "overdue")).
		ColorScheme(colorByThresholds()).Thresholds(thresholds("green", step{1, "purple"})).Unit("none")
}

// provinceOverdueReports lists the KPIs the province owes a report for.
func provinceOverdueReports() *table.PanelBuilder {
	return newTable(bi("Báo cáo quá hạn hoặc chưa có", "Reports overdue or missing"),
		"Each KPI the province has not reported in time: stale (the last report is older than the cadence and its grace allow) or no data (never reported).").
		WithTarget(instantQuery("status", withNames(statusRank(byKPI, atProvince, thisProvince, lateReports)))).
		WithTarget(instantQuery("reported", fmt.Sprintf("max by (%s) %s", c.LabelKPI, paren(millis(sel(c.RollupReportPeriod, atProvince, thisProvince)))))).
		WithTransformation(merge()).
		WithTransformation(dashboard.DataTransformerConfig{Id: "filterByValue", Options: map[string]any{
			"type": "include", "match": "any",
			"filters": []map[string]any{{"fieldName": "Value #status", "config": map[string]any{"id": "isNotNull", "options": map[string]any{}}}},
		}}).
		WithTransformation(organize([]string{"Time"}, [][2]string{
			{c.LabelNameVI, "Chỉ tiêu"}, {c.LabelName, "KPI"}, {c.LabelKPI, "ID"}, {c.LabelOwner, bi("Chủ trì", "Owner")},
			{"Value #status", bi("Tình trạng", "Status")}, {"Value #reported", bi("Kỳ báo cáo gần nhất", "Last report period")},
		})).
		OverrideByName(bi("Tình trạng", "Status"), []dashboard.DynamicConfigValue{{Id: "mappings", Value: statusMappings()}, cellColorBackground()}).
		OverrideByName(bi("Kỳ báo cáo gần nhất", "Last report period"), []dashboard.DynamicConfigValue{unitProp("dateTimeAsIso")}).
		NoValue(bi("Không có báo cáo quá hạn", "No reports overdue"))
}

// provinceOverdueTasks lists the overdue roadmap tasks of the owners of the
// KPIs the province reports: tasks carry an owner, not a province, so these
// are the tasks the province's KPIs wait on.
func provinceOverdueTasks() *table.PanelBuilder {
	owners := fmt.Sprintf("%s and on (%s) %s", c.KPIInfo, c.LabelKPI, sel(c.RollupStatus, atProvince, thisProvince))
	return overdueTasks(fmt.Sprintf("%s and on (%s) %s", c.TaskDue, c.LabelOwner, paren(owners))).
		Title(bi("Nhiệm vụ quá hạn của các bộ chủ trì chỉ tiêu", "Overdue tasks of the ministries owning these KPIs")).
		Description("Roadmap tasks past their due date and not done, of the ministries and agencies that own the KPIs this province reports; tasks carry an owner, not a province.")
}
