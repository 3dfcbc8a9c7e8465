package dashboards

import (
	"encoding/json"
	"maps"
	"slices"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/kpiwatch/kpiwatch/catalogue"
	"github.com/kpiwatch/kpiwatch/collectors"
	c "github.com/kpiwatch/kpiwatch/conventions"
	"github.com/kpiwatch/kpiwatch/exporter"
	"github.com/kpiwatch/kpiwatch/internal/contract"
	"github.com/kpiwatch/kpiwatch/units/unitstest"
)

// communeCatalogue is a province's own deployment: its communes (Tay Ninh's,
// from units/unitstest) as its units, its own blocks and its word for its
// owners, and a ratio and a count reported by commune.
const communeCatalogue = `apiVersion: kpiwatch.io/v1
kind: Catalogue
metadata: {name: tay-ninh, units: units.yaml, owners_vi: "Sở, ngành", owners_en: Departments}
blocks: [{id: departments, name_vi: Khối sở, name_en: Departments}]
owners: [{id: sct, name: Department of Industry and Trade, name_vi: Sở Công Thương, block: departments}]
sources:
  - id: communes
    collector: csv
    config:
      path: r.csv
      mapping: {kpi_column: kpi, date: period, value: value, dimensions: {commune: commune}}
kpis:
  - id: dossiers
    name: Dossiers filed online
    name_vi: Hồ sơ nộp trực tuyến
    kind: count
    direction: higher_is_better
    owner: sct
    block: departments
    dimensions: [commune]
    cadence: {period: monthly, due_day: 15}
    source: communes
    baseline: {date: 2025-01-01, value: 0}
    targets: [{by: 2026-12-31, value: 1000, scope: each}]
  - id: online_share
    name: Share of dossiers filed online
    name_vi: Tỷ lệ hồ sơ trực tuyến
    kind: level
    direction: higher_is_better
    owner: sct
    block: departments
    dimensions: [commune]
    cadence: {period: monthly, due_day: 15}
    source: communes
    baseline: {date: 2025-01-01, value: 10}
    targets: [{by: 2026-12-31, value: 80}]
`

// communeData are the commune reports the exporter reads.
const communeData = `kpi,commune,period,value
dossiers,Phước Vinh,2025-07,300
dossiers,Tân Ninh,2025-07,20
online_share,Phước Vinh,2025-07,40
online_share,Bến Cầu,2025-07,12
`

func loadCommuneCatalogue(t *testing.T) (*catalogue.Catalogue, fstest.MapFS) {
	t.Helper()
	fsys := unitstest.Files()
	fsys["r.csv"] = &fstest.MapFile{Data: []byte(communeData)}
	cat, err := catalogue.Parse("kpis.yaml", []byte(communeCatalogue), fsys, collectors.Check)
	if err != nil {
		t.Fatal(err)
	}
	return cat, fsys
}

// The boards of a province's deployment speak its words: its whole's name,
// its blocks, its word for its owners; no provinces lagging, as it lists
// none; a unit scorecard whose commune variable lists its communes.
func TestBoardsSpeakTheDeploymentsWords(t *testing.T) {
	cat, _ := loadCommuneCatalogue(t)
	boards := buildBoards(t, cat)
	overview := string(boards[UIDOverview])
	for _, want := range []string{"Tình trạng chỉ tiêu tỉnh Tây Ninh / Where the KPIs stand: Tay Ninh province",
		`"Khối sở / Departments"`, `"Sở, ngành chậm nhất / Departments lagging most"`} {
		if !strings.Contains(overview, want) {
			t.Errorf("overview: no %s", want)
		}
	}
	for _, absent := range []string{"toàn quốc", "Toàn quốc", "nationwide", "Bộ, ngành", "Ministries and agencies", "Khối Chính phủ",
		bi("Tỉnh, thành chậm nhất", "Provinces lagging most")} {
		if strings.Contains(overview, absent) {
			t.Errorf("overview says %q, not this deployment's word", absent)
		}
	}
	if _, ok := boards[UIDProvince]; ok {
		t.Error("a province scorecard for a deployment without province KPIs")
	}
	var b lintBoard
	if err := json.Unmarshal(boards[UIDUnits], &b); err != nil {
		t.Fatal(err)
	}
	var vars []string
	for _, v := range b.Templating.List {
		vars = append(vars, v.Name+": "+v.Query)
	}
	want := c.LabelCommune + `: label_values(` + c.UnitInfo + `{level="commune"}, unit)`
	if !strings.Contains(strings.Join(vars, "\n"), want) {
		t.Errorf("unit scorecard variables:\n%s\nwant %s", strings.Join(vars, "\n"), want)
	}
}

// A commune's KPIs, from a real Prometheus scraping the real exporter of
// a province's deployment: every query of the unit scorecard shows data,
// and with a commune chosen, its KPIs table shows that commune's own value
// of each KPI it reports (and no other), with the plan and target each
// KPI's units follow and the exporter's status.
func TestACommuneOnTheBoardsFromARealPrometheus(t *testing.T) {
	cat, fsys := loadCommuneCatalogue(t)
	now := time.Date(2025, 8, 20, 0, 0, 0, 0, time.UTC)
	target := strings.TrimPrefix(contract.ServeExporter(t, cat, fsys, exporter.Options{Now: func() time.Time { return now }}).URL, "http://")
	prom := startPrometheus(t, target, rulesFiring(t, cat))
	api := promAPI{t: t, base: prom.URL()}
	api.waitFor(c.KPIStatus, 2*time.Minute)
	api.waitFor(c.UnitInfo, 2*time.Minute)
	api.waitForRules(2 * time.Minute)

	data := buildBoards(t, cat)[UIDUnits]
	var b boardJSON
	if err := json.Unmarshal(data, &b); err != nil {
		t.Fatal(err)
	}
	qs, _ := queriesOf(t, data)
	table := map[string][]string{} // the commune KPIs tables' queries by ref
	for _, q := range qs {
		if strings.HasPrefix(q.panel, "variable ") {
			continue
		}
		if !api.showsData(q, b) {
			t.Errorf("%s: shows nothing for any value of the board's variables:\n%s", q, q.expr)
		}
		if strings.HasSuffix(q.panel, "KPIs of the commune") {
			table[q.ref] = append(table[q.ref], q.expr) // a table per kind
		}
	}
	if len(table["value"]) != 2 {
		t.Fatalf("the unit scorecard has %d tables of a commune's KPIs, want one per kind, 2", len(table["value"]))
	}
	byKPI := func(ref, commune string) map[string]float64 {
		out := map[string]float64{}
		for _, q := range table[ref] {
			expr, err := substitute(q, []string{c.LabelCommune}, map[string]string{c.LabelCommune: commune})
			if err != nil {
				t.Fatal(err)
			}
			for _, s := range api.instant(expr) {
				if _, dup := out[s.Metric[c.LabelKPI]]; dup {
					t.Errorf("%s: KPI %s in two tables", ref, s.Metric[c.LabelKPI])
				}
				out[s.Metric[c.LabelKPI]] = s.value()
			}
		}
		return out
	}
	// Tan Ninh has not reported online_share: no data, no value.
	noData := float64(slices.IndexFunc(statusStyles, func(s statusStyle) bool { return s.status == c.StatusNoData }) + 1)
	for _, tc := range []struct {
		commune       string
		value, status map[string]float64
	}{
		{"Phuoc Vinh", map[string]float64{"dossiers": 300, "online_share": 40}, nil},
		{"Tan Ninh", map[string]float64{"dossiers": 20}, map[string]float64{"online_share": noData}},
	} {
		if got := byKPI("value", tc.commune); !maps.Equal(got, tc.value) {
			t.Errorf("%s: values %v, want %v", tc.commune, got, tc.value)
		}
		status := byKPI("status", tc.commune)
		for k, v := range tc.status {
			if status[k] != v {
				t.Errorf("%s: status of %s %v, want %v", tc.commune, k, status[k], v)
			}
		}
		// Every KPI it reports or owes has a status, names, and the plan
		// and target its units follow (both the KPI-wide ones: the count of
		// scope each has no whole target).
		for _, ref := range []string{"names", "plan", "target"} {
			got := byKPI(ref, tc.commune)
			if len(got) != 2 || len(status) != 2 {
				t.Errorf("%s: %s for %v, status for %v; want both KPIs", tc.commune, ref, got, status)
			}
			if ref == "names" {
				continue
			}
			for k, v := range got {
				served := api.instant(sel(map[string]string{"plan": c.KPIPlan, "target": c.KPITarget}[ref], eq(c.LabelKPI, k)))
				if len(served) != 1 || served[0].value() != v {
					t.Errorf("%s: %s of %s %v, served %v", tc.commune, ref, k, v, served)
				}
			}
		}
	}
}

// With the default units (provinces listed, communes free text), a KPI
// broken down by commune gives the unit scorecard a province variable from
// kpi_unit_info and a commune variable from the unit endpoint's series of
// the province chosen; the province's KPIs are its own series, not its
// communes'.
func TestAFreeTextCommuneHasAVariable(t *testing.T) {
	cat := loadCatalogue(t)
	withCommunes := *cat
	k := cat.KPIs[slices.IndexFunc(cat.KPIs, func(k catalogue.KPI) bool { return k.HasDimension(catalogue.DimProvince) })]
	k.ID, k.Dimensions = "by_commune", []string{catalogue.DimProvince, catalogue.DimCommune}
	withCommunes.KPIs = append(slices.Clone(cat.KPIs), k)
	for _, tc := range []struct {
		cat  *catalogue.Catalogue
		want []string
	}{
		{cat, []string{c.LabelProvince + `: label_values(` + c.UnitInfo + `{level="province"}, unit)`}},
		{&withCommunes, []string{c.LabelProvince + `: label_values(` + c.UnitInfo + `{level="province"}, unit)`,
			c.LabelCommune + `: label_values(` + c.KPIValue + `{province="$province"}, commune)`}},
	} {
		data := buildBoards(t, tc.cat)[UIDUnits]
		var b lintBoard
		if err := json.Unmarshal(data, &b); err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, v := range b.Templating.List[1:] { // after the data source
			got = append(got, v.Name+": "+v.Query)
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("unit scorecard variables %q, want %q", got, tc.want)
		}
		qs, _ := queriesOf(t, data)
		i := slices.IndexFunc(qs, func(q query) bool {
			return q.ref == "value" && strings.HasPrefix(q.panel, "Chỉ tiêu") && strings.HasSuffix(q.panel, "KPIs of the province")
		})
		if i < 0 {
			t.Fatalf("no value of the province's KPIs on the unit scorecard")
		}
		if ownOnly := strings.Contains(qs[i].expr, `commune=""`); ownOnly != (len(tc.want) == 2) {
			t.Errorf("%s: %s", qs[i], qs[i].expr)
		}
	}
}
