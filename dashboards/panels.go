package dashboards

import (
	"fmt"
	"strconv"

	"github.com/grafana/grafana-foundation-sdk/go/bargauge"
	"github.com/grafana/grafana-foundation-sdk/go/common"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
	"github.com/grafana/grafana-foundation-sdk/go/prometheus"
	"github.com/grafana/grafana-foundation-sdk/go/stat"
	"github.com/grafana/grafana-foundation-sdk/go/table"
	"github.com/grafana/grafana-foundation-sdk/go/timeseries"

	"github.com/kpiwatch/kpiwatch/catalogue"
	"github.com/kpiwatch/kpiwatch/conventions"
)

// Names Prometheus itself gives: the target labels it adds to every scraped
// series, and its series of alerts.
const (
	labelInstance   = "instance"
	labelJob        = "job"
	alertsMetric    = "ALERTS"
	labelAlertState = "alertstate"
)

// Shared defaults: every panel and query reads the data source the board's
// data source variable picks (the provisioned one unless the viewer picks
// another Prometheus).

// DatasourceVariable is the name of every board's data source variable.
const DatasourceVariable = "datasource"

func datasource() common.DataSourceRef {
	return common.DataSourceRef{Type: ptr("prometheus"), Uid: ptr("${" + DatasourceVariable + "}")}
}

// datasourceVariable lists the Prometheus data sources, the provisioned one
// first chosen; named and labelled as Grafana's dashboard linter expects.
func datasourceVariable() *dashboard.DatasourceVariableBuilder {
	return dashboard.NewDatasourceVariableBuilder(DatasourceVariable).Label("Data source").Type("prometheus").
		Current(dashboard.VariableOption{
			Text:  dashboard.StringOrArrayOfString{String: ptr(provisionedDatasourceName)},
			Value: dashboard.StringOrArrayOfString{String: ptr(DatasourceUID)},
		})
}

func ptr[T any](v T) *T { return &v }

// blockVariable chooses the blocks a board shows (Party, Government,
// National Assembly, Fatherland Front), all of them by default; thisBlock
// is the matcher that applies the choice.
func blockVariable() *dashboard.QueryVariableBuilder {
	return queryVariable(conventions.LabelBlock, bi("Khối", "Block"), fmt.Sprintf("label_values(%s, %s)", conventions.KPIInfo, conventions.LabelBlock), ".*").Multi(true)
}

var thisBlock = conventions.LabelBlock + `=~"$block"`

// bi is a bilingual label, Vietnamese first, as leaders read it.
func bi(vi, en string) string {
	if vi == "" || vi == en {
		return en
	}
	return vi + " / " + en
}

// rangeQuery is a query drawn over the board's time range.
func rangeQuery(ref, expr, legend string) *prometheus.DataqueryBuilder {
	return prometheus.NewDataqueryBuilder().Datasource(datasource()).RefId(ref).
		Expr(expr).LegendFormat(legend).Range()
}

// instantQuery is a query for the value now, as a table row per series.
func instantQuery(ref, expr string) *prometheus.DataqueryBuilder {
	return prometheus.NewDataqueryBuilder().Datasource(datasource()).RefId(ref).
		Expr(expr).Instant().Format(prometheus.PromQueryFormatTable)
}

// instantSeries is a query for the value now, one series per legend.
func instantSeries(ref, expr, legend string) *prometheus.DataqueryBuilder {
	return prometheus.NewDataqueryBuilder().Datasource(datasource()).RefId(ref).
		Expr(expr).LegendFormat(legend).Instant()
}

func newStat(title, description string) *stat.PanelBuilder {
	return stat.NewPanelBuilder().Title(title).Description(description).Datasource(datasource()).
		Height(4).Span(4).GraphMode(common.BigValueGraphModeNone).ColorMode(common.BigValueColorModeBackground).
		ReduceOptions(common.NewReduceDataOptionsBuilder().Calcs([]string{"lastNotNull"}))
}

func newTable(title, description string) *table.PanelBuilder {
	return table.NewPanelBuilder().Title(title).Description(description).Datasource(datasource()).
		Height(10).Span(24).Filterable(true).Unit("none").
		Footer(common.NewTableFooterOptionsBuilder().Show(false).Reducer([]string{"sum"}))
}

// newTimeseries sets the legend and tooltip itself: the SDK's builder leaves
// the legend hidden.
func newTimeseries(title, description string) *timeseries.PanelBuilder {
	return timeseries.NewPanelBuilder().Title(title).Description(description).Datasource(datasource()).
		Height(9).Span(12).LineWidth(2).FillOpacity(10).SpanNulls(common.BoolOrFloat64{Bool: ptr(true)}).
		Legend(common.NewVizLegendOptionsBuilder().ShowLegend(true).DisplayMode(common.LegendDisplayModeList).
			Placement(common.LegendPlacementBottom)).
		Tooltip(common.NewVizTooltipOptionsBuilder().Mode(common.TooltipDisplayModeMulti).Sort(common.SortOrderNone))
}

func newBarGauge(title, description string) *bargauge.PanelBuilder {
	return bargauge.NewPanelBuilder().Title(title).Description(description).Datasource(datasource()).
		Height(10).Span(12).Orientation(common.VizOrientationHorizontal).
		DisplayMode(common.BarGaugeDisplayModeGradient).
		ReduceOptions(common.NewReduceDataOptionsBuilder().Calcs([]string{"lastNotNull"}))
}

func row(vi, en string) *dashboard.RowBuilder { return dashboard.NewRowBuilder(bi(vi, en)) }

// statusStyle is how a status shows: its words and its colour.
type statusStyle struct{ status, en, vi, color string }

// statusStyles lists the statuses worst first; a status's rank is its place
// here, and a KPI shows the worst of its units' statuses. Reports missing or
// stale rank last: they are shown apart, not as the KPI's standing.
var statusStyles = []statusStyle{
	{conventions.StatusMissed, "Missed", "Không đạt", "red"},
	{conventions.StatusAtRisk, "At risk", "Có nguy cơ", "orange"},
	{conventions.StatusOnTrack, "On track", "Đúng tiến độ", "green"},
	{conventions.StatusAchieved, "Achieved", "Đã đạt", "dark-green"},
	{conventions.StatusStale, "Report overdue", "Quá hạn báo cáo", "purple"},
	{conventions.StatusNoData, "No data", "Chưa có số liệu", "text"},
}

func (s statusStyle) rank() int {
	for i, o := range statusStyles {
		if o.status == s.status {
			return i + 1
		}
	}
	panic("unknown status " + s.status)
}

// standing are the four statuses leaders count.
var standing = statusStyles[:4]

// statusMappings shows a status rank as its words on its colour.
func statusMappings() []dashboard.ValueMapping {
	opts := map[string]dashboard.ValueMappingResult{}
	for _, s := range statusStyles {
		opts[strconv.Itoa(s.rank())] = dashboard.ValueMappingResult{Text: ptr(bi(s.vi, s.en)), Color: ptr(s.color), Index: ptr(int32(s.rank() - 1))}
	}
	return []dashboard.ValueMapping{{ValueMap: &dashboard.ValueMap{Type: dashboard.MappingTypeValueToText, Options: opts}}}
}

// doneMappings shows a milestone's 0/1 as not done / done; not done is no
// colour of its own (before the deadline it may well be on track: the
// status says).
func doneMappings() []dashboard.ValueMapping {
	return []dashboard.ValueMapping{{ValueMap: &dashboard.ValueMap{Type: dashboard.MappingTypeValueToText, Options: map[string]dashboard.ValueMappingResult{
		"0": {Text: ptr(bi("Chưa xong", "Not done")), Color: ptr("text"), Index: ptr(int32(0))},
		"1": {Text: ptr(bi("Đã xong", "Done")), Color: ptr("green"), Index: ptr(int32(1))},
	}}}}
}

// step is a threshold: from value up, the colour.
type step struct {
	from  float64
	color string
}

func thresholds(base string, steps ...step) *dashboard.ThresholdsConfigBuilder {
	ts := []dashboard.Threshold{{Color: base}}
	for _, s := range steps {
		ts = append(ts, dashboard.Threshold{Value: ptr(s.from), Color: s.color})
	}
	return dashboard.NewThresholdsConfigBuilder().Mode(dashboard.ThresholdsModeAbsolute).Steps(ts)
}

func colorByThresholds() *dashboard.FieldColorBuilder {
	return dashboard.NewFieldColorBuilder().Mode(dashboard.FieldColorModeIdThresholds)
}

func fixedColor(color string) *dashboard.FieldColorBuilder {
	return dashboard.NewFieldColorBuilder().Mode(dashboard.FieldColorModeIdFixed).FixedColor(color)
}

// kpiUnit is the Grafana unit of a KPI's values, from the catalogue.
func kpiUnit(k *catalogue.KPI) string {
	switch {
	case k.Kind == catalogue.KindRatio:
		return "percentunit"
	case k.Kind == catalogue.KindMilestone:
		return "none"
	}
	switch k.Unit {
	case "seconds":
		return "s"
	case "days":
		return "d"
	case "percent":
		return "percent"
	}
	return "short"
}

// kpiFieldProperties are the overrides that give a KPI's fields its unit on
// boards that show any KPI. Colours come from the KPI's status, never from
// thresholds on its value.
func kpiFieldProperties(k *catalogue.KPI) []dashboard.DynamicConfigValue {
	props := []dashboard.DynamicConfigValue{unitProp(kpiUnit(k))}
	if k.Kind == catalogue.KindMilestone {
		props = append(props, dashboard.DynamicConfigValue{Id: "mappings", Value: doneMappings()})
	}
	return props
}

// kpiFieldRegexp matches the display names of a KPI's series on boards that
// show any KPI: the legend starts with the KPI id, then " · " and what it is.
func kpiFieldRegexp(k *catalogue.KPI) string { return fmt.Sprintf("^%s( · .+)?$", k.ID) }

func link(title, uid string, vars ...string) *dashboard.DashboardLinkBuilder {
	return dashboard.NewDashboardLinkBuilder(title).Type(dashboard.DashboardLinkTypeLink).Url(boardURL(uid, vars...))
}

// boardURL is the path of a board, with variables set from a clicked field.
func boardURL(uid string, vars ...string) string {
	u := "/d/" + uid
	for i, v := range vars {
		sep := "&"
		if i == 0 {
			sep = "?"
		}
		u += sep + v
	}
	return u
}

// organize hides, renames and orders a table's columns.
func organize(hide []string, rename [][2]string) dashboard.DataTransformerConfig {
	exclude := map[string]bool{}
	for _, h := range hide {
		exclude[h] = true
	}
	names := map[string]string{}
	index := map[string]int{}
	for i, r := range rename {
		names[r[0]] = r[1]
		index[r[0]] = i
	}
	return dashboard.DataTransformerConfig{Id: "organize", Options: map[string]any{
		"excludeByName": exclude, "renameByName": names, "indexByName": index,
	}}
}

// merge joins a table's queries into one row per common label set.
func merge() dashboard.DataTransformerConfig {
	return dashboard.DataTransformerConfig{Id: "merge", Options: map[string]any{}}
}

func cellColorBackground() dashboard.DynamicConfigValue {
	return dashboard.DynamicConfigValue{Id: "custom.cellOptions", Value: map[string]any{"type": "color-background"}}
}

func cellGauge() dashboard.DynamicConfigValue {
	return dashboard.DynamicConfigValue{Id: "custom.cellOptions", Value: map[string]any{"type": "gauge", "mode": "basic"}}
}

// attainmentProps show attainment (0 at the baseline, 1 at the target) as a
// gauge in one neutral colour: halfway to the target is on track halfway
// through the plan, so only the status column says how a KPI stands.
func attainmentProps() []dashboard.DynamicConfigValue {
	return []dashboard.DynamicConfigValue{unitProp("percentunit"), cellGauge(), colorProp(neutral),
		{Id: "max", Value: 1}, {Id: "min", Value: 0}}
}

// neutral is the colour of figures that say nothing about status.
const neutral = "blue"

func colorProp(color string) dashboard.DynamicConfigValue {
	return dashboard.DynamicConfigValue{Id: "color", Value: map[string]any{"mode": "fixed", "fixedColor": color}}
}

func unitProp(unit string) dashboard.DynamicConfigValue {
	return dashboard.DynamicConfigValue{Id: "unit", Value: unit}
}

func thresholdsProp(th *dashboard.ThresholdsConfigBuilder) dashboard.DynamicConfigValue {
	t, _ := th.Build()
	return dashboard.DynamicConfigValue{Id: "thresholds", Value: t}
}

func linksProp(title, url string) dashboard.DynamicConfigValue {
	return dashboard.DynamicConfigValue{Id: "links", Value: []map[string]any{{"title": title, "url": url}}}
}

// nameHeader shows, across the board, the names of what the board's variable
// picked (the variable itself lists ids).
func nameHeader(title, description, expr, legend string) *stat.PanelBuilder {
	return newStat(title, description).Span(24).Height(3).Unit("none").
		WithTarget(instantSeries("A", expr, legend)).
		TextMode(common.BigValueTextModeName).ColorMode(common.BigValueColorModeNone)
}
