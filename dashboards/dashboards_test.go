package dashboards

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/kpiwatch/kpiwatch/internal/genfile"

	"github.com/grafana/grafana-foundation-sdk/go/cog"
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

func TestBuildsTheSixBoardsWithStableUIDs(t *testing.T) {
	boards := buildBoards(t, loadCatalogue(t))
	for _, uid := range []string{UIDOverview, UIDKPIDetail, UIDProvince, UIDUnits, UIDTasks, UIDCollectors} {
		if _, ok := boards[uid]; !ok {
			t.Errorf("no board %s", uid)
		}
	}
	if len(boards) != 6 {
		t.Errorf("%d boards, want 6", len(boards))
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
	strict, err := decodeSDK(data)
	if err != nil {
		return err
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

// decodeSDK decodes a board with the SDK's strict decoder (panels' options,
// custom field config and queries through the registered plugins), which
// reports every field it does not know or cannot decode, and validates it.
//
// The board validated is the one the SDK's ordinary decoder returns: since
// v0.0.22 each strict decoder returns an empty, non-nil error list on
// success, and the decoders of panels, options and queries drop a value whose
// decoder returned it (a strictly decoded board has no panels). The strict
// pass is kept for its errors.
func decodeSDK(data []byte) (dashboard.Dashboard, error) {
	var strict dashboard.Dashboard
	if err := sdkError(strict.UnmarshalJSONStrict(data)); err != nil {
		return strict, fmt.Errorf("strict decoding: %w", err)
	}
	var d dashboard.Dashboard
	if err := json.Unmarshal(data, &d); err != nil {
		return d, fmt.Errorf("decoding: %w", err)
	}
	if err := sdkError(d.Validate()); err != nil {
		return d, fmt.Errorf("validating: %w", err)
	}
	return d, nil
}

// sdkError is err, or nil for the empty error list the SDK's strict decoder
// returns on success (since v0.0.22 it returns its list, empty or not).
func sdkError(err error) error {
	var list cog.BuildErrors
	if errors.As(err, &list) && len(list) == 0 {
		return nil
	}
	return err
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

// The SDK's own strict decoding still fails on real errors, now that it
// returns an empty list on success: a broken board is caught where only the
// SDK's types can see it (inside a panel's options, which plain JSON decoding
// takes as anything), and where Validate must.
func TestSDKStrictDecodingCatchesABrokenBoard(t *testing.T) {
	plugins.RegisterDefaultPlugins()
	data := buildBoards(t, loadCatalogue(t))[UIDKPIDetail]
	if _, err := decodeSDK(data); err != nil {
		t.Fatalf("the board to break fails already: %v", err)
	}
	for _, spoil := range []struct{ what, from, to string }{
		{"unknown stat option", `"options": {`, `"options": {"colourMode": "value", `},
		{"option of the wrong type", `"graphMode": "none"`, `"graphMode": 3`},
		{"unknown custom field config", `"lineWidth": 2`, `"lineWidth": 2, "lineWidht": 2`},
		{"unknown panel field", `"gridPos": {`, `"gridPosition": {"x": 0}, "gridPos": {`},
	} {
		bad := bytes.Replace(data, []byte(spoil.from), []byte(spoil.to), 1)
		if bytes.Equal(bad, data) {
			t.Fatalf("%s: %s not in the board", spoil.what, spoil.from)
		}
		if _, err := decodeSDK(bad); err == nil {
			t.Errorf("%s passed the SDK's strict decoding", spoil.what)
		}
	}
	if err := sdkError(cog.BuildErrors{{Path: "panels[0]", Message: "broken"}}); err == nil {
		t.Error("a non-empty error list counts as success")
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
		List []variableJSON `json:"list"`
	} `json:"templating"`
}

type variableJSON struct {
	Name       string `json:"name"`
	Type       string `json:"type"`
	Query      string `json:"query"`
	IncludeAll bool   `json:"includeAll"`
	AllValue   string `json:"allValue"`
}

// queryVariables are the board's variables whose values come from a query.
func (b boardJSON) queryVariables() []variableJSON {
	var out []variableJSON
	for _, v := range b.Templating.List {
		if v.Type == "query" {
			out = append(out, v)
		}
	}
	return out
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
		if v.Type != "query" {
			continue
		}
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
// its roll-ups included (the rules record nothing), and Prometheus's ALERTS.
func knownMetrics() map[string]bool {
	known := map[string]bool{alertsMetric: true}
	for name := range conventions.Help {
		known[name] = true
	}
	for _, name := range []string{conventions.RollupValue, conventions.RollupNumerator, conventions.RollupDenominator,
		conventions.RollupStatus, conventions.RollupUnits, conventions.RollupTarget, conventions.RollupPlan,
		conventions.RollupTargetDeadline, conventions.RollupAttainment, conventions.RollupReportPeriod,
		conventions.RollupPlanGap, conventions.RollupForecast} {
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
		return fmt.Errorf("reads %v, which the exporter does not serve", unknown)
	}
	names, _ := promqlcheck.MetricNames(expr)
	for _, n := range names {
		if strings.HasPrefix(n, perSeriesLevel) {
			return fmt.Errorf("reads %s: a board shows the exporter's judgement of a series, never one recomputed by the rules", n)
		}
	}
	return nil
}

// perSeriesLevel is the level of recorded series that copy or judge each
// observed series; boards read roll-ups only.
const perSeriesLevel = "kpi_series:"

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
		{"misspelt metric", conventions.RollupStatus, "kpi_rollup_statsu"},
		{"broken syntax", "count(", "count(("},
		{"undefined variable", "kpi_rollup_status{", "kpi_rollup_status{kpi=\"$kpii\", "},
		{"per-series recorded series", "kpi_rollup_status", perSeriesLevel + "kpi_value:forecast"},
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

// Boards, rows and panels exist only for what the catalogue has: no roadmap
// board or task panels without a source of roadmap tasks, no province board,
// variable, row or panel without a KPI reported per province, no row for a
// block or a table for a kind no KPI has.
func TestBoardsShowOnlyWhatTheCatalogueHas(t *testing.T) {
	cat := loadCatalogue(t)
	national := *cat
	national.Sources = slices.DeleteFunc(slices.Clone(cat.Sources), func(s catalogue.Source) bool { return s.Collector == tasksCollector })
	national.KPIs = nil
	for _, k := range cat.KPIs {
		if len(k.Dimensions) == 0 && k.Kind != catalogue.KindLevel && k.Block == catalogue.BlockGovernment {
			national.KPIs = append(national.KPIs, k)
		}
	}
	if len(national.KPIs) == 0 || len(national.Sources) == len(cat.Sources) {
		t.Fatal("the sample catalogue has no national KPI or no task source to build a smaller catalogue from")
	}
	full, small := buildBoards(t, cat), buildBoards(t, &national)
	for _, uid := range []string{UIDTasks, UIDProvince} {
		if _, ok := full[uid]; !ok {
			t.Errorf("the sample catalogue has no %s board", uid)
		}
		if _, ok := small[uid]; ok {
			t.Errorf("%s is built for a catalogue without task sources or province KPIs", uid)
		}
	}
	for uid, data := range small {
		b := lintBoardOf(t, data)
		for _, r := range lintRules {
			for _, problem := range r.check(b) {
				t.Errorf("%s: %s: %s", uid, r.name, problem)
			}
		}
		text := string(data)
		for _, absent := range []string{conventions.Tasks, conventions.TaskDue, "$" + conventions.LabelProvince,
			conventions.LabelProvince + "!=", conventions.ProvinceInfo, kindTitles[catalogue.KindLevel][1]} {
			if strings.Contains(text, absent) {
				t.Errorf("%s shows %s, which the catalogue does not have", uid, absent)
			}
		}
		if slices.ContainsFunc(b.Templating.List, func(v lintVariable) bool { return v.Name == conventions.LabelProvince }) {
			t.Errorf("%s has a province variable", uid)
		}
		for _, id := range cat.BlockIDs() {
			if block, _ := cat.Block(id); block.ID != catalogue.BlockGovernment && strings.Contains(text, `"`+bi(block.NameVI, block.NameEN)+`"`) {
				t.Errorf("%s has a row for the %s block, which has no KPI", uid, block.ID)
			}
		}
	}
	if government, _ := cat.Block(catalogue.BlockGovernment); !strings.Contains(string(small[UIDOverview]), `"`+bi(government.NameVI, government.NameEN)+`"`) {
		t.Error("overview: no row for the government block")
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

// Each KPI's panel on the overview shows its value in its unit (a ratio as a
// percent) in a neutral colour, beside the exporter's status, which alone is
// coloured, through the status mappings: a KPI's value is never coloured by
// thresholds, so an on-track KPI cannot show amber.
func TestColoursComeFromTheExportersStatus(t *testing.T) {
	cat := loadCatalogue(t)
	type mapping struct {
		Type    string `json:"type"`
		Options map[string]struct {
			Text  string `json:"text"`
			Color string `json:"color"`
		} `json:"options"`
	}
	type panel struct {
		Title       string `json:"title"`
		FieldConfig struct {
			Defaults struct {
				Unit  string `json:"unit"`
				Color struct {
					Mode       string `json:"mode"`
					FixedColor string `json:"fixedColor"`
				} `json:"color"`
			} `json:"defaults"`
			Overrides []struct {
				Matcher struct {
					ID      string `json:"id"`
					Options string `json:"options"`
				} `json:"matcher"`
				Properties []struct {
					ID    string          `json:"id"`
					Value json.RawMessage `json:"value"`
				} `json:"properties"`
			} `json:"overrides"`
		} `json:"fieldConfig"`
		Targets []struct {
			RefID string `json:"refId"`
			Expr  string `json:"expr"`
		} `json:"targets"`
	}
	var board struct {
		Panels []panel `json:"panels"`
	}
	if err := json.Unmarshal(buildBoards(t, cat)[UIDOverview], &board); err != nil {
		t.Fatal(err)
	}
	wantColour := map[string]string{
		conventions.StatusMissed: "red", conventions.StatusAtRisk: "orange",
		conventions.StatusOnTrack: "green", conventions.StatusAchieved: "dark-green",
	}
	for _, k := range cat.KPIs {
		i := slices.IndexFunc(board.Panels, func(p panel) bool { return p.Title == bi(k.NameVI, k.Name) })
		if i < 0 {
			t.Errorf("no overview panel for %s", k.ID)
			continue
		}
		p := board.Panels[i]
		d := p.FieldConfig.Defaults
		if (k.Kind == catalogue.KindRatio) != (d.Unit == "percentunit") {
			t.Errorf("%s (%s) shows in %q", k.ID, k.Kind, d.Unit)
		}
		if d.Color.Mode != "fixed" {
			t.Errorf("%s: the value is coloured by %q, not in one neutral colour", k.ID, d.Color.Mode)
		}
		status := slices.IndexFunc(p.Targets, func(tg struct {
			RefID string `json:"refId"`
			Expr  string `json:"expr"`
		}) bool {
			return tg.RefID == "status"
		})
		if status < 0 || !strings.Contains(p.Targets[status].Expr, conventions.RollupStatus) {
			t.Errorf("%s: no status query on the exporter's %s", k.ID, conventions.RollupStatus)
			continue
		}
		var maps []mapping
		for _, o := range p.FieldConfig.Overrides {
			for _, prop := range o.Properties {
				if o.Matcher.ID == "byFrameRefID" && o.Matcher.Options == "status" && prop.ID == "mappings" {
					if err := json.Unmarshal(prop.Value, &maps); err != nil {
						t.Fatal(err)
					}
				}
			}
		}
		if len(maps) != 1 {
			t.Errorf("%s: the status has %d value mappings, want 1", k.ID, len(maps))
			continue
		}
		for status, colour := range wantColour {
			// The status query returns the rank of the worst status.
			rank := strconv.Itoa(slices.IndexFunc(statusStyles, func(s statusStyle) bool { return s.status == status }) + 1)
			if got := maps[0].Options[rank].Color; got != colour {
				t.Errorf("%s: status %s (rank %s) shows %q, want %q", k.ID, status, rank, got, colour)
			}
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

// Since v0.0.22 the SDK's time-series builder hides the legend unless told:
// every time series shows which line is which.
func TestTimeSeriesShowTheirLegends(t *testing.T) {
	n := 0
	for uid, data := range buildBoards(t, loadCatalogue(t)) {
		var b struct {
			Panels []struct {
				Type    string `json:"type"`
				Title   string `json:"title"`
				Options struct {
					Legend struct {
						ShowLegend bool `json:"showLegend"`
					} `json:"legend"`
				} `json:"options"`
			} `json:"panels"`
		}
		if err := json.Unmarshal(data, &b); err != nil {
			t.Fatal(err)
		}
		for _, p := range b.Panels {
			if p.Type != "timeseries" {
				continue
			}
			n++
			if !p.Options.Legend.ShowLegend {
				t.Errorf("%s: %q hides its legend", uid, p.Title)
			}
		}
	}
	if n == 0 {
		t.Error("no time series on any board")
	}
}

// TestDeclaredDimensionsHaveABreakdown: a catalogue that declares a dimension
// gets a panel per dimension on the KPI detail board, reading the roll-up the
// exporter serves at that level and passing the linter rules; the sample, which
// declares none, gets no such row.
func TestDeclaredDimensionsHaveABreakdown(t *testing.T) {
	cat := loadCatalogue(t)
	declared := *cat
	declared.Dimensions = []catalogue.DeclaredDimension{{Name: "channel", NameEN: "Channel", NameVI: "Kênh", Values: []string{"Trực tuyến", "Trực tiếp"}}}
	if strings.Contains(string(buildBoards(t, cat)[conventions.DashboardKPIDetail]), "Breakdowns") {
		t.Error("the sample declares no dimension, yet its KPI detail board has a breakdowns row")
	}
	data := buildBoards(t, &declared)[conventions.DashboardKPIDetail]
	want := conventions.RollupValue + `{kpi=\"$kpi\", level=\"channel\"}`
	if !strings.Contains(string(data), want) || !strings.Contains(string(data), "Kênh / Channel") {
		t.Errorf("no breakdown by channel reading %s on the KPI detail board", want)
	}
	b := lintBoardOf(t, data)
	for _, r := range lintRules {
		for _, problem := range r.check(b) {
			t.Errorf("%s: %s", r.name, problem)
		}
	}
}
