package alerts

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/kpiwatch/kpiwatch/internal/genfile"

	"github.com/kpiwatch/kpiwatch/catalogue"
	c "github.com/kpiwatch/kpiwatch/conventions"
	"github.com/kpiwatch/kpiwatch/internal/promqlcheck"
	"github.com/kpiwatch/kpiwatch/internal/realserver"
	"github.com/kpiwatch/kpiwatch/project06"
	"github.com/kpiwatch/kpiwatch/units/unitstest"
)

// testCatalogue is testdata/catalogue.yml: every kind, direction, dimension
// and override the generator handles.
func testCatalogue(t *testing.T) *catalogue.Catalogue {
	t.Helper()
	data, err := os.ReadFile("testdata/catalogue.yml")
	if err != nil {
		t.Fatal(err)
	}
	cat, err := catalogue.Parse("catalogue.yml", data, os.DirFS("testdata"), nil)
	if err != nil {
		t.Fatal(err)
	}
	return cat
}

func project06Catalogue(t *testing.T) *catalogue.Catalogue {
	t.Helper()
	cat, err := project06.Load()
	if err != nil {
		t.Fatal(err)
	}
	return cat
}

// catalogues are what the generator is checked on: the test catalogue, the
// embedded Project 06 one and a province's own.
func catalogues(t *testing.T) map[string]*catalogue.Catalogue {
	return map[string]*catalogue.Catalogue{"test": testCatalogue(t), "project06": project06Catalogue(t), "tay-ninh": communeCatalogue(t)}
}

// communeCatalogue is a province's own deployment: Tay Ninh's communes
// (units/unitstest) as its units, its own word for its owners, KPIs by
// commune only (counted at the whole) and a KPI of the whole.
func communeCatalogue(t *testing.T) *catalogue.Catalogue {
	t.Helper()
	cat, err := catalogue.Parse("kpis.yaml", []byte(`apiVersion: kpiwatch.io/v1
kind: Catalogue
metadata: {name: tay-ninh, units: units.yaml, owners_vi: "Sở, ngành", owners_en: Departments}
owners:
  - {id: sct, name: Department of Industry and Trade, name_vi: Sở Công Thương, block: government}
  - {id: snv, name: Department of Home Affairs, name_vi: Sở Nội vụ, block: government}
sources: [{id: communes, collector: csv, config: {path: r.csv}}]
kpis:
  - id: dossiers
    name: Dossiers filed online
    name_vi: Hồ sơ nộp trực tuyến
    kind: count
    direction: higher_is_better
    owner: sct
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
    cadence: {period: monthly, due_day: 15}
    source: communes
    baseline: {date: 2025-01-01, value: 10}
    targets: [{by: 2026-12-31, value: 80}]
`), unitstest.Files(), nil)
	if err != nil {
		t.Fatal(err)
	}
	return cat
}

// A province's deployment's alerts speak its words: its whole's name, and
// its communes counted at the whole, the worst named.
func TestAlertsSpeakTheDeploymentsWords(t *testing.T) {
	files, err := Files(communeCatalogue(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	rules := string(files[RulesFile])
	for _, want := range []string{"Tỉnh Tây Ninh", "Tay Ninh province", `kpi_rollup_units{kpi=~"dossiers",level="whole"`,
		c.RollupWorstUnits} {
		if !strings.Contains(rules, want) {
			t.Errorf("%s has no %s", RulesFile, want)
		}
	}
	for _, absent := range []string{"Toàn quốc", "Nationwide"} {
		if strings.Contains(rules, absent) {
			t.Errorf("%s says %s, not the deployment's word", RulesFile, absent)
		}
	}
}

// generate writes the files for cat into a fresh directory.
func generate(t *testing.T, cat *catalogue.Catalogue, rcv *Receivers) string {
	t.Helper()
	dir := t.TempDir()
	files, err := Files(cat, rcv)
	if err == nil {
		err = genfile.Write(dir, files)
	}
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

// run runs a Debian tool (promtool from prometheus, amtool from
// prometheus-alertmanager) in dir and fails the test with its output if it
// fails.
func run(t *testing.T, dir, tool, pkg string, args ...string) string {
	t.Helper()
	cmd := exec.Command(realserver.Binary(t, tool, pkg), args...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", tool, strings.Join(args, " "), err, out)
	}
	return string(out)
}

func TestPromtoolCheckRules(t *testing.T) {
	for name, cat := range catalogues(t) {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			run(t, generate(t, cat, nil), "promtool", "prometheus", "check", "rules", "--lint=all", "--lint-fatal", RulesFile)
		})
	}
}

// TestVmalertLoadsRules checks that vmalert (VictoriaMetrics' rule
// evaluator) accepts every expression and annotation template too.
func TestVmalertLoadsRules(t *testing.T) {
	for name, cat := range catalogues(t) {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			run(t, generate(t, cat, nil), "vmalert", "victoria-metrics", "-dryRun", "-rule="+RulesFile)
		})
	}
}

// TestPromtoolGeneratedUnitTests runs the unit tests generated from each
// catalogue against the rules generated with them.
func TestPromtoolGeneratedUnitTests(t *testing.T) {
	for name, cat := range catalogues(t) {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			run(t, generate(t, cat, nil), "promtool", "prometheus", "test", "rules", RulesTestFile)
		})
	}
}

// TestPromtoolHandwrittenUnitTests runs testdata/handwritten.test.yml against
// the rules generated from testdata/catalogue.yml.
func TestPromtoolHandwrittenUnitTests(t *testing.T) {
	t.Parallel()
	dir := generate(t, testCatalogue(t), nil)
	data, err := os.ReadFile("testdata/handwritten.test.yml")
	if err != nil {
		t.Fatal(err)
	}
	realserver.WriteFile(t, dir, "handwritten.test.yml", data)
	run(t, dir, "promtool", "prometheus", "test", "rules", "handwritten.test.yml")
}

// TestHandwrittenTestsCoverEveryAlert keeps the hand-written tests honest:
// each alert has a case where it fires and one where it must not.
func TestHandwrittenTestsCoverEveryAlert(t *testing.T) {
	data, err := os.ReadFile("testdata/handwritten.test.yml")
	if err != nil {
		t.Fatal(err)
	}
	text := string(data)
	for _, name := range AlertNames {
		fires := regexp.MustCompile(`alertname: ` + name + `\n\s+exp_alerts:\n\s+- exp_labels`)
		silent := regexp.MustCompile(`alertname: ` + name + `\n\s+exp_alerts: \[\]`)
		if !fires.MatchString(text) {
			t.Errorf("no hand-written case where %s fires", name)
		}
		if !silent.MatchString(text) {
			t.Errorf("no hand-written case where %s must not fire", name)
		}
	}
}

func TestAmtoolCheckConfig(t *testing.T) {
	cat := testCatalogue(t)
	rcv, err := LoadReceivers("testdata/receivers.yml", cat)
	if err != nil {
		t.Fatal(err)
	}
	for name, r := range map[string]*Receivers{"without receivers": nil, "with receivers": rcv} {
		t.Run(name, func(t *testing.T) {
			out := run(t, generate(t, cat, r), "amtool", "prometheus-alertmanager", "check-config", AlertmanagerFile)
			if !strings.Contains(out, "1 templates") {
				t.Errorf("the message templates are not loaded:\n%s", out)
			}
		})
	}
	p06 := project06Catalogue(t)
	example, err := LoadReceivers("receivers.example.yml", p06)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range []*Receivers{nil, example} {
		run(t, generate(t, p06, r), "amtool", "prometheus-alertmanager", "check-config", AlertmanagerFile)
	}
}

// TestRoutesReachOwners shows, with amtool, every owner's alerts reaching the
// owner's receiver whatever their severity, and an alert without an owner (a
// failing source) reaching the operators.
func TestRoutesReachOwners(t *testing.T) {
	for name, cat := range catalogues(t) {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			dir := generate(t, cat, nil)
			routes := func(receiver string, labels ...string) {
				args := append([]string{"config", "routes", "test", "--config.file=" + AlertmanagerFile, "--verify.receivers=" + receiver}, labels...)
				run(t, dir, "amtool", "prometheus-alertmanager", args...)
			}
			for _, o := range cat.Owners {
				for _, sev := range catalogue.Severities {
					routes(o.ID, "alertname="+AlertBehindPlan, "kpi=x", "owner="+o.ID, "severity="+sev)
				}
			}
			routes(DefaultReceiver, "alertname="+AlertCollectorFailing, "source=x", "severity=warning")
			// A series that names a ministry other than the owner reaches that
			// ministry too; one that names the owner reaches it once.
			first, second := cat.Owners[0].ID, cat.Owners[1].ID
			routes(second+","+first, "alertname="+AlertBehindPlan, "kpi=x", "owner="+first, "ministry="+second, "severity=warning")
			routes(first, "alertname="+AlertBehindPlan, "kpi=x", "owner="+first, "ministry="+first, "severity=warning")
		})
	}
}

// TestProvincesGetCopies: a province listed in the receivers file gets the
// alerts about it as well as the owner; other provinces' alerts do not reach it.
func TestProvincesGetCopies(t *testing.T) {
	cat := testCatalogue(t)
	rcv, err := LoadReceivers("testdata/receivers.yml", cat)
	if err != nil {
		t.Fatal(err)
	}
	dir := generate(t, cat, rcv)
	hcm := ProvinceReceiver("Ho Chi Minh")
	// Receiver names are identifiers, whatever the province is called.
	identifier := regexp.MustCompile(`^[a-z][a-z0-9_]*$`)
	for _, r := range Alertmanager(cat, rcv).Receivers {
		if name := r.Content[1].Value; !identifier.MatchString(name) {
			t.Errorf("receiver %q is not an identifier", name)
		}
	}
	if hcm != "province_ho_chi_minh" {
		t.Errorf("Ho Chi Minh's receiver is %q", hcm)
	}
	for want, labels := range map[string][]string{
		hcm + ",mps": {"owner=mps", "province=Ho Chi Minh"},
		"mps":        {"owner=mps", "province=Ha Noi"},
	} {
		args := append([]string{"config", "routes", "test", "--config.file=" + AlertmanagerFile, "--verify.receivers=" + want,
			"alertname=" + AlertTargetMissed, "kpi=x", "severity=critical"}, labels...)
		run(t, dir, "amtool", "prometheus-alertmanager", args...)
	}
}

// TestRoutesRejectWrongReceiver makes sure the route test above can fail.
func TestRoutesRejectWrongReceiver(t *testing.T) {
	cat := testCatalogue(t)
	dir := generate(t, cat, nil)
	cmd := exec.Command(realserver.Binary(t, "amtool", "prometheus-alertmanager"), "config", "routes", "test",
		"--config.file="+AlertmanagerFile, "--verify.receivers=mps", "owner=molisa", "severity=warning")
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err == nil {
		t.Fatalf("molisa's alert reached mps's receiver:\n%s", out)
	}
}

func TestMessageTemplateRenders(t *testing.T) {
	dir := generate(t, testCatalogue(t), nil)
	out := run(t, dir, "amtool", "prometheus-alertmanager", "template", "render", "--template.glob="+TemplateFile,
		`--template.text={{ template "kpiwatch.subject" . }}|{{ range .Alerts }}{{ template "kpiwatch.alert" . }}{{ end }}`)
	// amtool's example data: two alerts with annotations and labels.
	for _, want := range []string{"[ALERTSTATUS] ", "\n  annotation1: value1", "labels: commonlabelkey1=commonlabelvalue1"} {
		if !strings.Contains(out, want) {
			t.Errorf("rendered message lacks %q:\n%s", want, out)
		}
	}
}

// knownMetrics are the names a rule may read: what the exporter serves,
// the roll-ups included.
func knownMetrics() map[string]bool {
	known := map[string]bool{}
	for name := range c.Help {
		known[name] = true
	}
	for _, name := range []string{c.RollupValue, c.RollupNumerator, c.RollupDenominator, c.RollupStatus, c.RollupUnits,
		c.RollupTarget, c.RollupPlan, c.RollupTargetDeadline, c.RollupAttainment, c.RollupReportPeriod, c.RollupPlanGap, c.RollupForecast} {
		known[name] = true
	}
	return known
}

// templatePrintf finds the format strings of annotation templates' queries
// (each %q a label value, each %s a label name).
var templatePrintf = regexp.MustCompile(`printf ("(?:[^"\\]|\\.)*")`)

// TestRulesNameServedMetrics fails if any expression, or any query in an
// annotation, names a metric that the exporter does not serve, and if any
// rule records: the exporter serves the roll-ups.
func TestRulesNameServedMetrics(t *testing.T) {
	known := knownMetrics()
	for name, cat := range catalogues(t) {
		groups, err := Rules(cat)
		if err != nil {
			t.Fatal(err)
		}
		check := func(where, expr string) {
			unknown, err := promqlcheck.Unknown(expr, known)
			if err != nil {
				t.Errorf("%s: %s: %v", name, where, err)
			}
			if len(unknown) > 0 {
				t.Errorf("%s: %s names %v, which nothing serves:\n%s", name, where, unknown, expr)
			}
		}
		queries := 0
		for _, g := range groups {
			for _, r := range g.Rules {
				where := g.Name + "/" + r.Record + r.Alert
				if r.Record != "" {
					t.Errorf("%s: %s records: the exporter serves the roll-ups", name, where)
				}
				check(where, r.Expr)
				for key, tmpl := range r.Annotations {
					for _, m := range templatePrintf.FindAllStringSubmatch(tmpl, -1) {
						format, err := strconv.Unquote(m[1])
						if err != nil {
							t.Fatalf("%s: %s: %v", where, key, err)
						}
						if strings.HasPrefix(format, "%") {
							continue // a number's or a date's format, not a query
						}
						check(where+" annotation "+key, strings.NewReplacer("%q", `"x"`, "%s", "x").Replace(format))
						queries++
					}
				}
			}
		}
		if queries == 0 {
			t.Errorf("%s: found no query in any annotation: the pattern has gone stale", name)
		}
	}
}

// TestUnknownMetricIsCaught makes sure the check above can fail.
func TestUnknownMetricIsCaught(t *testing.T) {
	unknown, err := promqlcheck.Unknown(`kpi_value{kpi="a"} > kpi_valu{kpi="a"}`, knownMetrics())
	if err != nil || len(unknown) != 1 || unknown[0] != "kpi_valu" {
		t.Fatalf("got %v, %v; want [kpi_valu]", unknown, err)
	}
}

// TestOverrides checks that the catalogue's alerts block reaches the rules:
// severities (a missed target one step up), for, disabled tiers and the
// catalogue's own routing labels; and that each KPI is in one class of each
// alert it has.
func TestOverrides(t *testing.T) {
	groups, err := Rules(testCatalogue(t))
	if err != nil {
		t.Fatal(err)
	}
	alerts := map[string]map[string][]Rule{} // kpi -> alert -> rules judging one figure
	for _, r := range groups[1].Rules {
		if _, ok := r.Labels[c.LabelCounted]; ok || r.Labels[c.LabelCheck] != "" && r.Labels[c.LabelCheck] != c.CheckJump {
			continue // the commune counts and all but one check are classed alike
		}
		for _, k := range r.KPIs {
			if alerts[k] == nil {
				alerts[k] = map[string][]Rule{}
			}
			alerts[k][r.Alert] = append(alerts[k][r.Alert], r)
		}
	}
	one := func(kpiID, alert string) Rule {
		t.Helper()
		rs := alerts[kpiID][alert]
		if len(rs) != 1 {
			t.Fatalf("%s: want one %s rule, got %d", kpiID, alert, len(rs))
		}
		return rs[0]
	}
	for _, tc := range []struct {
		kpi, alert, severity, forDur string
	}{
		{"vneid_accounts", AlertBehindPlan, "critical", "2d"},
		{"vneid_accounts", AlertForecastMiss, "critical", "2d"},
		{"vneid_accounts", AlertTargetMissed, "critical", "0s"},
		{"benefits_paid_by_bank", AlertBehindPlan, "warning", "1d"},
		{"benefits_paid_by_bank", AlertTargetMissed, "critical", "0s"},
		{"digital_readiness", AlertBehindPlan, "info", "1d"},
		{"digital_readiness", AlertTargetMissed, "warning", "0s"},
	} {
		r := one(tc.kpi, tc.alert)
		if r.Labels[c.LabelSeverity] != tc.severity || r.For.String() != tc.forDur {
			t.Errorf("%s %s: severity %s for %s, want %s for %s", tc.kpi, tc.alert, r.Labels[c.LabelSeverity], r.For, tc.severity, tc.forDur)
		}
	}
	for _, off := range []struct{ kpi, alert string }{
		{"tasks_behind_schedule", AlertForecastMiss},
		{"digital_readiness", AlertReportOverdue},
		{"digital_readiness", AlertDataSuspect},
	} {
		if n := len(alerts[off.kpi][off.alert]); n != 0 {
			t.Errorf("%s: %s is switched off but has %d rules", off.kpi, off.alert, n)
		}
	}
	// The catalogue's own routing labels reach every alert of the KPI, and
	// no other KPI's.
	for _, alert := range []string{AlertBehindPlan, AlertTargetMissed, AlertDataSuspect} {
		r := one("benefits_paid_by_bank", alert)
		if team := r.Labels["team"]; team != "social_protection" || !slices.Equal(r.KPIs, []string{"benefits_paid_by_bank"}) {
			t.Errorf("benefits_paid_by_bank %s: alerts.labels team = %q in the class %v", alert, team, r.KPIs)
		}
	}
	if _, ok := one("vneid_accounts", AlertBehindPlan).Labels["team"]; ok {
		t.Error("another KPI's alerts.labels leaked into vneid_accounts")
	}
	// KPIs with the same for, severity and labels share one rule.
	if r := one("tasks_behind_schedule", AlertBehindPlan); !slices.Equal(r.KPIs, []string{"tasks_behind_schedule", "dossiers_by_channel", "commune_dossiers_online", "provincial_dti", "commune_dossiers_received"}) {
		t.Errorf("the default class of %s is %v", AlertBehindPlan, r.KPIs)
	}
	// The owner and the names come from kpi_info, not from the rule.
	for _, g := range groups {
		for _, r := range g.Rules {
			for _, l := range []string{c.LabelOwner, c.LabelName, c.LabelNameVI, c.LabelKPI} {
				if _, ok := r.Labels[l]; ok {
					t.Errorf("%s of %v sets %s itself", r.Alert, r.KPIs, l)
				}
			}
		}
	}
}

// TestKPIMatcher: a class is selected by its KPIs or by every KPI but the
// others, whichever is shorter, and by nothing when it holds them all.
func TestKPIMatcher(t *testing.T) {
	cat := &catalogue.Catalogue{KPIs: []catalogue.KPI{{ID: "a"}, {ID: "bb"}, {ID: "ccc"}}}
	for _, tc := range []struct {
		ids  []string
		want string
	}{
		{[]string{"a", "bb", "ccc"}, ""},
		{[]string{"a"}, `kpi=~"a"`},
		{[]string{"bb", "ccc"}, `kpi!~"a"`},
	} {
		if got := kpiMatcher(cat, tc.ids); got != tc.want {
			t.Errorf("%v: %s, want %s", tc.ids, got, tc.want)
		}
	}
}

// TestRulesFileReviewable holds the embedded catalogue's rules to what a
// person can review: at most 80 KB, no line over 400 characters, and no
// more rules than alerts times their classes.
func TestRulesFileReviewable(t *testing.T) {
	files, err := Files(project06Catalogue(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	rules := files[RulesFile]
	if len(rules) > 80<<10 {
		t.Errorf("%s is %d bytes, over 80 KB", RulesFile, len(rules))
	}
	for i, line := range strings.Split(string(rules), "\n") {
		if n := utf8.RuneCountInString(line); n > 400 {
			t.Errorf("%s:%d is %d characters long, over 400: %.80s...", RulesFile, i+1, n, line)
		}
	}
	if n := strings.Count(string(rules), "- alert: "); n > 40 {
		t.Errorf("%s holds %d rules for the 7 alerts, the 2 completeness ones and their classes", RulesFile, n)
	}
}

// TestNoSourceDependencies: the rules generator links no SQL driver, and
// neither the exporter nor the collectors.
func TestNoSourceDependencies(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go list -deps: %v\n%s", err, out)
	}
	for _, dep := range strings.Fields(string(out)) {
		for _, banned := range []string{"database/sql", "github.com/go-sql-driver/", "github.com/jackc/", "modernc.org/sqlite",
			"github.com/kpiwatch/kpiwatch/exporter", "github.com/kpiwatch/kpiwatch/collectors"} {
			if strings.HasPrefix(dep, banned) {
				t.Errorf("alerts depends on %s", dep)
			}
		}
	}
}

func TestReceiversErrors(t *testing.T) {
	cat := testCatalogue(t)
	_, err := ParseReceivers("receivers.yml", []byte(`default:
  webhook_configs: [{url: http://a}]
owners:
  nobody:
    webhook_configs: [{url: http://b}]
  mps:
    name: mps
    webhook_configs: [{url: http://c}]
  molisa: [1]
extra: 1
provinces:
  Hà Tây:
    webhook_configs: [{url: http://d}]
  Hồ Chí Minh:
    webhook_configs: [{url: http://e}]
  TP. HCM:
    webhook_configs: [{url: http://f}]
`), cat)
	if err == nil {
		t.Fatal("want errors")
	}
	for _, want := range []string{
		`receivers.yml:5: owners.nobody: "nobody" is not an owner in the catalogue`,
		`receivers.yml:7: owners.mps.name: the receiver is named for you`,
		`receivers.yml:9: owners.molisa: must be a mapping`,
		`receivers.yml:10: extra: unknown field`,
		`receivers.yml:13: provinces.Hà Tây: unknown province "Hà Tây"`,
		`receivers.yml:17: provinces.TP. HCM: Ho Chi Minh is listed twice`,
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("errors lack %q:\n%v", want, err)
		}
	}
}

func TestReceiversGoToTheirOwners(t *testing.T) {
	cat := testCatalogue(t)
	rcv, err := LoadReceivers("testdata/receivers.yml", cat)
	if err != nil {
		t.Fatal(err)
	}
	files, err := Files(cat, rcv)
	if err != nil {
		t.Fatal(err)
	}
	am := string(files[AlertmanagerFile])
	for _, want := range []string{
		"  - name: mps\n    webhook_configs:\n      - url: https://alerts.example.gov.vn/hooks/mps",
		"  - name: party_office\n    slack_configs:",
		// An owner the file does not list gets the default's settings.
		"  - name: molisa\n    email_configs:\n      - to: kpiwatch-ops@example.gov.vn",
	} {
		if !strings.Contains(am, want) {
			t.Errorf("alertmanager.yml lacks %q:\n%s", want, am)
		}
	}
}

// TestCommittedFilesAreCurrent regenerates the files of the embedded Project
// 06 catalogue and compares them with the committed ones in generated/,
// which `kpiwatch generate` (make generate) writes.
func TestCommittedFilesAreCurrent(t *testing.T) {
	files, err := Files(project06Catalogue(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	committed, err := filepath.Glob("generated/*")
	if err != nil {
		t.Fatal(err)
	}
	if len(committed) != len(files) {
		t.Errorf("generated/ holds %v; the generator writes %d files", committed, len(files))
	}
	for name, want := range files {
		got, err := os.ReadFile(filepath.Join("generated", name))
		if err != nil {
			t.Errorf("%v: run make generate", err)
			continue
		}
		if !bytes.Equal(got, want) {
			t.Errorf("generated/%s differs from what the generator writes: run make generate", name)
		}
	}
}

func TestFilesAreDeterministic(t *testing.T) {
	cat := testCatalogue(t)
	a, err := Files(cat, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 5; i++ {
		b, err := Files(cat, nil)
		if err != nil {
			t.Fatal(err)
		}
		for name := range a {
			if !bytes.Equal(a[name], b[name]) {
				t.Fatalf("%s differs between two runs", name)
			}
		}
	}
}

// TestRulesReadOnlyRecentSamples holds the rules to one judgement: the
// exporter judges every figure, and no rule reads more than the last
// RideOut of a series of the main endpoint, or UnitsRideOut of the unit
// endpoint (scraped every ten minutes), so evaluation costs the same after a
// day of history as after three years.
func TestRulesReadOnlyRecentSamples(t *testing.T) {
	main, err := time.ParseDuration(RideOut)
	if err != nil {
		t.Fatal(err)
	}
	units, err := time.ParseDuration(UnitsRideOut)
	if err != nil {
		t.Fatal(err)
	}
	unitFamilies := []string{c.KPIValue, c.KPIReportPeriod, c.KPIStatus, c.KPIForecast, c.KPIDataSuspect}
	for name, cat := range catalogues(t) {
		groups, err := Rules(cat)
		if err != nil {
			t.Fatal(err)
		}
		for _, g := range groups {
			if g.Interval <= 0 {
				t.Errorf("%s: group %s sets no interval", name, g.Name)
			}
			for _, r := range g.Rules {
				back, err := promqlcheck.Lookback(r.Expr)
				if err != nil {
					t.Fatal(err)
				}
				names, err := promqlcheck.MetricNames(r.Expr)
				if err != nil {
					t.Fatal(err)
				}
				limit := main
				if slices.ContainsFunc(names, func(n string) bool { return slices.Contains(unitFamilies, n) }) {
					limit = units
				}
				if back > limit {
					t.Errorf("%s: %s/%s reads %s of samples, more than %s:\n%s", name, g.Name, r.Alert, back, limit, r.Expr)
				}
			}
		}
	}
}

// TestGeneratedTestsCoverEveryRule: for every KPI and every rule whose class
// holds it (the roll-ups' judgement, the communes counted, each check), the
// generated tests have a case where it fires and one where it must not.
func TestGeneratedTestsCoverEveryRule(t *testing.T) {
	for name, cat := range catalogues(t) {
		groups, err := Rules(cat)
		if err != nil {
			t.Fatal(err)
		}
		f, err := UnitTests(cat, groups)
		if err != nil {
			t.Fatal(err)
		}
		// kpi/alert/counted/check -> cases firing; kpi/alert -> cases silent
		fires, silent := map[string]int{}, map[string]int{}
		for _, ut := range f.Tests {
			kpiID, _, _ := strings.Cut(ut.Name, ":")
			for _, at := range ut.AlertTests {
				if len(at.ExpAlerts) == 0 {
					silent[kpiID+"/"+at.Alertname]++
				}
				for _, e := range at.ExpAlerts {
					fires[kpiID+"/"+at.Alertname+"/"+e.ExpLabels[c.LabelCounted]+"/"+e.ExpLabels[c.LabelCheck]]++
				}
			}
		}
		for _, g := range groups {
			for _, r := range g.Rules {
				for _, id := range r.KPIs {
					key := id + "/" + r.Alert + "/" + r.Labels[c.LabelCounted] + "/" + r.Labels[c.LabelCheck]
					if r.Labels[c.LabelCheck] != "" && fires[key] == 0 {
						continue // a check the exporter does not make on this KPI
					}
					if fires[key] == 0 || silent[id+"/"+r.Alert] == 0 {
						t.Errorf("%s: %s: %d cases fire, %d must not", name, key, fires[key], silent[id+"/"+r.Alert])
					}
				}
			}
		}
	}
}
