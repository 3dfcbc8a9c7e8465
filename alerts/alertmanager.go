package alerts

import (
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/kpiwatch/kpiwatch/catalogue"
	c "github.com/kpiwatch/kpiwatch/conventions"
)

// DefaultReceiver takes the alerts that belong to no owner (failing sources)
// and those of owners the receivers file does not list. Owner ids cannot
// contain "-", so it never clashes with one.
const DefaultReceiver = "kpiwatch_operators"

// TemplateFile is the message template file written beside the
// Alertmanager configuration.
const TemplateFile = "kpiwatch.tmpl"

// Repeat intervals by severity: monthly figures do not change by the hour,
// so a reminder a day (critical) to a few days (warning, info) is enough.
// They stay under Alertmanager's default --data.retention of 5 days, past
// which it forgets what it has sent.
var repeatBySeverity = []struct{ severity, interval string }{
	{"critical", "1d"},
	{"info", "4d"},
}

const repeatDefault = "3d"

// AlertmanagerConfig is the generated Alertmanager configuration.
type AlertmanagerConfig struct {
	Route        Route         `yaml:"route"`
	InhibitRules []InhibitRule `yaml:"inhibit_rules"`
	Receivers    []*yaml.Node  `yaml:"receivers"`
	Templates    []string      `yaml:"templates"`
}

// Route is an Alertmanager route.
type Route struct {
	Receiver       string   `yaml:"receiver,omitempty"`
	Matchers       []string `yaml:"matchers,omitempty"`
	GroupBy        []string `yaml:"group_by,omitempty"`
	GroupWait      string   `yaml:"group_wait,omitempty"`
	GroupInterval  string   `yaml:"group_interval,omitempty"`
	RepeatInterval string   `yaml:"repeat_interval,omitempty"`
	Routes         []Route  `yaml:"routes,omitempty"`
	Continue       bool     `yaml:"continue,omitempty"`
}

// InhibitRule silences target alerts while a source alert fires with the
// same values of the equal labels.
type InhibitRule struct {
	SourceMatchers []string `yaml:"source_matchers"`
	TargetMatchers []string `yaml:"target_matchers"`
	Equal          []string `yaml:"equal"`
}

// Receivers is the operator's file of where alerts go: Alertmanager receiver
// settings (email_configs, webhook_configs, ...; without the name) for the
// default receiver, per owner id, and per province (by any spelling of its
// name) for the provinces that want a copy of the alerts about them. Secrets
// belong in the *_file options Alertmanager offers (auth_password_file,
// api_url_file, ...), not here.
type Receivers struct {
	Default   yaml.Node            `yaml:"default"`
	Owners    map[string]yaml.Node `yaml:"owners"`
	Provinces map[string]yaml.Node `yaml:"provinces"`
}

// LoadReceivers reads a receivers file and checks it against the catalogue.
func LoadReceivers(path string, cat *catalogue.Catalogue) (*Receivers, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return ParseReceivers(filepath.Base(path), data, cat)
}

// ParseReceivers decodes a receivers file named name strictly: unknown keys,
// owners the catalogue does not have, and settings that are not a mapping or
// that set a name are errors with their line.
func ParseReceivers(name string, data []byte, cat *catalogue.Catalogue) (*Receivers, error) {
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	var r Receivers
	if len(root.Content) == 0 {
		return &r, nil
	}
	errs := catalogue.Errors(catalogue.DecodeStrict(root.Content[0], &r, ""))
	// DecodeStrict decodes nothing when it finds a problem; decode what can
	// be, so that the checks below report everything at once.
	_ = root.Content[0].Decode(&r)
	check := func(path string, n *yaml.Node) {
		if n.Kind == 0 {
			return
		}
		if n.Kind != yaml.MappingNode {
			errs = append(errs, catalogue.FieldError{Path: path, Line: n.Line, Msg: "must be a mapping of Alertmanager receiver settings"})
			return
		}
		for i := 0; i+1 < len(n.Content); i += 2 {
			if n.Content[i].Value == "name" {
				errs = append(errs, catalogue.FieldError{Path: path + ".name", Line: n.Content[i].Line, Msg: "the receiver is named for you; leave name out"})
			}
		}
	}
	check("default", &r.Default)
	for _, id := range slices.Sorted(maps.Keys(r.Owners)) {
		n := r.Owners[id]
		if _, ok := cat.Owner(id); !ok {
			errs = append(errs, catalogue.FieldError{Path: "owners." + id, Line: n.Line, Msg: fmt.Sprintf("%q is not an owner in the catalogue", id)})
		}
		check("owners."+id, &n)
	}
	provinces := map[string]yaml.Node{}
	level := cat.UnitLevel(catalogue.DimProvince)
	for _, name := range slices.Sorted(maps.Keys(r.Provinces)) {
		n := r.Provinces[name]
		if level == nil {
			errs = append(errs, catalogue.FieldError{Path: "provinces." + name, Line: n.Line, Msg: "the catalogue's units list no provinces to route"})
			continue
		}
		p, _, err := level.Match(name)
		switch _, dup := provinces[p.Name]; {
		case err != nil:
			errs = append(errs, catalogue.FieldError{Path: "provinces." + name, Line: n.Line, Msg: err.Error()})
		case dup:
			errs = append(errs, catalogue.FieldError{Path: "provinces." + name, Line: n.Line, Msg: fmt.Sprintf("%s is listed twice", p.Name)})
		default:
			provinces[p.Name] = n // keyed by the label value alerts carry
		}
		check("provinces."+name, &n)
	}
	r.Provinces = provinces
	if len(errs) > 0 {
		for i := range errs {
			errs[i].File = name
		}
		sort.SliceStable(errs, func(i, j int) bool { return errs[i].Line < errs[j].Line })
		return nil, errs
	}
	return &r, nil
}

// receiverNode is a receiver named name with the settings of body (nil or
// empty: a receiver that notifies nobody).
func receiverNode(name string, body *yaml.Node) *yaml.Node {
	n := &yaml.Node{Kind: yaml.MappingNode, Content: []*yaml.Node{
		{Kind: yaml.ScalarNode, Value: "name"}, {Kind: yaml.ScalarNode, Value: name},
	}}
	if body != nil && body.Kind == yaml.MappingNode {
		n.Content = append(n.Content, body.Content...)
	}
	return n
}

// severityRoutes set the repeat interval by severity under a route.
func severityRoutes() []Route {
	out := make([]Route, len(repeatBySeverity))
	for i, r := range repeatBySeverity {
		out[i] = Route{Matchers: []string{eq(c.LabelSeverity, r.severity)}, RepeatInterval: r.interval}
	}
	return out
}

// Alertmanager builds the Alertmanager configuration: a route per owner of
// the catalogue to a receiver named after it, grouping by alert, KPI and
// owner, a missed target silencing the behind-plan and forecast alerts of the
// same figure, and the message templates. rcv may be nil: every receiver is
// then left without addresses, to be regenerated with the operator's file.
func Alertmanager(cat *catalogue.Catalogue, rcv *Receivers) *AlertmanagerConfig {
	var def *yaml.Node
	owners, provinces := map[string]yaml.Node{}, map[string]yaml.Node{}
	if rcv != nil {
		def, owners, provinces = &rcv.Default, rcv.Owners, rcv.Provinces
	}
	cfg := &AlertmanagerConfig{
		Route: Route{
			Receiver: DefaultReceiver,
			GroupBy:  []string{c.LabelAlertName, c.LabelKPI, c.LabelOwner},
			// A group's alerts come from one rule's evaluation, so waiting
			// longer than Alertmanager's default batches nothing more; it
			// would only delay a missed target (3 minutes at most, end to end).
			GroupWait:      "30s",
			GroupInterval:  "30m",
			RepeatInterval: repeatDefault,
			Routes:         severityRoutes(),
		},
		InhibitRules: []InhibitRule{{
			SourceMatchers: []string{eq(c.LabelAlertName, AlertTargetMissed)},
			TargetMatchers: []string{fmt.Sprintf("%s=~%q", c.LabelAlertName, AlertBehindPlan+"|"+AlertForecastMiss)},
			Equal:          seriesLabels(cat),
		}},
		Receivers: []*yaml.Node{receiverNode(DefaultReceiver, def)},
		Templates: []string{TemplateFile},
	}
	// Copies first, each with continue so the alert goes on to its owner: a
	// province that asked for them gets the alerts about it, and a ministry
	// gets the alerts of series that name it (its own roadmap tasks behind,
	// under a KPI another agency coordinates).
	var routes []Route
	for _, name := range slices.Sorted(maps.Keys(provinces)) {
		n := provinces[name]
		cfg.Receivers = append(cfg.Receivers, receiverNode(ProvinceReceiver(name), &n))
		routes = append(routes, Route{Receiver: ProvinceReceiver(name), Matchers: []string{eq(c.LabelProvince, name)}, Continue: true, Routes: severityRoutes()})
	}
	for _, o := range cat.Owners {
		routes = append(routes, Route{Receiver: o.ID, Matchers: []string{eq(c.LabelMinistry, o.ID), fmt.Sprintf("%s!=%q", c.LabelOwner, o.ID)}, Continue: true, Routes: severityRoutes()})
	}
	// Every owner gets a route, even one without KPIs: its roadmap tasks
	// alert too. Owner routes come before the root's severity routes, which
	// would otherwise catch every alert first.
	for _, o := range cat.Owners {
		body := def
		if n, ok := owners[o.ID]; ok {
			body = &n
		}
		cfg.Receivers = append(cfg.Receivers, receiverNode(o.ID, body))
		routes = append(routes, Route{Receiver: o.ID, Matchers: []string{eq(c.LabelOwner, o.ID)}, Routes: severityRoutes()})
	}
	cfg.Route.Routes = append(routes, cfg.Route.Routes...)
	return cfg
}

// seriesLabels are the labels that tell one figure of a KPI from another:
// the KPI, the roll-up's level, whether it counts units, the built-in
// dimensions and the catalogue's declared ones.
func seriesLabels(cat *catalogue.Catalogue) []string {
	out := append([]string{c.LabelKPI, c.LabelLevel, c.LabelCounted}, catalogue.Dimensions...)
	for _, d := range cat.Dimensions {
		out = append(out, d.Name)
	}
	return out
}

// ProvinceReceiver names the receiver of a province's copies as an
// identifier: "province_" and its ASCII name in lower case, words joined by
// underscores ("Ho Chi Minh" -> province_ho_chi_minh).
func ProvinceReceiver(province string) string {
	return "province_" + strings.Join(strings.FieldsFunc(strings.ToLower(province), func(r rune) bool {
		return !('a' <= r && r <= 'z' || '0' <= r && r <= '9')
	}), "_")
}
