package alerts

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/fstest"
	"time"

	"github.com/kpiwatch/kpiwatch/internal/genfile"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/kpiwatch/kpiwatch/catalogue"
	c "github.com/kpiwatch/kpiwatch/conventions"
	"github.com/kpiwatch/kpiwatch/exporter"
	"github.com/kpiwatch/kpiwatch/internal/contract"
	"github.com/kpiwatch/kpiwatch/internal/realserver"
	kpimodel "github.com/kpiwatch/kpiwatch/model"
	"github.com/kpiwatch/kpiwatch/project06"
)

// judgedAt is the day the exporter judges the sample data on, fixed so that
// the statuses (and so the alerts) do not change with the calendar.
var judgedAt = time.Date(2026, 11, 22, 0, 0, 0, 0, time.UTC)

// webhook records what Alertmanager posts, by receiver.
type webhook struct {
	mu       sync.Mutex
	received map[string][]webhookAlert
}

type webhookAlert struct {
	Status      string
	Labels      map[string]string
	Annotations map[string]string
	At          time.Time
}

func (w *webhook) ServeHTTP(rw http.ResponseWriter, r *http.Request) {
	var msg struct {
		Receiver string
		Alerts   []webhookAlert
	}
	if err := json.NewDecoder(r.Body).Decode(&msg); err != nil {
		http.Error(rw, err.Error(), http.StatusBadRequest)
		return
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	// The receiver Alertmanager names must be the one whose address it used.
	if path := strings.TrimPrefix(r.URL.Path, "/"); path != msg.Receiver {
		msg.Receiver = "mismatch: posted to " + path + " for " + msg.Receiver
	}
	for i := range msg.Alerts {
		msg.Alerts[i].At = time.Now()
	}
	w.received[msg.Receiver] = append(w.received[msg.Receiver], msg.Alerts...)
}

// find returns the first alert a receiver got that has all of labels.
func (w *webhook) find(receiver string, labels map[string]string) (webhookAlert, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, a := range w.received[receiver] {
		match := true
		for k, v := range labels {
			match = match && a.Labels[k] == v
		}
		if match {
			return a, true
		}
	}
	return webhookAlert{}, false
}

// findAny returns the first alert any receiver got that has all of labels.
func (w *webhook) findAny(labels map[string]string) (webhookAlert, bool) {
	for receiver := range w.all() {
		if a, ok := w.find(receiver, labels); ok {
			return a, true
		}
	}
	return webhookAlert{}, false
}

func (w *webhook) all() map[string][]webhookAlert {
	w.mu.Lock()
	defer w.mu.Unlock()
	return maps.Clone(w.received)
}

// statusLine is a kpi_rollup_status sample of the main endpoint.
var (
	statusLine = regexp.MustCompile(`(?m)^` + c.RollupStatus + `\{(.*)\} 1$`)
	labelPair  = regexp.MustCompile(`(\w+)="([^"]*)"`)
)

// exposition is what target serves on /metrics.
func exposition(t *testing.T, target string) string {
	t.Helper()
	resp, err := http.Get("http://" + target + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var b bytes.Buffer
	if _, err := b.ReadFrom(resp.Body); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// statuses reads the judgement of every roll-up served: per KPI, the labels
// of each roll-up and its status.
func statuses(text string) map[string][]map[string]string {
	out := map[string][]map[string]string{}
	for _, m := range statusLine.FindAllStringSubmatch(text, -1) {
		labels := map[string]string{}
		for _, p := range labelPair.FindAllStringSubmatch(m[1], -1) {
			labels[p[1]] = p[2]
		}
		out[labels[c.LabelKPI]] = append(out[labels[c.LabelKPI]], labels)
	}
	return out
}

// missingReport is a served kpi_report_received sample of a report not in.
var missingReport = regexp.MustCompile(`(?m)^` + c.ReportReceived + `\{.*kpi="([^"]*)".*\} 0$`)

// pickKPIs finds, in what is served, a roll-up whose target was missed and
// a KPI whose every roll-up is on track and every report in.
func pickKPIs(t *testing.T, cat *catalogue.Catalogue, served string) (missed map[string]string, onTrack string) {
	t.Helper()
	judged := statuses(served)
	reportMissing := map[string]bool{}
	for _, m := range missingReport.FindAllStringSubmatch(served, -1) {
		reportMissing[m[1]] = true
	}
	for _, k := range cat.KPIs {
		allOnTrack := len(judged[k.ID]) > 0 && !reportMissing[k.ID]
		for _, s := range judged[k.ID] {
			allOnTrack = allOnTrack && s[c.LabelStatus] == c.StatusOnTrack
			if s[c.LabelStatus] == c.StatusMissed && missed == nil && !k.Disabled(catalogue.TierTargetMissed) {
				missed = s
			}
		}
		if allOnTrack && onTrack == "" {
			onTrack = k.ID
		}
	}
	if missed == nil || onTrack == "" {
		t.Fatalf("what is served has no missed roll-up (%v) or no KPI all on track (%q)", missed, onTrack)
	}
	return missed, onTrack
}

// TestEndToEnd runs the real exporter on the embedded Project 06 sample
// data, a real Prometheus scraping it with the generated rules, and a real
// Alertmanager with the generated configuration posting to a webhook per
// receiver. Only timings are shortened: every "for" to zero, and
// Alertmanager's grouping waits to a second. It needs the exporter to serve
// the kpi_rollup_* families (docs/one-model.md).
func TestEndToEnd(t *testing.T) {
	t.Parallel()
	cat := project06Catalogue(t)
	target := contract.ServeExporter(t, cat, project06.FS, exporter.Options{Now: func() time.Time { return judgedAt }})
	endToEnd(t, cat, strings.TrimPrefix(target.URL, "http://"))
}

// TestEndToEndAgainstTheContract runs the same stack on the exposition
// docs/one-model.md describes, written by internal/contract (the
// exporter's series with roll-ups of every KPI in every status), so that
// the rules and routes are checked against the contract whether or not the
// exporter serves it yet.
func TestEndToEndAgainstTheContract(t *testing.T) {
	t.Parallel()
	cat := project06Catalogue(t)
	endToEnd(t, cat, contract.Serve(t, cat, project06.FS))
}

// endToEnd runs a real Prometheus scraping target with the generated rules
// and a real Alertmanager with the generated configuration, and checks
// what reaches each receiver against what target serves.
func endToEnd(t *testing.T, cat *catalogue.Catalogue, target string) {
	start := time.Now()
	served := exposition(t, target)
	judged := statuses(served)
	missed, onTrack := pickKPIs(t, cat, served)

	hook, prom, amSrv := startStack(t, cat, target)
	t.Logf("servers up after %s", time.Since(start).Round(time.Millisecond))

	// The missed roll-up reaches its KPI's owner with the routing labels,
	// the KPI's names and kind from kpi_info (and the target labels the
	// scrape adds, as it does in production).
	k, _ := cat.KPI(missed[c.LabelKPI])
	want := map[string]string{
		c.LabelAlertName: AlertTargetMissed, c.LabelSeverity: raise(k.Alerts.Severity),
		"instance": target, "job": "kpiwatch",
	}
	maps.Copy(want, k.Alerts.Labels)
	for _, l := range infoLabels {
		if v, ok := infoOf(k)[l]; ok {
			want[l] = v
		}
	}
	for name, v := range missed {
		if name != c.LabelStatus {
			want[name] = v
		}
	}
	var got, behind, forecast webhookAlert
	if !realserver.Eventually(2*time.Minute, func() bool {
		var missedOK, behindOK, forecastOK bool
		got, missedOK = hook.find(k.Owner, map[string]string{c.LabelAlertName: AlertTargetMissed, c.LabelKPI: k.ID})
		behind, behindOK = hook.findAny(map[string]string{c.LabelAlertName: AlertBehindPlan})
		forecast, forecastOK = hook.findAny(map[string]string{c.LabelAlertName: AlertForecastMiss})
		return missedOK && behindOK && forecastOK
	}) {
		t.Fatalf("no %s for %v at %s, or no %s or %s at all; received: %v\nprometheus alerts: %v\nalertmanager log:\n%s",
			AlertTargetMissed, missed, k.Owner, AlertBehindPlan, AlertForecastMiss, hook.all(), prom.Alerts(t), amSrv.Log())
	}
	// One judgement: the forecast the alert reports is the one the exporter
	// serves for the roll-up, to the digit.
	forecastKPI, _ := cat.KPI(forecast.Labels[c.LabelKPI])
	value, ok := servedValue(t, served, c.RollupForecast, forecast.Labels)
	if want := "heading for " + formatValue(forecastKPI, value) + " "; !ok || !strings.Contains(forecast.Annotations[AnnDescription], want) {
		t.Errorf("%s for %v says %q; the exporter serves %s %v (%v)", AlertForecastMiss, forecast.Labels,
			forecast.Annotations[AnnDescription], c.RollupForecast, value, ok)
	}
	if !maps.Equal(got.Labels, want) || got.Status != "firing" {
		t.Errorf("%s reached %s as %s %v, want firing %v", AlertTargetMissed, k.Owner, got.Status, got.Labels, want)
	}
	t.Logf("%s for %v reached %s after %s", AlertTargetMissed, missed, k.Owner, time.Since(start).Round(time.Millisecond))
	// A roll-up behind plan is one the exporter judged at risk.
	if !slices.ContainsFunc(judged[behind.Labels[c.LabelKPI]], func(s map[string]string) bool {
		return s[c.LabelStatus] == c.StatusAtRisk && sameSeries(s, behind.Labels)
	}) {
		t.Errorf("%s for a series the exporter does not judge at risk: %v", AlertBehindPlan, behind.Labels)
	}
	t.Logf("%s reached its owner: %v", AlertBehindPlan, behind.Labels)
	// The on-track KPI raises nothing, once its rules have been evaluated on
	// the data that raised the alert above; and every KPI alert went to its
	// KPI's owner, with the catalogue's routing labels.
	waitEvaluated(t, prom, KPIGroup, got.At)
	for _, a := range prom.Alerts(t) {
		if a.Labels[c.LabelKPI] == onTrack {
			t.Errorf("on-track KPI %s raised %v", onTrack, a)
		}
	}
	// A ministry behind on its own roadmap tasks gets a copy of the alert.
	if !realserver.Eventually(time.Minute, func() bool {
		for receiver, alerts := range hook.all() {
			for _, a := range alerts {
				if a.Labels[c.LabelMinistry] == receiver && a.Labels[c.LabelOwner] != receiver {
					return true
				}
			}
		}
		return false
	}) {
		t.Error("no ministry behind on its own roadmap tasks got a copy of its alert")
	}
	// A unit that has not sent its report on the last due period: the
	// exporter serves it as not received, and the alert reaches the owner.
	var missing webhookAlert
	if !realserver.Eventually(time.Minute, func() (ok bool) {
		missing, ok = hook.findAny(map[string]string{c.LabelAlertName: AlertReportMissing})
		return ok
	}) {
		t.Errorf("no %s at all; received: %v", AlertReportMissing, hook.all())
	} else if mk, _ := cat.KPI(missing.Labels[c.LabelKPI]); mk == nil {
		t.Errorf("%s for an unknown KPI: %v", AlertReportMissing, missing.Labels)
	} else if v, ok := servedValue(t, served, c.ReportReceived, missing.Labels); !ok || v != 0 {
		t.Errorf("%s for %v, which the exporter serves as received %v (%v)", AlertReportMissing, missing.Labels, v, ok)
	}
	for receiver, alerts := range hook.all() {
		if strings.HasPrefix(receiver, "mismatch") {
			t.Error(receiver)
		}
		for _, a := range alerts {
			id := a.Labels[c.LabelKPI]
			if id == "" {
				continue
			}
			k, ok := cat.KPI(id)
			copyToMinistry := ok && receiver != k.Owner && receiver == a.Labels[c.LabelMinistry]
			switch {
			case id == onTrack:
				t.Errorf("on-track KPI %s reached %s: %v", onTrack, receiver, a.Labels)
			case !ok || (receiver != k.Owner && !copyToMinistry) || a.Labels[c.LabelOwner] != k.Owner || a.Labels[c.LabelSeverity] == "":
				t.Errorf("%v reached receiver %s", a.Labels, receiver)
			}
		}
	}
	checkDisplayNames(t, hook, served)
	t.Logf("on-track KPI %s raised nothing; end to end in %s", onTrack, time.Since(start).Round(time.Millisecond))
}

// startStack runs a real Alertmanager with the generated configuration,
// posting to a webhook per receiver, and a real Prometheus scraping target
// with the generated rules: only timings are shortened, every "for" to
// zero and Alertmanager's grouping waits to a second.
func startStack(t *testing.T, cat *catalogue.Catalogue, target string) (*webhook, *realserver.Prometheus, *realserver.Server) {
	t.Helper()
	hook := &webhook{received: map[string][]webhookAlert{}}
	hookSrv := httptest.NewServer(hook)
	t.Cleanup(hookSrv.Close)
	var rcvYAML strings.Builder
	fmt.Fprintf(&rcvYAML, "default:\n  webhook_configs: [{url: %q}]\nowners:\n", hookSrv.URL+"/"+DefaultReceiver)
	for _, o := range cat.Owners {
		fmt.Fprintf(&rcvYAML, "  %s:\n    webhook_configs: [{url: %q}]\n", o.ID, hookSrv.URL+"/"+o.ID)
	}
	rcv, err := ParseReceivers("receivers.yml", []byte(rcvYAML.String()), cat)
	if err != nil {
		t.Fatal(err)
	}

	dir := t.TempDir()
	groups, err := Rules(cat)
	if err != nil {
		t.Fatal(err)
	}
	for i := range groups {
		groups[i].Interval = 0 // Prometheus' own, a second
		for j := range groups[i].Rules {
			groups[i].Rules[j].For = 0
		}
	}
	am := Alertmanager(cat, rcv)
	am.Route.GroupWait, am.Route.GroupInterval = "1s", "1s"
	write := func(name string, v any) string {
		data, err := genfile.YAML("", v)
		if err != nil {
			t.Fatal(err)
		}
		return realserver.WriteFile(t, dir, name, data)
	}
	rulesPath := write(RulesFile, RuleFile{Groups: groups})
	amPath := write(AlertmanagerFile, am)
	realserver.WriteFile(t, dir, TemplateFile, messageTemplate)

	amSrv := realserver.StartAlertmanager(t, amPath)
	prom := realserver.StartPrometheus(t, realserver.PrometheusConfig{
		Targets:       []string{target},
		RuleFiles:     []string{rulesPath},
		Alertmanagers: []string{amSrv.Addr},
	})
	return hook, prom, amSrv
}

// unitInfoLine is a kpi_unit_info sample of the main endpoint.
var unitInfoLine = regexp.MustCompile(`(?m)^` + c.UnitInfo + `\{(.*)\} 1$`)

// worstLine is a kpi_rollup_worst_units_info sample of the main endpoint.
var worstLine = regexp.MustCompile(`(?m)^` + c.RollupWorstUnits + `\{(.*)\} 1$`)

// checkDisplayNames checks the Vietnamese descriptions delivered against
// the names served: an alert on a province names it by its name_vi in
// kpi_unit_info, and one on the whole that fires at once names the worst
// units the exporter serves for it in kpi_rollup_worst_units_info, and
// none where it serves none.
func checkDisplayNames(t *testing.T, hook *webhook, served string) {
	t.Helper()
	names := map[string]string{} // province -> name_vi
	for _, m := range unitInfoLine.FindAllStringSubmatch(served, -1) {
		l := map[string]string{}
		for _, p := range labelPair.FindAllStringSubmatch(m[1], -1) {
			l[p[1]] = p[2]
		}
		if l[c.LabelLevel] == catalogue.DimProvince {
			names[l[c.LabelUnit]] = l[c.LabelNameVI]
		}
	}
	if len(names) == 0 {
		t.Fatalf("the exporter serves no %s for the provinces", c.UnitInfo)
	}
	worst := map[string]string{} // kpi and status: the whole's worst units
	for _, m := range worstLine.FindAllStringSubmatch(served, -1) {
		l := map[string]string{}
		for _, p := range labelPair.FindAllStringSubmatch(m[1], -1) {
			l[p[1]] = p[2]
		}
		if l[c.LabelLevel] == c.LevelWhole {
			worst[l[c.LabelKPI]+" "+l[c.LabelStatus]] = l[c.LabelUnits]
		}
	}
	provinces, wholes := 0, 0
	for _, alerts := range hook.all() {
		for _, a := range alerts {
			j := slices.IndexFunc(judgements, func(j judgement) bool { return j.alert == a.Labels[c.LabelAlertName] })
			if j < 0 || a.Labels[c.LabelCounted] != "" {
				continue
			}
			d := a.Annotations[AnnDescriptionVI]
			switch a.Labels[c.LabelLevel] {
			case catalogue.DimProvince:
				provinces++
				// An alert that waits pending names its unit by its label
				// (see naming.labelsOnly); the others by its name.
				want := names[a.Labels[c.LabelProvince]] + ": "
				if judgements[j].waits {
					want = a.Labels[c.LabelProvince] + ": "
				}
				if !strings.HasPrefix(d, want) {
					t.Errorf("%s for %s says %q, not starting %q", a.Labels[c.LabelAlertName], a.Labels[c.LabelProvince], d, want)
				}
			case c.LevelWhole:
				// The worst units the exporter names for the whole in the
				// alert's status, as it serves them.
				lead := " " + judgements[j].worstWords[1] + ": "
				want := worst[a.Labels[c.LabelKPI]+" "+judgements[j].status]
				switch {
				case judgements[j].waits:
				case want == "" && strings.Contains(d, lead):
					t.Errorf("%s of %s names units the exporter does not: %q", a.Labels[c.LabelAlertName], a.Labels[c.LabelKPI], d)
				case want != "" && !strings.HasSuffix(d, lead+want+"."):
					t.Errorf("%s of %s says %q, not ending %q", a.Labels[c.LabelAlertName], a.Labels[c.LabelKPI], d, lead+want+".")
				case want != "":
					wholes++
				}
			}
		}
	}
	t.Logf("%d alerts on a province named it, %d on the whole named the worst units", provinces, wholes)
	if provinces == 0 {
		t.Error("no alert on a province was delivered")
	}
	if wholes == 0 {
		t.Error("no alert on the whole named its worst units")
	}
}

// servedValue is the value served (in the exposition text) for metric on
// the series whose labels the alert's labels all have.
func servedValue(t *testing.T, text, metric string, labels map[string]string) (float64, bool) {
	t.Helper()
	parser := expfmt.NewTextParser(model.LegacyValidation)
	mfs, err := parser.TextToMetricFamilies(strings.NewReader(text))
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range mfs[metric].GetMetric() {
		series := map[string]string{}
		for _, l := range m.GetLabel() {
			series[l.GetName()] = l.GetValue()
		}
		if sameSeries(series, labels) {
			return m.GetGauge().GetValue(), true
		}
	}
	return 0, false
}

// sameSeries reports whether alert labels hold every label of the served
// series but its judgement (status, reason).
func sameSeries(series, alert map[string]string) bool {
	for l, v := range series {
		if l != c.LabelStatus && l != c.LabelReason && alert[l] != v {
			return false
		}
	}
	return true
}

// waitEvaluated waits until Prometheus has evaluated the group after at,
// every rule of it without error.
func waitEvaluated(t *testing.T, prom *realserver.Prometheus, group string, at time.Time) {
	t.Helper()
	var g ruleGroupState
	if !realserver.Eventually(time.Minute, func() bool {
		g = ruleGroup(t, prom, group)
		healthy := slices.IndexFunc(g.Rules, func(r ruleState) bool { return r.Health != "ok" }) < 0
		return g.LastEvaluation.After(at) && healthy
	}) {
		t.Fatalf("group %s not evaluated cleanly since %s: %+v", group, at, g)
	}
}

// ruleGroupState is a rule group as /api/v1/rules reports it.
type ruleGroupState struct {
	Name           string
	LastEvaluation time.Time
	Rules          []ruleState
}

type ruleState struct {
	Name, Health, LastError string
}

func ruleGroup(t *testing.T, prom *realserver.Prometheus, name string) ruleGroupState {
	t.Helper()
	resp, err := http.Get(prom.URL() + "/api/v1/rules")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body struct {
		Data struct{ Groups []ruleGroupState }
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		t.Fatal(err)
	}
	for _, g := range body.Data.Groups {
		if g.Name == name {
			return g
		}
	}
	t.Fatalf("prometheus has no rule group %s", name)
	return ruleGroupState{}
}

// TestMissedTargetInhibits posts alerts to a real Alertmanager running the
// generated configuration: a missed target silences the behind-plan and
// forecast alerts of the same roll-up, and only of that roll-up.
func TestMissedTargetInhibits(t *testing.T) {
	t.Parallel()
	dir := generate(t, testCatalogue(t), nil)
	am := realserver.StartAlertmanager(t, filepath.Join(dir, AlertmanagerFile))
	series := func(alert, province string) map[string]string {
		return map[string]string{c.LabelAlertName: alert, c.LabelKPI: "benefits_paid_by_bank", c.LabelLevel: catalogue.DimProvince,
			c.LabelProvince: province, c.LabelOwner: "molisa", c.LabelSeverity: "warning"}
	}
	posted := []map[string]string{
		series(AlertTargetMissed, "Ha Noi"),
		series(AlertBehindPlan, "Ha Noi"),
		series(AlertForecastMiss, "Ha Noi"),
		series(AlertBehindPlan, "Da Nang"),
		series(AlertReportOverdue, "Ha Noi"),
	}
	var body []map[string]any
	for _, l := range posted {
		body = append(body, map[string]any{"labels": l})
	}
	data, err := json.Marshal(body)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.Post(am.URL()+"/api/v2/alerts", "application/json", bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("posting alerts: %s", resp.Status)
	}
	want := map[string]bool{ // alertname/province -> inhibited
		AlertTargetMissed + "/Ha Noi": false, AlertBehindPlan + "/Ha Noi": true, AlertForecastMiss + "/Ha Noi": true,
		AlertBehindPlan + "/Da Nang": false, AlertReportOverdue + "/Ha Noi": false,
	}
	var got map[string]bool
	if !realserver.Eventually(time.Minute, func() bool {
		got = inhibited(t, am)
		return maps.Equal(got, want)
	}) {
		t.Fatalf("inhibited: got %v, want %v", got, want)
	}
}

// inhibited lists Alertmanager's alerts as alertname/province -> whether an
// inhibition rule silences it.
func inhibited(t *testing.T, am *realserver.Server) map[string]bool {
	t.Helper()
	resp, err := http.Get(am.URL() + "/api/v2/alerts")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var alerts []struct {
		Labels map[string]string
		Status struct{ InhibitedBy []string }
	}
	if err := json.NewDecoder(resp.Body).Decode(&alerts); err != nil {
		t.Fatal(err)
	}
	out := map[string]bool{}
	for _, a := range alerts {
		out[a.Labels[c.LabelAlertName]+"/"+a.Labels[c.LabelProvince]] = len(a.Status.InhibitedBy) > 0
	}
	return out
}

// worstCatalogue is a commune KPI whose target has passed, with its
// reports: the communes of one province, all short of the target.
const worstCatalogue = `apiVersion: kpiwatch.io/v1
kind: Catalogue
metadata: {name: worst, title: The communes furthest behind}
owners:
  - {id: molisa, name: Ministry of Home Affairs, name_vi: Bộ Nội vụ, block: government}
sources:
  - id: reports
    collector: csv
    interval: 1h
    config:
      path: reports.csv
      mapping: {kpi_column: kpi, date: period, value: value, dimensions: {province: province, commune: commune}}
kpis:
  - id: commune_dossiers_received
    name: Dossiers received, by commune
    name_vi: Hồ sơ tiếp nhận theo xã, phường
    unit: dossiers
    kind: count
    direction: higher_is_better
    owner: molisa
    dimensions: [province, commune]
    cadence: {period: monthly, due_day: 15, grace: 5d}
    source: reports
    baseline: {date: 2024-01-01, value: 0}
    targets: [{by: 2025-12-31, value: 500, scope: each, decision: "Each commune"}]
`

// TestWorstUnitsNamedEndToEnd runs the real exporter on the reports of one
// province's communes, all short of a commune KPI's passed target (more
// than an alert names), with a real Prometheus running the generated rules
// and a real Alertmanager: the notification delivered to the KPI's owner
// counts them all and names the exporter's WorstUnits furthest behind,
// worst first, and the province by its name.
func TestWorstUnitsNamedEndToEnd(t *testing.T) {
	t.Parallel()
	const province, provinceVI = "Ha Noi", "Thành phố Hà Nội"
	// Worst first: furthest below the target of 500; the names are not in
	// that order. Without a list of communes, a commune's label is its name.
	communes := []string{"Xã Sóc Sơn", "Phường Hoàn Kiếm", "Xã Đông Anh", "Phường Ba Đình", "Xã Mê Linh"}
	csv := "kpi,period,province,commune,value\n"
	for i, cm := range communes {
		csv += fmt.Sprintf("commune_dossiers_received,2026-10,%s,%s,%d\n", province, cm, 100+50*i)
	}
	fsys := fstest.MapFS{"reports.csv": {Data: []byte(csv)}}
	cat, err := catalogue.Parse("catalogue.yml", []byte(worstCatalogue), fsys, nil)
	if err != nil {
		t.Fatal(err)
	}
	k, ok := cat.KPI("commune_dossiers_received")
	if !ok {
		t.Fatal("the catalogue has no commune_dossiers_received")
	}
	srv := contract.ServeExporter(t, cat, fsys, exporter.Options{Now: func() time.Time { return judgedAt }})

	hook, prom, amSrv := startStack(t, cat, strings.TrimPrefix(srv.URL, "http://"))
	var got webhookAlert
	if !realserver.Eventually(2*time.Minute, func() (ok bool) {
		got, ok = hook.find(k.Owner, map[string]string{c.LabelAlertName: AlertTargetMissed, c.LabelKPI: k.ID, c.LabelCounted: catalogue.DimCommune})
		return ok
	}) {
		t.Fatalf("no %s for the communes of %s at %s; received: %v\nprometheus alerts: %v\nalertmanager log:\n%s",
			AlertTargetMissed, province, k.Owner, hook.all(), prom.Alerts(t), amSrv.Log())
	}
	names := strings.Join(communes[:kpimodel.WorstUnits], ", ")
	want := fmt.Sprintf("%s: %d xã, phường không đạt mục tiêu. Chậm nhất: %s.", provinceVI, len(communes), names)
	if d := got.Annotations[AnnDescriptionVI]; d != want {
		t.Errorf("%s delivered %q, want %q", AnnDescriptionVI, d, want)
	}
	want = fmt.Sprintf("%s: %d communes missed the target. Furthest behind: %s.", province, len(communes), names)
	if d := got.Annotations[AnnDescription]; d != want {
		t.Errorf("%s delivered %q, want %q", AnnDescription, d, want)
	}
}
