package dashboards

import (
	"fmt"

	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
	"github.com/grafana/grafana-foundation-sdk/go/stat"
	"github.com/grafana/grafana-foundation-sdk/go/table"
	"github.com/grafana/grafana-foundation-sdk/go/timeseries"

	"github.com/kpiwatch/kpiwatch/catalogue"
	c "github.com/kpiwatch/kpiwatch/conventions"
)

var thisSource = re(c.LabelSource, "$source")

// collectorHealth is the operators' board: is every source refreshing, how
// long it takes, how much it serves and rejects.
func collectorHealth(cat *catalogue.Catalogue) *dashboard.DashboardBuilder {
	b := newBoard(cat, UIDCollectors, "Tình trạng thu thập số liệu", "Collector health",
		"For operators: each source's last refresh (success, when, how long), the series it serves and the rows it rejected.",
		"now-6h", "1m").
		WithVariable(queryVariable(c.LabelSource, bi("Nguồn", "Source"), fmt.Sprintf("label_values(%s, %s)", c.CollectorSuccess, c.LabelSource), ".*").Multi(true))
	b.WithRow(row("Tổng hợp", "Summary"))
	b.WithPanel(sourcesFailing())
	b.WithPanel(newStat(bi("Số liệu cũ nhất", "Oldest data"), "Time since the source refreshed least recently last succeeded.").
		Span(6).WithTarget(instantSeries("A", "time() - min("+sel(c.CollectorLastSuccess, thisSource)+")", "age")).
		Unit("s").ColorScheme(colorByThresholds()).Thresholds(thresholds("green", step{86400, "orange"}, step{3 * 86400, "red"})))
	b.WithPanel(newStat(bi("Dòng bị loại", "Rows rejected"), "Rows the last refresh of the sources rejected as bad input; the exporter logs each with its file, row and column.").
		Span(6).WithTarget(instantSeries("A", "sum("+sel(c.CollectorRejectedRows, thisSource)+")", "rejected")).
		Unit("none").ColorScheme(colorByThresholds()).Thresholds(thresholds("green", step{1, "orange"})))
	b.WithPanel(newStat(bi("Nạp danh mục", "Catalogue reload"), "Whether the last catalogue reload was accepted; a refused catalogue never replaces the running one.").
		Span(6).WithTarget(instantSeries("A", c.CatalogueReloadSuccess, "reload")).
		Mappings(okMappings()).Unit("none").ColorScheme(colorByThresholds()))
	b.WithRow(row("Từng nguồn", "Each source"))
	b.WithPanel(sourcesTable())
	b.WithPanel(perSource(bi("Thời gian làm mới", "Refresh duration"), c.CollectorDuration, "s"))
	b.WithPanel(perSource(bi("Số chuỗi phục vụ", "Series served"), c.CollectorSeries, "short"))
	b.WithPanel(perSource(bi("Dòng bị loại", "Rows rejected"), c.CollectorRejectedRows, "short"))
	b.WithPanel(perSource(bi("Làm mới thành công", "Refresh succeeded"), c.CollectorSuccess, "bool_yes_no"))
	return b
}

func okMappings() []dashboard.ValueMapping {
	return []dashboard.ValueMapping{{ValueMap: &dashboard.ValueMap{Type: dashboard.MappingTypeValueToText, Options: map[string]dashboard.ValueMappingResult{
		"0": {Text: ptr(bi("Lỗi", "Failing")), Color: ptr("red"), Index: ptr(int32(0))},
		"1": {Text: ptr("OK"), Color: ptr("green"), Index: ptr(int32(1))},
	}}}}
}

func sourcesFailing() *stat.PanelBuilder {
	return newStat(bi("Nguồn đang lỗi", "Sources failing"), "Sources whose last refresh failed; they keep serving their last good data.").
		Span(6).WithTarget(instantSeries("A", "sum(1 - "+sel(c.CollectorSuccess, thisSource)+")", "failing")).
		Unit("none").ColorScheme(colorByThresholds()).Thresholds(thresholds("green", step{1, "red"}))
}

// sourcesTable is a row per source with its last refresh.
func sourcesTable() *table.PanelBuilder {
	cols := []struct{ ref, metric, title, unit string }{
		{"success", c.CollectorSuccess, bi("Lần cuối", "Last refresh"), ""},
		{"failures", c.CollectorConsecutiveFailures, bi("Lỗi liên tiếp", "Failures in a row"), "none"},
		{"last", c.CollectorLastSuccess, bi("Thành công lần cuối", "Last success"), "dateTimeAsIsoNoDateIfToday"},
		{"duration", c.CollectorDuration, bi("Thời gian", "Duration"), "s"},
		{"series", c.CollectorSeries, bi("Số chuỗi", "Series"), "short"},
		{"rejected", c.CollectorRejectedRows, bi("Dòng bị loại", "Rows rejected"), "short"},
	}
	t := newTable(bi("Các nguồn", "Sources"), "Each source's last refresh: whether it succeeded, how many refreshes in a row have failed (two raise KPICollectorFailing), when it last succeeded, how long it took, what it serves and rejects.")
	rename := [][2]string{{c.LabelSource, bi("Nguồn", "Source")}, {c.LabelCollector, bi("Bộ thu thập", "Collector")}}
	for _, col := range cols {
		expr := sel(col.metric, thisSource)
		if col.ref == "last" {
			expr = millis(expr)
		}
		t.WithTarget(instantQuery(col.ref, expr))
		rename = append(rename, [2]string{"Value #" + col.ref, col.title})
		if col.unit != "" {
			t.OverrideByName(col.title, []dashboard.DynamicConfigValue{unitProp(col.unit)})
		}
	}
	return t.WithTransformation(merge()).
		WithTransformation(organize([]string{"Time", labelInstance, labelJob}, rename)).
		OverrideByName(cols[0].title, []dashboard.DynamicConfigValue{{Id: "mappings", Value: okMappings()}, cellColorBackground()})
}

func perSource(title, metric, unit string) *timeseries.PanelBuilder {
	return newTimeseries(title, "Per source, over the range shown.").
		WithTarget(rangeQuery("A", sel(metric, thisSource), "{{"+c.LabelSource+"}}")).
		Unit(unit)
}
