package dashboards

import (
	"encoding/json"
	"fmt"
	"io/fs"
	"math"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/prometheus/promql/parser"
	"gopkg.in/yaml.v3"

	"github.com/kpiwatch/kpiwatch/alerts"
	"github.com/kpiwatch/kpiwatch/catalogue"
	c "github.com/kpiwatch/kpiwatch/conventions"
	"github.com/kpiwatch/kpiwatch/exporter"
	"github.com/kpiwatch/kpiwatch/internal/contract"
	"github.com/kpiwatch/kpiwatch/internal/promqlcheck"
	"github.com/kpiwatch/kpiwatch/internal/realserver"
	"github.com/kpiwatch/kpiwatch/project06"
)

// Every panel of every board, run against a real Prometheus that scrapes the
// real exporter serving the embedded sample data (its main endpoint and its
// unit endpoint) and evaluates the generated rules, shows data: a panel with
// a query that returns nothing fails, named. It needs the exporter to serve
// the kpi_rollup_* families and the unit endpoint (docs/one-model.md).
func TestEveryPanelShowsDataFromARealPrometheus(t *testing.T) {
	cat := loadCatalogue(t)
	checkBoards(t, cat, serveSampleData(t, cat, project06.FS))
}

// checkBoards runs every query of every board against a real Prometheus
// scraping target (its main and unit endpoints) and evaluating the
// generated rules, and checks what the boards show against what is served.
func checkBoards(t *testing.T, cat *catalogue.Catalogue, target string) {
	prom := startPrometheus(t, target, rulesFiring(t, cat))
	api := promAPI{t: t, base: prom.URL()}
	// Wait until the unit series are in, then for every rule group to have
	// evaluated on the data.
	api.waitFor(c.KPIStatus, 2*time.Minute)
	api.waitForRules(2 * time.Minute)

	for uid, data := range buildBoards(t, cat) {
		var b boardJSON
		if err := json.Unmarshal(data, &b); err != nil {
			t.Fatal(err)
		}
		qs, _ := queriesOf(t, data)
		for _, q := range qs {
			if strings.HasPrefix(q.panel, "variable ") {
				continue
			}
			if !api.showsData(q, b) {
				t.Errorf("%s: shows nothing for any value of the board's variables:\n%s", q, q.expr)
			}
		}
		switch uid {
		case UIDOverview:
			checkEveryKPIListed(t, api, b, cat)
		case UIDKPIDetail:
			checkTheUnitsOwnFigures(t, api, b)
			checkTheForecastIsTheAlerts(t, api, b, cat)
		}
	}
}

// detailFigures are the KPI detail board's figures that are the exporter's
// own roll-up numbers, by panel title, with the metric each must show and
// the factor the board shows it with.
var detailFigures = []struct {
	title, metric string
	factor        float64
}{
	{bi("Giá trị", "Value"), c.RollupValue, 1},
	{bi("Kế hoạch", "Plan"), c.RollupPlan, 1},
	{bi("Mục tiêu", "Target"), c.RollupTarget, 1},
	{bi("Hạn mốc", "Milestone deadline"), c.RollupTargetDeadline, 1000},
	{bi("Dự báo đến hạn", "Forecast at deadline"), c.RollupForecast, 1},
	{bi("Chậm so với kế hoạch", "Behind plan by"), c.RollupPlanGap, 1},
}

// detailQuery is the query of the KPI detail board's stat panel titled title.
func detailQuery(t *testing.T, b boardJSON, title string) string {
	t.Helper()
	for _, p := range b.Panels {
		if p.Title == title && len(p.Targets) == 1 {
			return p.Targets[0].Expr
		}
	}
	t.Fatalf("%s: no panel %q with one query", b.UID, title)
	return ""
}

// boardValue runs a KPI detail query for a KPI and a province (wholeChoice
// for the whole) and returns its one value.
func (p promAPI) boardValue(b boardJSON, expr, kpi, province string) (float64, bool) {
	p.t.Helper()
	var names []string
	for _, v := range b.Templating.List {
		names = append(names, v.Name)
	}
	expr, err := substitute(expr, names, map[string]string{c.LabelKPI: kpi, c.LabelProvince: province})
	if err != nil {
		p.t.Fatal(err)
	}
	got := p.instant(expr)
	if len(got) != 1 {
		return 0, false
	}
	return got[0].value(), true
}

// checkTheUnitsOwnFigures: with a KPI and a province chosen, the KPI detail
// board shows the province's roll-up: its value, plan, target, deadline,
// forecast and gap as the exporter serves them, and with all provinces the
// whole's, to the digit.
func checkTheUnitsOwnFigures(t *testing.T, api promAPI, b boardJSON) {
	for _, f := range detailFigures {
		expr := detailQuery(t, b, f.title)
		served := api.instant(f.metric)
		compared, own := 0, 0
		for _, s := range served {
			province, ok := detailProvince(s)
			if !ok {
				continue
			}
			if province != wholeChoice {
				own++
			}
			got, ok := api.boardValue(b, expr, s.Metric[c.LabelKPI], province)
			want := s.value() * f.factor
			if !ok || got != want {
				t.Errorf("%s: %q for %s in %s shows %v (shown: %v), want the served %s %v", b.UID, f.title,
					s.Metric[c.LabelKPI], province, got, ok, f.metric, want)
			}
			compared++
		}
		if compared == 0 || own == 0 {
			t.Errorf("%s: the exporter serves no %s of a province's own to compare %q with", b.UID, f.metric, f.title)
		}
	}
	checkDaysLeft(t, api, b)
}

// detailProvince is the KPI detail board's province choice that selects
// roll-up s: its province, or the whole (wholeChoice); false for a level the
// board does not show (a ministry, a block, a declared dimension).
func detailProvince(s promSeries) (string, bool) {
	switch s.Metric[c.LabelLevel] {
	case catalogue.DimProvince:
		return s.Metric[c.LabelProvince], true
	case c.LevelWhole:
		return wholeChoice, true
	}
	return "", false
}

// checkDaysLeft: days left count down to each deadline served, the unit's own
// where it has one, and stay at 0 once it has passed.
func checkDaysLeft(t *testing.T, api promAPI, b boardJSON) {
	expr := detailQuery(t, b, bi("Còn lại (ngày)", "Days left"))
	passed := 0
	for _, s := range api.instant(c.RollupTargetDeadline) {
		province, ok := detailProvince(s)
		if !ok {
			continue
		}
		got, ok := api.boardValue(b, expr, s.Metric[c.LabelKPI], province)
		want := math.Max(0, (s.value()-float64(time.Now().Unix()))/86400)
		if want == 0 {
			passed++
		}
		// The two queries run a moment apart.
		if !ok || math.Abs(got-want) > 0.01 || got < 0 {
			t.Errorf("%s: days left for %s in %s: %v (shown: %v), want %v", b.UID, s.Metric[c.LabelKPI], province, got, ok, want)
		}
	}
	if passed == 0 {
		t.Errorf("%s: the sample data has no passed deadline to show days left stop at 0", b.UID)
	}
}

// checkTheForecastIsTheAlerts: the forecast on the KPI detail board, for a
// KPI and a province, is the number the forecast-miss alert of that series
// shows (its value, $value in its description). The alert's value query (the
// value side of its expression) and the board's query run against the same
// Prometheus and agree exactly for every series the exporter forecasts, and
// so for every series the alert fires for.
func checkTheForecastIsTheAlerts(t *testing.T, api promAPI, b boardJSON, cat *catalogue.Catalogue) {
	groups, err := alerts.Rules(cat)
	if err != nil {
		t.Fatal(err)
	}
	board := detailQuery(t, b, bi("Dự báo đến hạn", "Forecast at deadline"))
	compared, firing := 0, 0
	for _, g := range groups {
		for _, r := range g.Rules {
			if r.Alert != alerts.AlertForecastMiss {
				continue
			}
			value, err := alertValueQuery(r.Expr)
			if err != nil {
				t.Errorf("%s: %v", r.Alert, err)
				continue
			}
			if names, _ := promqlcheck.MetricNames(value); !slices.Equal(names, []string{c.RollupForecast}) {
				t.Errorf("%s: its value is %s, not the exporter's %s", r.Alert, value, c.RollupForecast)
				continue
			}
			firing += len(api.instant(r.Expr))
			for _, s := range api.instant(value) {
				province, ok := detailProvince(s)
				if !ok {
					continue
				}
				shown, ok := api.boardValue(b, board, s.Metric[c.LabelKPI], province)
				if !ok || shown != s.value() {
					t.Errorf("forecast of %v: the alert's value is %v, the board shows %v (shown: %v)", s.Metric, s.value(), shown, ok)
				}
				compared++
			}
		}
	}
	if compared == 0 {
		t.Errorf("no series with a forecast alert to compare the board with")
	}
	t.Logf("the board's forecast equals the %s alert's value for %d series (the alert's expression selects %d now)",
		alerts.AlertForecastMiss, compared, firing)
}

// alertValueQuery is the value side of an alert expression "(value and
// condition) * on (kpi) group_left (...) info": the query whose result is
// the alert's $value.
func alertValueQuery(expr string) (string, error) {
	e, err := parser.NewParser(parser.Options{}).ParseExpr(expr)
	if err != nil {
		return "", err
	}
	if named, ok := e.(*parser.BinaryExpr); ok && named.Op == parser.MUL {
		if p, ok := named.LHS.(*parser.ParenExpr); ok {
			e = p.Expr
		}
	}
	be, ok := e.(*parser.BinaryExpr)
	if !ok || be.Op != parser.LAND {
		return "", fmt.Errorf("expression %q is not (<value> and <condition>) * <info>", expr)
	}
	return be.LHS.String(), nil
}

// checkEveryKPIListed: every KPI of the catalogue has its row in the
// overview's tables, found by its labels, not by a list of ids; and choosing
// a block lists exactly that block's KPIs.
func checkEveryKPIListed(t *testing.T, api promAPI, b boardJSON, cat *catalogue.Catalogue) {
	var names []string
	for _, v := range b.Templating.List {
		names = append(names, v.Name)
	}
	listed := func(block string) map[string]bool {
		out := map[string]bool{}
		qs, _ := queriesOf(t, mustJSON(t, b))
		for _, q := range qs {
			if q.ref != "names" {
				continue
			}
			expr, err := substitute(q.expr, names, map[string]string{c.LabelBlock: block})
			if err != nil {
				t.Fatal(err)
			}
			for _, s := range api.queryRange(expr) {
				out[s.Metric[c.LabelKPI]] = true
			}
		}
		return out
	}
	all := listed(".*") // every block, as the board opens
	for _, k := range cat.KPIs {
		if !all[k.ID] {
			t.Errorf("overview: KPI %s has no row in its kind's table", k.ID)
		}
	}
	for _, block := range blocksIn(cat) {
		got := listed(block.ID)
		for _, k := range cat.KPIs {
			if got[k.ID] != (k.Block == block.ID) {
				t.Errorf("overview with block %s: KPI %s of block %s listed: %v", block.ID, k.ID, k.Block, got[k.ID])
			}
		}
	}
}

func mustJSON(t *testing.T, v any) []byte {
	data, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// serveSampleData serves the exporter with the catalogue and its data,
// refreshed once, on a loopback test server.
func serveSampleData(t *testing.T, cat *catalogue.Catalogue, fsys fs.FS) string {
	t.Helper()
	return strings.TrimPrefix(contract.ServeExporter(t, cat, fsys, exporter.Options{}).URL, "http://")
}

// rulesFiring are the generated rules with every alert's `for` cut to zero
// and every group evaluated at Prometheus's own interval (a second), so that
// alerts fire within the test's seconds rather than hours.
func rulesFiring(t *testing.T, cat *catalogue.Catalogue) []alerts.RuleGroup {
	t.Helper()
	groups, err := alerts.Rules(cat)
	if err != nil {
		t.Fatal(err)
	}
	for i := range groups {
		groups[i].Interval = 0
		for j := range groups[i].Rules {
			groups[i].Rules[j].For = 0
		}
	}
	return groups
}

// startPrometheus runs Debian's Prometheus scraping target and evaluating
// the rule groups every second.
func startPrometheus(t *testing.T, target string, groups []alerts.RuleGroup) *realserver.Prometheus {
	t.Helper()
	rules, err := yaml.Marshal(alerts.RuleFile{Groups: groups})
	if err != nil {
		t.Fatal(err)
	}
	rulesPath := realserver.WriteFile(t, t.TempDir(), "rules.yml", rules)
	return realserver.StartPrometheus(t, realserver.PrometheusConfig{Targets: []string{target}, RuleFiles: []string{rulesPath}})
}

type promAPI struct {
	t    *testing.T
	base string
}

type promSeries struct {
	Metric map[string]string `json:"metric"`
	Value  [2]any            `json:"value"`
}

// value is an instant query's value.
func (s promSeries) value() float64 {
	v, _ := s.Value[1].(string)
	f, err := strconv.ParseFloat(v, 64)
	if err != nil {
		return math.NaN()
	}
	return f
}

// instant runs expr now.
func (p promAPI) instant(expr string) []promSeries {
	p.t.Helper()
	var data struct {
		Result []promSeries `json:"result"`
	}
	if err := p.get("/api/v1/query", url.Values{"query": {expr}}, &data); err != nil {
		p.t.Errorf("Prometheus refused %s: %v", expr, err)
	}
	return data.Result
}

func (p promAPI) get(path string, params url.Values, into any) error {
	resp, err := http.Get(p.base + path + "?" + params.Encode())
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	var body struct {
		Status string          `json:"status"`
		Error  string          `json:"error"`
		Data   json.RawMessage `json:"data"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		return err
	}
	if body.Status != "success" {
		return fmt.Errorf("%s", body.Error)
	}
	return json.Unmarshal(body.Data, into)
}

// queryRange runs expr over the last minute, as a board would over its range.
func (p promAPI) queryRange(expr string) []promSeries {
	p.t.Helper()
	now := time.Now()
	var data struct {
		Result []promSeries `json:"result"`
	}
	err := p.get("/api/v1/query_range", url.Values{
		"query": {expr}, "start": {fmt.Sprint(now.Add(-time.Minute).Unix())}, "end": {fmt.Sprint(now.Unix())}, "step": {"5"},
	}, &data)
	if err != nil {
		p.t.Errorf("Prometheus refused %s: %v", expr, err)
	}
	return data.Result
}

// waitFor waits until expr returns a series: a generous deadline that only
// a server that never scrapes reaches.
func (p promAPI) waitFor(expr string, timeout time.Duration) {
	p.t.Helper()
	if !realserver.Eventually(timeout, func() bool {
		var data struct {
			Result []promSeries `json:"result"`
		}
		return p.get("/api/v1/query", url.Values{"query": {expr}}, &data) == nil && len(data.Result) > 0
	}) {
		p.t.Fatalf("no %s after %s", expr, timeout)
	}
}

// waitForRules waits until Prometheus has evaluated every rule group on the
// exporter's data: once the data is seen queryable, each group must have
// begun (and finished) an evaluation more than its interval later, so the
// time it evaluated at, at most an interval before it began, is after the
// data came. The rules read only the exporter's series, so that evaluation
// settles them, whenever the load lets it come.
func (p promAPI) waitForRules(timeout time.Duration) {
	p.t.Helper()
	var seen time.Time
	if !realserver.Eventually(timeout, func() bool {
		var data struct {
			Result []promSeries `json:"result"`
		}
		err := p.get("/api/v1/query", url.Values{"query": {c.KPIInfo}}, &data)
		seen = time.Now()
		return err == nil && len(data.Result) > 0
	}) {
		p.t.Fatalf("Prometheus holds no %s after %s", c.KPIInfo, timeout)
	}
	var late []string
	if !realserver.Eventually(timeout, func() bool {
		var data struct {
			Groups []struct {
				Name           string
				Interval       float64
				LastEvaluation time.Time
			}
		}
		if err := p.get("/api/v1/rules", nil, &data); err != nil {
			p.t.Fatalf("Prometheus' rules: %v", err)
		}
		late = late[:0]
		for _, g := range data.Groups {
			if !g.LastEvaluation.After(seen.Add(time.Duration(g.Interval * float64(time.Second)))) {
				late = append(late, g.Name)
			}
		}
		return len(data.Groups) > 0 && len(late) == 0
	}) {
		p.t.Fatalf("rule groups not evaluated on the data %s after it came: %v", timeout, late)
	}
}

// labelValues are a variable's choices as Grafana lists them, "All" (its
// value all) first where the variable has it; a variable without "All"
// must have some.
func (p promAPI) labelValues(selector, label, all string) []string {
	p.t.Helper()
	var values []string
	if err := p.get("/api/v1/label/"+label+"/values", url.Values{"match[]": {selector}}, &values); err != nil {
		p.t.Errorf("label values of %s for %s: %v", label, selector, err)
	}
	if len(values) == 0 && all == "" { // "All" stays a choice
		p.t.Errorf("variable %s (label_values(%s, %s)) has no choices", label, selector, label)
	}
	if all != "" {
		values = append([]string{all}, values...)
	}
	return values
}

// showsData tries the board's variables' choices in Grafana's order, each
// variable's choices depending on those before it, and reports whether any
// choice makes the query return series.
func (p promAPI) showsData(q query, b boardJSON) bool {
	var names []string
	for _, v := range b.Templating.List {
		names = append(names, v.Name)
	}
	vars := b.queryVariables()
	var try func(i int, values map[string]string) bool
	try = func(i int, values map[string]string) bool {
		if i == len(vars) {
			expr, err := substitute(q.expr, names, values)
			if err != nil {
				p.t.Fatal(err)
			}
			return len(p.queryRange(expr)) > 0
		}
		v := vars[i]
		m := labelValues.FindStringSubmatch(v.Query)
		selector, err := substitute(m[1], names, values)
		if err != nil {
			p.t.Fatal(err)
		}
		all := ""
		if v.IncludeAll {
			all = v.AllValue
		}
		for _, choice := range p.labelValues(selector, m[2], all) {
			values[v.Name] = choice
			if try(i+1, values) {
				return true
			}
		}
		return false
	}
	return try(0, map[string]string{})
}
