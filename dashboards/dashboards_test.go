package dashboards

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/kpiwatch/kpiwatch/internal/genfile"

	"github.com/grafana/grafana-foundation-sdk/go/cog/plugins"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"

	"github.com/kpiwatch/kpiwatch/catalogue"
	"github.com/kpiwatch/kpiwatch/conventions"
	"github.com/kpiwatch/kpiwatch/internal/promqlcheck"
	"github.com/kpiwatch/kpiwatch/project06"
)

// generatedDir holds the committed output of WriteFiles for the embedded
// catalogue.
const generatedDir = "generated"

var update = flag.Bool("update", false, "rewrite "+generatedDir+" from the embedded catalogue")

func loadCatalogue(t testing.TB) *catalogue.Catalogue {
	t.Helper()
	cat, err := project06.Load()
	if err != nil {
		t.Fatal(err)
	}
	return cat
}

func buildBoards(t testing.TB, cat *catalogue.Catalogue) map[string][]byte {
	t.Helper()
	boards, err := Build(cat)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]byte{}
	for _, b := range boards {
		data, err := b.JSON()
		if err != nil {
			t.Fatal(err)
		}
		out[b.UID] = data
	}
	return out
}

func TestBuildsTheFiveBoardsWithStableUIDs(t *testing.T) {
	boards := buildBoards(t, loadCatalogue(t))
	for _, uid := range []string{UIDOverview, UIDKPIDetail, UIDProvince, UIDTasks, UIDCollectors} {
		if _, ok := boards[uid]; !ok {
			t.Errorf("no board %s", uid)
		}
	}
	if len(boards) != 5 {
		t.Errorf("%d boards, want 5", len(boards))
	}
	if UIDKPIDetail != conventions.DashboardKPIDetail {
		t.Errorf("alerts link to %s but the KPI detail board is %s", conventions.DashboardKPIDetail, UIDKPIDetail)
	}
}

// Every board decodes strictly into the SDK's own Dashboard type, passes its
// Validate, and encodes back to the same JSON: nothing in it is unknown to the
// SDK, not even inside panels, whose options the SDK decodes loosely.
func TestBoardsDecodeStrictlyIntoTheSDKTypesAndValidate(t *testing.T) {
	plugins.RegisterDefaultPlugins()
	for uid, data := range buildBoards(t, loadCatalogue(t)) {
		if err := checkStrict(data); err != nil {
			t.Errorf("%s: %v", uid, err)
		}
	}
}

func checkStrict(data []byte) error {
	var loose dashboard.Dashboard
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&loose); err != nil {
		return fmt.Errorf("decoding with unknown fields disallowed: %w", err)
	}
	var strict dashboard.Dashboard
	if err := strict.UnmarshalJSONStrict(data); err != nil {
		return fmt.Errorf("strict decoding: %w", err)
	}
	if err := strict.Validate(); err != nil {
		return fmt.Errorf("validating: %w", err)
	}
	again, err := Board{Dashboard: strict}.JSON()
	if err != nil {
		return err
	}
	if !bytes.Equal(canonical(data), canonical(again)) {
		return fmt.Errorf("does not survive decoding: some field is unknown to the SDK's types")
	}
	return nil
}

// canonical is data with keys sorted and empty lists and nulls left out, which
// the SDK's decoder does not tell apart.
func canonical(data []byte) []byte {
	var v any
	if err := json.Unmarshal(data, &v); err != nil {
		panic(err)
	}
	out, _ := json.Marshal(prune(v))
	return out
}

func prune(v any) any {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			if e = prune(e); e == nil {
				delete(x, k)
			} else {
				x[k] = e
			}
		}
	case []any:
		if len(x) == 0 {
			return nil
		}
		for i := range x {
			x[i] = prune(x[i])
		}
	}
	return v
}

func TestStrictCheckRejectsAFieldTheSDKDoesNotKnow(t *testing.T) {
	plugins.RegisterDefaultPlugins()
	data := buildBoards(t, loadCatalogue(t))[UIDOverview]
	bad := bytes.Replace(data, []byte(`"gridPos": {`), []byte(`"gridPosition": {"x": 0}, "gridPos": {`), 1)
	if err := checkStrict(bad); err == nil {
		t.Error("a panel with an unknown field passed")
	}
}

// query is one PromQL expression on a board: a panel's target or a
// variable's label_values selector.
type query struct {
	board, panel, ref, expr string
}

func (q query) String() string { return fmt.Sprintf("%s / %q / %s", q.board, q.panel, q.ref) }

type boardJSON struct {
	UID        string      `json:"uid"`
	Panels     []panelJSON `json:"panels"`
	Templating struct {
		List []struct {
			Name       string `json:"name"`
			Query      string `json:"query"`
			IncludeAll bool   `json:"includeAll"`
		} `json:"list"`
	} `json:"templating"`
}

type panelJSON struct {
	Title   string      `json:"title"`
	Type    string      `json:"type"`
	Panels  []panelJSON `json:"panels"`
	Targets []struct {
		RefID string `json:"refId"`
		Expr  string `json:"expr"`
	} `json:"targets"`
}

var labelValues = regexp.MustCompile(`^label_values\((.*), *([a-z_]+)\)$`)

// queriesOf lists every query of a board, and the names of its variables.
func queriesOf(t testing.TB, data []byte) ([]query, []string) {
	t.Helper()
	var b boardJSON
	if err := json.Unmarshal(data, &b); err != nil {
		t.Fatal(err)
	}
	var qs []query
	var walk func([]panelJSON)
	walk = func(ps []panelJSON) {
		for _, p := range ps {
			for _, tg := range p.Targets {
				qs = append(qs, query{b.UID, p.Title, tg.RefID, tg.Expr})
			}
			walk(p.Panels)
		}
	}
	walk(b.Panels)
	var vars []string
	for _, v := range b.Templating.List {
		vars = append(vars, v.Name)
		m := labelValues.FindStringSubmatch(v.Query)
		if m == nil {
			t.Fatalf("%s: variable %s: query %q is not label_values(selector, label)", b.UID, v.Name, v.Query)
		}
		qs = append(qs, query{b.UID, "variable " + v.Name, "query", m[1]})
	}
	return qs, vars
}

var variableRef = regexp.MustCompile(`\$(__)?[a-z_]+`)

// Grafana's own variables, with values of the kind Grafana puts in.
// The end-to-end test's data spans about a minute, scraped every second.
var grafanaVars = map[string]string{"$__range": "1m", "$__interval": "2s", "$__rate_interval": "20s"}

// substitute replaces variables with values; a variable the board does not
// define is an error.
func substitute(expr string, vars []string, values map[string]string) (string, error) {
	var bad []string
	out := variableRef.ReplaceAllStringFunc(expr, func(v string) string {
		if g, ok := grafanaVars[v]; ok {
			return g
		}
		for _, name := range vars {
			if v == "$"+name {
				return values[name]
			}
		}
		bad = append(bad, v)
		return v
	})
	if bad != nil {
		return "", fmt.Errorf("variables %v are not defined on the board", bad)
	}
	return out, nil
}

// knownMetrics are the names a query may read: what the exporter serves,
// what the generated recording rules record (the end-to-end test runs the
// boards against the rules themselves), and Prometheus's ALERTS.
func knownMetrics() map[string]bool {
	known := map[string]bool{alertsMetric: true}
	for name := range conventions.Help {
		known[name] = true
	}
	for _, name := range conventions.Recorded {
		known[name] = true
	}
	return known
}

// checkQuery parses a query (variables substituted) and fails on any metric
// name nothing serves or records.
func checkQuery(q query, vars []string, known map[string]bool) error {
	expr, err := substitute(q.expr, vars, map[string]string{
		"kpi": "vneid_level2_accounts", "province": "Ha Noi", "block": "government", "owner": "mps", "source": "mps_vneid_weekly"})
	if err != nil {
		return err
	}
	unknown, err := promqlcheck.Unknown(expr, known)
	if err != nil {
		return err
	}
	if len(unknown) > 0 {
		return fmt.Errorf("reads %v, which neither the exporter serves nor the rules record", unknown)
	}
	return nil
}

func TestEveryQueryParsesAndReadsOnlyServedOrRecordedMetrics(t *testing.T) {
	cat := loadCatalogue(t)
	known := knownMetrics()
	n := 0
	for _, data := range buildBoards(t, cat) {
		qs, vars := queriesOf(t, data)
		for _, q := range qs {
			n++
			if err := checkQuery(q, vars, known); err != nil {
				t.Errorf("%s: %v\n%s", q, err, q.expr)
			}
		}
	}
	if n < 50 {
		t.Errorf("only %d queries found: the walk over the boards misses some", n)
	}
}

func TestQueryCheckFailsOnATypo(t *testing.T) {
	cat := loadCatalogue(t)
	known := knownMetrics()
	qs, vars := queriesOf(t, buildBoards(t, cat)[UIDOverview])
	good := qs[0]
	if err := checkQuery(good, vars, known); err != nil {
		t.Fatalf("the query to spoil fails already: %v", err)
	}
	for _, spoil := range []struct{ what, from, to string }{
		{"misspelt metric", conventions.KPIStatus, "kpi_statsu"},
		{"broken syntax", "sum(", "sum(("},
		{"undefined variable", "kpi_status", "kpi_status{kpi=\"$kpii\"}"},
	} {
		bad := good
		bad.expr = strings.Replace(good.expr, spoil.from, spoil.to, 1)
		if bad.expr == good.expr {
			t.Fatalf("%s: %q not in %q", spoil.what, spoil.from, good.expr)
		}
		if err := checkQuery(bad, vars, known); err == nil {
			t.Errorf("%s passed: %s", spoil.what, bad.expr)
		}
	}
}

// A KPI added to the catalogue shows on every board with no edit to the
// generator: boards with a panel or override per KPI gain the new KPI's, and
// the other boards select KPIs by labels, never by a list of ids.
func TestAKPIAddedToTheCatalogueAppearsOnEveryBoard(t *testing.T) {
	cat := loadCatalogue(t)
	before := buildBoards(t, cat)
	added := cat.KPIs[0]
	added.ID, added.Name, added.NameVI = "added_kpi", "An added KPI", "Chỉ tiêu thêm mới"
	more := *cat
	more.KPIs = append(append([]catalogue.KPI(nil), cat.KPIs...), added)
	after := buildBoards(t, &more)
	for uid, data := range after {
		qs, _ := queriesOf(t, data)
		perKPI := bytes.Contains(data, []byte(added.ID))
		for _, k := range cat.KPIs {
			for _, q := range qs {
				if strings.Contains(q.expr, `"`+k.ID+`"`) && !perKPI {
					t.Errorf("%s: %s names KPI %s but the added KPI appears nowhere: the board lists KPIs by id", uid, q, k.ID)
				}
			}
		}
		if perKPI && bytes.Contains(before[uid], []byte(added.ID)) {
			t.Fatalf("%s mentions %s before it is added", uid, added.ID)
		}
	}
	for _, uid := range []string{UIDOverview, UIDKPIDetail} {
		if !bytes.Contains(after[uid], []byte(added.ID)) {
			t.Errorf("%s: no panel or override for the added KPI", uid)
		}
	}
	if !bytes.Contains(after[UIDOverview], []byte(bi(added.NameVI, added.Name))) {
		t.Errorf("overview: the added KPI's panel is not titled with its names")
	}
}

// The committed files are exactly what the generator writes today.
func TestCommittedFilesAreWhatTheGeneratorWrites(t *testing.T) {
	cat := loadCatalogue(t)
	if *update {
		if err := os.RemoveAll(generatedDir); err != nil {
			t.Fatal(err)
		}
		if err := writeFiles(t, cat, generatedDir); err != nil {
			t.Fatal(err)
		}
	}
	dir := t.TempDir()
	if err := writeFiles(t, cat, dir); err != nil {
		t.Fatal(err)
	}
	want, got := readTree(t, dir), readTree(t, generatedDir)
	for name, data := range want {
		if g, ok := got[name]; !ok {
			t.Errorf("%s/%s is missing: run `kpiwatch generate`", generatedDir, name)
		} else if !bytes.Equal(g, data) {
			t.Errorf("%s/%s differs from what the generator writes: run `kpiwatch generate`", generatedDir, name)
		}
	}
	for name := range got {
		if _, ok := want[name]; !ok {
			t.Errorf("%s/%s is not generated any more: delete it", generatedDir, name)
		}
	}
}

func readTree(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	files := map[string][]byte{}
	err := filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(dir, path)
		files[rel], err = os.ReadFile(path)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

// Each KPI's panel on the overview shows in its unit (a ratio as a percent)
// and colours by its direction (a lower-is-better KPI green at the bottom).
func TestUnitsAndColoursFollowTheCatalogue(t *testing.T) {
	cat := loadCatalogue(t)
	type panel struct {
		Title       string `json:"title"`
		FieldConfig struct {
			Defaults struct {
				Unit       string `json:"unit"`
				Thresholds struct {
					Steps []struct {
						Value *float64 `json:"value"`
						Color string   `json:"color"`
					} `json:"steps"`
				} `json:"thresholds"`
			} `json:"defaults"`
		} `json:"fieldConfig"`
	}
	var board struct {
		Panels []panel `json:"panels"`
	}
	if err := json.Unmarshal(buildBoards(t, cat)[UIDOverview], &board); err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, k := range cat.KPIs {
		i := slices.IndexFunc(board.Panels, func(p panel) bool { return p.Title == bi(k.NameVI, k.Name) })
		if i < 0 {
			t.Errorf("no overview panel for %s", k.ID)
			continue
		}
		d := board.Panels[i].FieldConfig.Defaults
		if (k.Kind == catalogue.KindRatio) != (d.Unit == "percentunit") {
			t.Errorf("%s (%s) shows in %q", k.ID, k.Kind, d.Unit)
		}
		steps := d.Thresholds.Steps
		low, high := "red", "green"
		if k.Direction == catalogue.LowerIsBetter {
			low, high = high, low
		}
		if len(steps) != 3 || steps[0].Color != low || steps[2].Color != high || *steps[1].Value > *steps[2].Value {
			t.Errorf("%s (%s): thresholds %+v, want %s rising to %s", k.ID, k.Direction, steps, low, high)
		}
		seen[string(k.Kind)], seen[string(k.Direction)] = true, true
	}
	for _, want := range []string{string(catalogue.KindRatio), string(catalogue.KindCount), string(catalogue.LowerIsBetter), string(catalogue.HigherIsBetter)} {
		if !seen[want] {
			t.Errorf("the catalogue has no %s KPI to check", want)
		}
	}
}

func writeFiles(t *testing.T, cat *catalogue.Catalogue, dir string) error {
	t.Helper()
	files, err := Files(cat)
	if err != nil {
		return err
	}
	return genfile.Write(dir, files)
}
