package dashboards

import (
	"fmt"
	"slices"
	"strings"

	"github.com/grafana/grafana-foundation-sdk/go/cog"
	"github.com/grafana/grafana-foundation-sdk/go/common"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
	"github.com/grafana/grafana-foundation-sdk/go/stat"
	"github.com/grafana/grafana-foundation-sdk/go/table"

	"github.com/kpiwatch/kpiwatch/catalogue"
	c "github.com/kpiwatch/kpiwatch/conventions"
)

// unitLevel is a level of units the unit scorecard has a variable for.
type unitLevel struct {
	name, vi, en string
	// parent is the level above when the board has a variable for it too:
	// its choice narrows this level's.
	parent string
	// listed: the units set lists its units (served as kpi_unit_info);
	// else its values are free text, as reported.
	listed bool
}

// unitLevels are the levels of the unit scorecard, coarsest first: each
// level the catalogue's units set lists that some KPI is broken down by,
// and the commune, free text, where some KPI is broken down by it and the
// set does not list it.
func unitLevels(cat *catalogue.Catalogue) []unitLevel {
	reported := func(d string) bool {
		return slices.ContainsFunc(cat.KPIs, func(k catalogue.KPI) bool { return k.HasDimension(d) })
	}
	var out []unitLevel
	for _, l := range cat.UnitSet().Levels {
		if reported(l.Name) {
			out = append(out, unitLevel{name: l.Name, vi: l.NameVI, en: l.NameEN, parent: l.Parent, listed: true})
		}
	}
	if reported(catalogue.DimCommune) && cat.UnitLevel(catalogue.DimCommune) == nil {
		out = append(out, unitLevel{name: catalogue.DimCommune, vi: "Xã, phường", en: "Commune", parent: catalogue.DimProvince})
	}
	// A parent without a variable narrows nothing; parents come first.
	for i := range out {
		if !slices.ContainsFunc(out[:i], func(p unitLevel) bool { return p.name == out[i].parent }) {
			out[i].parent = ""
		}
	}
	return out
}

// unitScorecard is one unit of each level (a variable per level): the KPIs
// it reports, each with its latest value, the plan and target it follows
// and the exporter's status of it, from the unit endpoint.
func unitScorecard(cat *catalogue.Catalogue) *dashboard.DashboardBuilder {
	levels := unitLevels(cat)
	var names []string
	for _, l := range levels {
		names = append(names, l.en)
	}
	b := newBoard(cat, UIDUnits, "Thẻ điểm đơn vị", "Unit scorecard",
		"One unit of each level ("+strings.Join(names, ", ")+"): every KPI it reports, its latest value against its plan and target, and its status.",
		"now-90d", "5m")
	for i, l := range levels {
		b.WithVariable(unitVariable(l))
		b.WithRow(row(l.vi+": $"+l.name, l.en+": $"+l.name))
		if l.listed {
			b.WithPanel(unitHeader(l))
		}
		for _, k := range kindsIn(cat, l.name) {
			b.WithPanel(unitKPIs(cat, l, levels[i+1:], k))
		}
	}
	return b
}

// unitVariable lists a level's units: a listed level's from kpi_unit_info,
// a free-text level's from the label values of the unit endpoint's series,
// narrowed to the parent chosen.
func unitVariable(l unitLevel) *dashboard.QueryVariableBuilder {
	// A free-text unit's series carry its parent's label, kpi_unit_info
	// the parent label.
	query := fmt.Sprintf("label_values(%s, %s)", sel(c.KPIValue, l.narrowed(l.parent)), l.name)
	if l.listed {
		query = fmt.Sprintf("label_values(%s, %s)", sel(c.UnitInfo, eq(c.LabelLevel, l.name), l.narrowed(c.LabelParent)), c.LabelUnit)
	}
	return queryVariable(l.name, bi(l.vi, l.en), query, "")
}

// unitHeader shows, across the board, the official name of the unit of a
// listed level chosen.
func unitHeader(l unitLevel) *stat.PanelBuilder {
	return nameHeader(bi(l.vi, l.en), "The unit chosen: its official name and the name it is reported under.",
		sel(c.UnitInfo, eq(c.LabelLevel, l.name), eq(c.LabelUnit, "$"+l.name)),
		fmt.Sprintf("{{%s}} ({{%s}})", c.LabelNameVI, c.LabelUnit))
}

// provinceLevel is the province as a level of units: listed in the
// catalogue's units set (the default), or free text.
func provinceLevel(cat *catalogue.Catalogue) unitLevel {
	if l := cat.UnitLevel(catalogue.DimProvince); l != nil {
		return unitLevel{name: l.Name, vi: l.NameVI, en: l.NameEN, listed: true}
	}
	return unitLevel{name: catalogue.DimProvince, vi: "Tỉnh, thành", en: "Province"}
}

// narrowed is the matcher that narrows a level's units to the parent
// chosen, by label; "" without a parent.
func (l unitLevel) narrowed(label string) string {
	if l.parent == "" {
		return ""
	}
	return eq(label, "$"+l.parent)
}

// unitKPIs is every KPI of kind k the unit chosen of level l reports or is
// expected to (its own series, not those of the finer levels below it), in
// the kind's unit: its latest
// value and the exporter's status of it from the unit endpoint, and the
// plan and target it follows: its own where it has targets of its own, else
// the KPI's (kpi_plan, kpi_target), but for a count whose whole has a
// target of its own, which is not a unit's.
func unitKPIs(cat *catalogue.Catalogue, l unitLevel, finer []unitLevel, k catalogue.KPIKind) *table.PanelBuilder {
	ms := []string{eq(l.name, "$"+l.name)}
	for _, f := range finer {
		ms = append(ms, eq(f.name, ""))
	}
	value := ofKind(fmt.Sprintf("max by (%s) (%s)", c.LabelKPI, unitSeries(c.KPIValue, ms...)), k)
	status := ofKind(fmt.Sprintf("max by (%s) (%s)", c.LabelKPI, unitStatusRank(ms...)), k)
	// The KPIs the unit reports, or is expected to and has not (no data).
	reports := func(expr string) string {
		return fmt.Sprintf("%s and on (%s) %s", paren(expr), c.LabelKPI, paren(status))
	}
	// The KPI-wide plan is the whole's where the whole has a target, else
	// the one each unit follows; a count's whole's is not a unit's.
	wholeCount := fmt.Sprintf("%s and on (%s) %s", sel(c.RollupTarget, atWhole), c.LabelKPI, sel(c.KPIInfo, eq(c.LabelKind, string(catalogue.KindCount))))
	follows := func(metric string) string {
		kpiWide := fmt.Sprintf("max by (%s) (%s) unless on (%s) %s", c.LabelKPI, sel(metric, eq(l.name, "")), c.LabelKPI, paren(wholeCount))
		return reports(fmt.Sprintf("max by (%s) (%s) or on (%s) %s", c.LabelKPI, sel(metric, eq(l.name, "$"+l.name)), c.LabelKPI, paren(kpiWide)))
	}
	cols := [][2]string{
		{c.LabelNameVI, "Chỉ tiêu"}, {c.LabelName, "KPI"}, {c.LabelKPI, "ID"}, {c.LabelOwner, bi("Chủ trì", "Owner")},
		{"Value #value", bi("Giá trị", "Value")}, {"Value #plan", bi("Kế hoạch", "Plan")},
		{"Value #target", bi("Mục tiêu", "Target")}, {"Value #status", bi("Tình trạng", "Status")},
	}
	t := newTable(bi(kindTitles[k][0]+" của "+strings.ToLower(l.vi), kindTitles[k][1]+" of the "+strings.ToLower(l.en)),
		"Every KPI the unit chosen reports: its latest value and the exporter's status of it, from the exporter's unit endpoint (scraped every ten minutes), and the plan and target it follows: its own where it has targets of its own, else the KPI's; none for a count whose target is the whole's only.").
		Height(uint32(min(4+kpisOf(cat, k, l.name), 16))).
		WithTarget(instantQuery("names", reports(fmt.Sprintf("max by (%s, %s, %s, %s) (%s)", c.LabelKPI, c.LabelName, c.LabelNameVI, c.LabelOwner, c.KPIInfo)))).
		WithTarget(instantQuery("value", value)).
		WithTarget(instantQuery("plan", follows(c.KPIPlan))).
		WithTarget(instantQuery("target", follows(c.KPITarget))).
		WithTarget(instantQuery("status", status)).
		WithTransformation(merge()).
		WithTransformation(organize([]string{"Time", "Value #names"}, cols))
	for _, col := range cols[4:7] {
		t.OverrideByName(col[1], []dashboard.DynamicConfigValue{unitProp(kindUnit(k))})
	}
	if k == catalogue.KindMilestone {
		t.OverrideByName(bi("Giá trị", "Value"), []dashboard.DynamicConfigValue{{Id: "mappings", Value: doneMappings()}})
	}
	return t.OverrideByName(bi("Tình trạng", "Status"), []dashboard.DynamicConfigValue{{Id: "mappings", Value: statusMappings()}, cellColorBackground()}).
		OverrideByName("ID", []dashboard.DynamicConfigValue{linksProp(bi("Chi tiết chỉ tiêu", "KPI detail"), boardURL(UIDKPIDetail, "var-kpi=${__value.raw}"))}).
		SortBy([]cog.Builder[common.TableSortByFieldState]{common.NewTableSortByFieldStateBuilder().DisplayName(bi("Tình trạng", "Status"))})
}
