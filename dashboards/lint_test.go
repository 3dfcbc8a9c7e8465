package dashboards

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/prometheus/promql/parser"
)

// The rules of Grafana's dashboard-linter (github.com/grafana/dashboard-linter,
// which cannot be built here: it imports AGPL Grafana modules) that apply to
// kpiwatch's boards, each under the linter's name, checked on every board.
//
// Not applicable, and why:
//   - template-job-rule, template-instance-rule, target-job-rule,
//     target-instance-rule: they ask for job and instance variables and
//     matchers, for boards of one exporter among many. kpiwatch's series are
//     identified by kpi and unit; job and instance are whatever a deployment's
//     scrape or push gives, and a board filtering on them would hide a
//     province pushing under its own instance label.
//   - target-logql-rule, target-logql-auto-rule: no Loki queries.

// lintBoard is what the rules read of a board.
type lintBoard struct {
	Title      string `json:"title"`
	Editable   bool   `json:"editable"`
	Templating struct {
		List []lintVariable `json:"list"`
	} `json:"templating"`
	Panels []lintPanel `json:"panels"`
}

type lintVariable struct {
	Name       string   `json:"name"`
	Label      string   `json:"label"`
	Type       string   `json:"type"`
	Query      string   `json:"query"`
	Refresh    int      `json:"refresh"`
	Datasource *lintRef `json:"datasource"`
}

type lintRef struct {
	Type string `json:"type"`
	UID  string `json:"uid"`
}

type lintPanel struct {
	Type        string   `json:"type"`
	Title       string   `json:"title"`
	Description string   `json:"description"`
	Datasource  *lintRef `json:"datasource"`
	FieldConfig struct {
		Defaults struct {
			Unit string `json:"unit"`
		} `json:"defaults"`
		Overrides []struct {
			Properties []struct {
				ID    string `json:"id"`
				Value any    `json:"value"`
			} `json:"properties"`
		} `json:"overrides"`
	} `json:"fieldConfig"`
	Targets []struct {
		RefID      string   `json:"refId"`
		Expr       string   `json:"expr"`
		Datasource *lintRef `json:"datasource"`
	} `json:"targets"`
	Panels []lintPanel `json:"panels"`
}

// panels are the board's panels, those inside rows included, rows left out.
func (b *lintBoard) panels() []*lintPanel {
	var out []*lintPanel
	var walk func([]lintPanel)
	walk = func(ps []lintPanel) {
		for i := range ps {
			if ps[i].Type != "row" {
				out = append(out, &ps[i])
			}
			walk(ps[i].Panels)
		}
	}
	walk(b.Panels)
	return out
}

func (b *lintBoard) variableNames() []string {
	var out []string
	for _, v := range b.Templating.List {
		out = append(out, v.Name)
	}
	return out
}

// lintRule is one of the linter's rules: the problems it finds on a board.
type lintRule struct {
	name  string
	check func(b *lintBoard) []string
}

// validUnits are Grafana's unit ids of the kinds a KPI board can need (the
// linter lists them all from Grafana's value formats).
var validUnits = []string{
	"none", "string", "short", "percent", "percentunit", "locale", "sci",
	"ns", "µs", "ms", "s", "m", "h", "d", "dtdurationms", "dtdurations", "dthms", "dtdhms",
	"dateTimeAsIso", "dateTimeAsIsoNoDateIfToday", "dateTimeAsUS", "dateTimeAsUSNoDateIfToday",
	"dateTimeAsLocal", "dateTimeAsLocalNoDateIfToday", "dateTimeAsSystem", "dateTimeFromNow",
	"bool", "bool_yes_no", "bool_on_off", "currencyVND", "bytes", "decbytes",
}

// unitPanels are the panel types that show numbers and so need a unit.
var unitPanels = []string{"stat", "singlestat", "graph", "table", "timeseries", "gauge", "bargauge"}

var lintRules = []lintRule{
	{"template-datasource-rule", func(b *lintBoard) []string {
		var ds []lintVariable
		for _, v := range b.Templating.List {
			if v.Type == "datasource" {
				ds = append(ds, v)
			}
		}
		if len(ds) != 1 {
			return []string{fmt.Sprintf("%d data source variables, want 1", len(ds))}
		}
		var out []string
		if v := ds[0]; v.Name != "datasource" && v.Name != v.Query+"_datasource" {
			out = append(out, fmt.Sprintf("data source variable named %q, want datasource", v.Name))
		}
		if v := ds[0]; v.Label != "Data source" {
			out = append(out, fmt.Sprintf("data source variable labelled %q, want Data source", v.Label))
		}
		if v := ds[0]; v.Query != "prometheus" {
			out = append(out, fmt.Sprintf("data source variable lists %q data sources, want prometheus", v.Query))
		}
		return out
	}},
	{"template-label-promql-rule", func(b *lintBoard) []string {
		var out []string
		for _, v := range b.Templating.List {
			if v.Type != "query" {
				continue
			}
			m := labelValues.FindStringSubmatch(v.Query)
			if m == nil {
				out = append(out, fmt.Sprintf("variable %s: %q is not label_values(selector, label)", v.Name, v.Query))
				continue
			}
			if err := parsesWith(m[1], b); err != nil {
				out = append(out, fmt.Sprintf("variable %s: %v", v.Name, err))
			}
		}
		return out
	}},
	{"template-on-time-change-reload-rule", func(b *lintBoard) []string {
		var out []string
		for _, v := range b.Templating.List {
			if v.Type == "query" && v.Refresh != 2 {
				out = append(out, fmt.Sprintf("variable %s refreshes %d, want 2 (on time range change)", v.Name, v.Refresh))
			}
		}
		return out
	}},
	{"template-uneditable-rule", func(b *lintBoard) []string {
		if b.Editable {
			return []string{"the board is editable"}
		}
		return nil
	}},
	{"panel-datasource-rule", func(b *lintBoard) []string {
		var out []string
		templated := func(r *lintRef) bool { return r != nil && (r.UID == "$datasource" || r.UID == "${datasource}") }
		for _, p := range b.panels() {
			if !templated(p.Datasource) {
				out = append(out, fmt.Sprintf("panel %q does not use the data source variable: %+v", p.Title, p.Datasource))
			}
			for _, tg := range p.Targets {
				if !templated(tg.Datasource) {
					out = append(out, fmt.Sprintf("panel %q, query %s does not use the data source variable", p.Title, tg.RefID))
				}
			}
		}
		for _, v := range b.Templating.List {
			if v.Type == "query" && !templated(v.Datasource) {
				out = append(out, fmt.Sprintf("variable %s does not use the data source variable", v.Name))
			}
		}
		return out
	}},
	{"panel-title-description-rule", func(b *lintBoard) []string {
		var out []string
		for _, p := range b.panels() {
			if strings.TrimSpace(p.Title) == "" || strings.TrimSpace(p.Description) == "" {
				out = append(out, fmt.Sprintf("panel %q (%s) lacks a title or a description", p.Title, p.Type))
			}
		}
		return out
	}},
	{"panel-units-rule", func(b *lintBoard) []string {
		var out []string
		for _, p := range b.panels() {
			if !slices.Contains(unitPanels, p.Type) {
				continue
			}
			if u := p.FieldConfig.Defaults.Unit; !slices.Contains(validUnits, u) {
				out = append(out, fmt.Sprintf("panel %q has no valid unit: %q", p.Title, u))
			}
			for _, o := range p.FieldConfig.Overrides {
				for _, prop := range o.Properties {
					if u, _ := prop.Value.(string); prop.ID == "unit" && !slices.Contains(validUnits, u) {
						out = append(out, fmt.Sprintf("panel %q overrides with an invalid unit %v", p.Title, prop.Value))
					}
				}
			}
		}
		return out
	}},
	{"panel-no-targets-rule", func(b *lintBoard) []string {
		var out []string
		for _, p := range b.panels() {
			if len(p.Targets) == 0 {
				out = append(out, fmt.Sprintf("panel %q has no queries", p.Title))
			}
		}
		return out
	}},
	{"target-promql-rule", func(b *lintBoard) []string {
		return eachExpr(b, func(e parser.Expr) error { return nil })
	}},
	{"target-rate-interval-rule", func(b *lintBoard) []string {
		return eachExpr(b, func(e parser.Expr) error {
			var bad error
			parser.Inspect(e, func(n parser.Node, path []parser.Node) error {
				call, ok := n.(*parser.Call)
				if !ok || (call.Func.Name != "rate" && call.Func.Name != "irate") {
					return nil
				}
				for _, a := range call.Args {
					if m, ok := a.(*parser.MatrixSelector); ok && m.Range != rateInterval && bad == nil {
						bad = fmt.Errorf("%s uses [%s], want [$__rate_interval]", call.Func.Name, m.Range)
					}
				}
				return nil
			})
			return bad
		})
	}},
	{"target-counter-agg-rule", func(b *lintBoard) []string {
		return eachExpr(b, func(e parser.Expr) error {
			var bad error
			parser.Inspect(e, func(n parser.Node, path []parser.Node) error {
				vs, ok := n.(*parser.VectorSelector)
				if !ok || !strings.HasSuffix(vs.Name, "_total") || bad != nil {
					return nil
				}
				ok = len(path) >= 2
				if ok {
					_, ranged := path[len(path)-1].(*parser.MatrixSelector)
					call, isCall := path[len(path)-2].(*parser.Call)
					ok = ranged && isCall && slices.Contains([]string{"rate", "irate", "increase"}, call.Func.Name)
				}
				if !ok {
					bad = fmt.Errorf("counter %s is not under rate, irate or increase", vs.Name)
				}
				return nil
			})
			return bad
		})
	}},
}

// rateInterval is the value the tests give $__rate_interval.
var rateInterval, _ = time.ParseDuration(grafanaVars["$__rate_interval"])

// parsesWith parses expr with the board's variables replaced as Grafana would.
func parsesWith(expr string, b *lintBoard) error {
	values := map[string]string{}
	for _, name := range b.variableNames() {
		values[name] = "x"
	}
	expr, err := substitute(expr, b.variableNames(), values)
	if err != nil {
		return err
	}
	_, err = parser.NewParser(parser.Options{}).ParseExpr(expr)
	return err
}

// eachExpr parses every query of the board and applies check to it.
func eachExpr(b *lintBoard, check func(parser.Expr) error) []string {
	var out []string
	values := map[string]string{}
	for _, name := range b.variableNames() {
		values[name] = "x"
	}
	for _, p := range b.panels() {
		for _, tg := range p.Targets {
			expr, err := substitute(tg.Expr, b.variableNames(), values)
			if err == nil {
				var e parser.Expr
				if e, err = parser.NewParser(parser.Options{}).ParseExpr(expr); err == nil {
					err = check(e)
				}
			}
			if err != nil {
				out = append(out, fmt.Sprintf("panel %q, query %s: %v", p.Title, tg.RefID, err))
			}
		}
	}
	return out
}

func lintBoardOf(t *testing.T, data []byte) *lintBoard {
	t.Helper()
	var b lintBoard
	if err := json.Unmarshal(data, &b); err != nil {
		t.Fatal(err)
	}
	return &b
}

func TestBoardsPassTheDashboardLinterRulesThatApply(t *testing.T) {
	boards := buildBoards(t, loadCatalogue(t))
	for _, r := range lintRules {
		t.Run(r.name, func(t *testing.T) {
			for uid, data := range boards {
				for _, problem := range r.check(lintBoardOf(t, data)) {
					t.Errorf("%s: %s", uid, problem)
				}
			}
		})
	}
}

// Each rule finds what it is for: a board spoilt for it fails it.
func TestEachLinterRuleCatchesWhatItIsFor(t *testing.T) {
	data := buildBoards(t, loadCatalogue(t))[UIDKPIDetail]
	firstPanel := func(b *lintBoard) *lintPanel { return b.panels()[1] }
	spoils := map[string]func(b *lintBoard){
		"template-datasource-rule": func(b *lintBoard) { b.Templating.List[0].Name = "ds" },
		"template-label-promql-rule": func(b *lintBoard) {
			b.Templating.List[1].Query = "label_values(kpi_info{, kpi)"
		},
		"template-on-time-change-reload-rule": func(b *lintBoard) { b.Templating.List[1].Refresh = 1 },
		"template-uneditable-rule":            func(b *lintBoard) { b.Editable = true },
		"panel-datasource-rule":               func(b *lintBoard) { firstPanel(b).Datasource.UID = DatasourceUID },
		"panel-title-description-rule":        func(b *lintBoard) { firstPanel(b).Description = "" },
		"panel-units-rule":                    func(b *lintBoard) { firstPanel(b).FieldConfig.Defaults.Unit = "" },
		"panel-no-targets-rule":               func(b *lintBoard) { firstPanel(b).Targets = nil },
		"target-promql-rule":                  func(b *lintBoard) { firstPanel(b).Targets[0].Expr += ")" },
		"target-rate-interval-rule": func(b *lintBoard) {
			firstPanel(b).Targets[0].Expr = "rate(kpi_push_failures_total[5m])"
		},
		"target-counter-agg-rule": func(b *lintBoard) { firstPanel(b).Targets[0].Expr = "kpi_push_failures_total" },
	}
	for _, r := range lintRules {
		spoil, ok := spoils[r.name]
		if !ok {
			t.Errorf("no spoilt board for %s", r.name)
			continue
		}
		if problems := r.check(lintBoardOf(t, data)); len(problems) > 0 {
			t.Fatalf("%s fails on the board before it is spoilt: %v", r.name, problems)
		}
		b := lintBoardOf(t, data)
		spoil(b)
		if len(r.check(b)) == 0 {
			t.Errorf("%s passes a board spoilt for it", r.name)
		}
	}
}
