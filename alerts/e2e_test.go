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
	"sync/atomic"
	"testing"
	"time"

	"github.com/kpiwatch/kpiwatch/internal/genfile"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/kpiwatch/kpiwatch/catalogue"
	c "github.com/kpiwatch/kpiwatch/conventions"
	"github.com/kpiwatch/kpiwatch/exporter"
	"github.com/kpiwatch/kpiwatch/internal/contract"
	"github.com/kpiwatch/kpiwatch/internal/realserver"
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

// checkDisplayNames checks the Vietnamese descriptions delivered against
// the names served as kpi_unit_info: an alert on a province names it by its
// name_vi, and one on the whole names at most WorstUnits provinces, each
// by the name_vi of a province the exporter judges in the alert's status.
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
	judged := statuses(served)
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
				_, list, ok := strings.Cut(d, " "+judgements[j].worstWords[1]+": ")
				if !ok {
					continue
				}
				wholes++
				named := strings.Split(strings.TrimSuffix(list, "."), ", ")
				if len(named) > WorstUnits {
					t.Errorf("%s names %d provinces, over %d: %q", a.Labels[c.LabelAlertName], len(named), WorstUnits, d)
				}
				for _, n := range named {
					if !slices.ContainsFunc(judged[a.Labels[c.LabelKPI]], func(s map[string]string) bool {
						return s[c.LabelLevel] == catalogue.DimProvince && names[s[c.LabelProvince]] == n && s[c.LabelStatus] == judgements[j].status
					}) {
						t.Errorf("%s of %s names %q, no province of the KPI the exporter judges %s: %q", a.Labels[c.LabelAlertName], a.Labels[c.LabelKPI], n, judgements[j].status, d)
					}
				}
			}
		}
	}
	t.Logf("%d alerts on a province named it, %d on the whole named the worst provinces", provinces, wholes)
	if provinces == 0 {
		t.Error("no alert on a province was delivered")
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

// TestWorstUnitsNamedEndToEnd serves, as the exporter would, the communes
// of one province missing a commune KPI's target (more than an alert names)
// with their display names, to a real Prometheus with the generated rules
// and a real Alertmanager: the notification delivered to the KPI's owner
// counts them all and names the WorstUnits furthest behind, worst first,
// by their names, and the province by its own.
func TestWorstUnitsNamedEndToEnd(t *testing.T) {
	t.Parallel()
	cat := testCatalogue(t)
	k, ok := cat.KPI("commune_dossiers_received")
	if !ok || !counted(k) {
		t.Fatalf("the test catalogue has no commune KPI commune_dossiers_received")
	}
	const province, provinceVI = "Ha Noi", "Thành phố Hà Nội"
	// Worst first: the gap to plan falls down the list; the labels are not
	// in that order.
	communes := [][2]string{
		{"Xa Soc Son", "Xã Sóc Sơn"}, {"Phuong Hoan Kiem", "Phường Hoàn Kiếm"}, {"Xa Dong Anh", "Xã Đông Anh"},
		{"Phuong Ba Dinh", "Phường Ba Đình"}, {"Xa Me Linh", "Xã Mê Linh"},
	}
	var main, unitText strings.Builder
	fmt.Fprintf(&main, "%s 1\n", seriesText(c.KPIInfo, infoOf(k)))
	fmt.Fprintf(&main, "%s %d\n", seriesText(c.RollupUnits, map[string]string{c.LabelKPI: k.ID, c.LabelLevel: catalogue.DimProvince,
		c.LabelProvince: province, c.LabelStatus: c.StatusMissed}), len(communes))
	fmt.Fprintf(&main, "%s 1\n", seriesText(c.UnitInfo, map[string]string{c.LabelLevel: catalogue.DimProvince, c.LabelUnit: province, c.LabelNameVI: provinceVI}))
	for i, cm := range communes {
		fmt.Fprintf(&main, "%s 1\n", seriesText(c.UnitInfo, map[string]string{c.LabelLevel: catalogue.DimCommune, c.LabelUnit: cm[0],
			c.LabelNameVI: cm[1], c.LabelParent: province}))
		u := map[string]string{c.LabelKPI: k.ID, c.LabelProvince: province, c.LabelCommune: cm[0]}
		fmt.Fprintf(&unitText, "%s 1\n", seriesText(c.KPIStatus, with(u, c.LabelStatus, c.StatusMissed)))
		fmt.Fprintf(&unitText, "%s %d\n", seriesText(c.KPIPlanGap, u), 100*(len(communes)-i))
	}
	// The main endpoint serves nothing until the unit endpoint has been
	// scraped: Alertmanager does not notify again when only an alert's
	// annotations change, so the alert must first fire with the communes
	// in.
	var unitsScraped atomic.Bool
	mux := http.NewServeMux()
	mux.HandleFunc("/metrics", func(w http.ResponseWriter, _ *http.Request) {
		if unitsScraped.Load() {
			fmt.Fprint(w, main.String())
		}
	})
	mux.HandleFunc(c.UnitsPath, func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprint(w, unitText.String())
		unitsScraped.Store(true)
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)

	hook, prom, amSrv := startStack(t, cat, strings.TrimPrefix(srv.URL, "http://"))
	var got webhookAlert
	if !realserver.Eventually(2*time.Minute, func() (ok bool) {
		got, ok = hook.find(k.Owner, map[string]string{c.LabelAlertName: AlertTargetMissed, c.LabelKPI: k.ID, c.LabelCounted: catalogue.DimCommune})
		return ok
	}) {
		t.Fatalf("no %s for the communes of %s at %s; received: %v\nprometheus alerts: %v\nalertmanager log:\n%s",
			AlertTargetMissed, province, k.Owner, hook.all(), prom.Alerts(t), amSrv.Log())
	}
	var names []string
	for _, cm := range communes[:WorstUnits] {
		names = append(names, cm[1])
	}
	want := fmt.Sprintf("%s: %d xã, phường không đạt mục tiêu. Chậm nhất: %s.", provinceVI, len(communes), strings.Join(names, ", "))
	if d := got.Annotations[AnnDescriptionVI]; d != want {
		t.Errorf("%s delivered %q, want %q", AnnDescriptionVI, d, want)
	}
	want = fmt.Sprintf("%s: %d communes missed the target. Furthest behind: %s.", province, len(communes), strings.Join(names, ", "))
	if d := got.Annotations[AnnDescription]; d != want {
		t.Errorf("%s delivered %q, want %q", AnnDescription, d, want)
	}
	for _, cm := range communes[WorstUnits:] {
		if strings.Contains(got.Annotations[AnnDescription]+got.Annotations[AnnDescriptionVI], cm[1]) {
			t.Errorf("the notification names %s, beyond the %d worst", cm[1], WorstUnits)
		}
	}
}
