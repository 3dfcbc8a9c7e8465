package alerts

import (
	"cmp"
	"fmt"
	"maps"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/kpiwatch/kpiwatch/catalogue"
	c "github.com/kpiwatch/kpiwatch/conventions"
	"github.com/kpiwatch/kpiwatch/kpi"
	"github.com/kpiwatch/kpiwatch/units"
)

// UnitTestFile is a promtool rule unit test file.
type UnitTestFile struct {
	RuleFiles          []string   `yaml:"rule_files"`
	EvaluationInterval string     `yaml:"evaluation_interval"`
	Tests              []UnitTest `yaml:"tests"`
}

// UnitTest is one promtool test: input series and the alerts expected.
type UnitTest struct {
	Name        string        `yaml:"name"`
	Interval    string        `yaml:"interval"`
	InputSeries []InputSeries `yaml:"input_series"`
	AlertTests  []AlertTest   `yaml:"alert_rule_test"`
}

// InputSeries is a series in promtool's expanding notation.
type InputSeries struct {
	Series string `yaml:"series"`
	Values string `yaml:"values"`
}

// AlertTest expects exactly ExpAlerts of an alert at EvalTime.
type AlertTest struct {
	EvalTime  string     `yaml:"eval_time"`
	Alertname string     `yaml:"alertname"`
	ExpAlerts []ExpAlert `yaml:"exp_alerts"`
}

// ExpAlert is an expected firing alert with all its labels and annotations.
type ExpAlert struct {
	ExpLabels      map[string]string `yaml:"exp_labels"`
	ExpAnnotations map[string]string `yaml:"exp_annotations"`
}

// The generated tests feed the rules what the exporter would serve, sampled
// every testSampleStep (a one-minute scrape is finer still) and evaluated
// every testEvalInterval. In every test the last scrape fails: every series
// is marked stale at the evaluation time, and the alerts must ride it out.
const (
	testSampleStep   = 5 * time.Minute
	testEvalInterval = 6 * time.Hour
	testDenominator  = 1000.0
	testPeriod       = 1759276800 // 2025-10-01, the reported period's start
)

// UnitTests generates, for every KPI, promtool tests that feed the rules the
// series the exporter serves in each situation it can judge (behind plan,
// forecast to miss, behind but within tolerance, on track, achieved, missed,
// stale, each implausible figure the KPI is checked for) and expect exactly
// the alerts, labels and annotations that the judgement calls for, worked
// out here in Go. Each situation lasts just over the KPI's "for", ends with
// a failed scrape, and is also checked shortly before "for" is met.
func UnitTests(cat *catalogue.Catalogue, groups []RuleGroup) (UnitTestFile, error) {
	f := UnitTestFile{RuleFiles: []string{RulesFile}, EvaluationInterval: promDuration(testEvalInterval)}
	for i := range cat.KPIs {
		k := &cat.KPIs[i]
		var rules []Rule
		for _, g := range groups {
			if g.Name == GroupName(k.ID) {
				rules = g.Rules
			}
		}
		owner, _ := cat.Owner(k.Owner)
		fx := newFixture(cat, k, owner)
		for _, sc := range fx.scenarios() {
			t, err := fx.test(sc, rules)
			if err != nil {
				return UnitTestFile{}, fmt.Errorf("kpi %s: %s: %w", k.ID, sc.name, err)
			}
			f.Tests = append(f.Tests, t)
		}
	}
	f.Tests = append(f.Tests, CompletenessTests(cat, groups)...)
	return f, nil
}

// promDuration writes d as Prometheus does (1d, 2h).
func promDuration(d time.Duration) string { return catalogue.Duration(d).String() }

// fixture is one KPI's synthetic series: its labels (a unit with targets of
// its own where the KPI has one) and the baseline and target its values are
// placed between.
type fixture struct {
	k                *catalogue.KPI
	owner            catalogue.Owner
	labels           map[string]string // the series' labels
	baseline, target float64
	longSteps        int // samples of a situation that must outlast an alert's "for"
}

// sampleUnit is the label value the fixture's series has for each dimension;
// a ministry is an owner's id, as the exporter serves it (the KPI's owner).
var sampleUnit = map[string]string{
	catalogue.DimProvince: "Ha Noi",
	catalogue.DimCommune:  "Phuong Ba Dinh",
	catalogue.DimBlock:    catalogue.BlockGovernment,
}

func newFixture(cat *catalogue.Catalogue, k *catalogue.KPI, owner catalogue.Owner) *fixture {
	fx := &fixture{k: k, owner: owner, labels: map[string]string{c.LabelKPI: k.ID}}
	for _, d := range k.Dimensions {
		fx.labels[d] = sampleUnit[d]
		if declared, ok := cat.Dimension(d); ok {
			// A declared dimension's first allowed value, or any for free text.
			fx.labels[d] = "sample"
			if len(declared.Values) > 0 {
				fx.labels[d] = declared.Values[0]
			}
		}
	}
	if k.HasDimension(catalogue.DimMinistry) {
		fx.labels[catalogue.DimMinistry] = owner.ID
	}
	targets := unitTargets(k, nil)
	var unit map[string]string
	if sets := unitDimSets(k); len(sets) > 0 {
		// Take the first unit with targets of its own, in the most specific
		// selector's dimensions.
		for _, t := range k.Targets {
			if slices.Equal(unitDims(k, t.Unit), sets[0]) {
				for d, v := range t.Unit {
					fx.labels[d] = v
				}
				unit = t.Unit
				targets = unitTargets(k, t.Unit)
				break
			}
		}
	}
	fx.baseline = kpi.PlanFor(k, kpi.UnitKey(unit), time.Time{}).BaselineValue // the unit's own, if it has one
	fx.target = targets[0].Value
	if fx.target == fx.baseline {
		fx.target = fx.baseline + 1
	}
	fx.longSteps = int((BehindFor(k).Std()+testEvalInterval)/testSampleStep) + 1
	return fx
}

func unitTargets(k *catalogue.KPI, unit map[string]string) []catalogue.Target {
	var out []catalogue.Target
	for _, t := range k.Targets {
		if kpi.UnitKey(t.Unit) == kpi.UnitKey(unit) {
			out = append(out, t)
		}
	}
	return out
}

// span is target - baseline: positive for a KPI that should rise.
func (fx *fixture) span() float64 { return fx.target - fx.baseline }

// scenario is a situation of the fixture's series as the exporter judges
// it: the value it serves, its status and reason, the gap and forecast it
// serves (NaN where it serves none) and the checks the report fails.
type scenario struct {
	name           string
	status, reason string
	value          float64
	gap, forecast  float64
	suspect        []string
	// steps is how many samples it lasts: long enough for behind-plan and
	// forecast alerts to be due (or, if it raises none, to be wrongly due),
	// one evaluation interval for the alerts that fire without waiting. The
	// last sample, a failed scrape, is always at an evaluation.
	steps int
}

// shortSteps is one evaluation interval of samples.
const shortSteps = int(testEvalInterval/testSampleStep) + 1

func (fx *fixture) scenarios() []scenario {
	span, tol := fx.span(), fx.k.Tolerance
	nan := math.NaN()
	at := func(share float64) float64 { return fx.baseline + share*span }
	out := []scenario{
		{"behind plan", c.StatusAtRisk, c.ReasonBehindPlan, at(0.5), (tol + 0.2) * math.Abs(span), at(0.7), nil, 0},
		{"forecast to miss", c.StatusAtRisk, c.ReasonForecastMiss, at(0.8), nan, at(0.9), nil, 0},
		{"behind plan within tolerance", c.StatusOnTrack, "", at(0.8), tol / 2 * math.Abs(span), at(1.1), nil, 0},
		{"on track", c.StatusOnTrack, "", at(0.8), nan, at(1.2), nil, 0},
		{"achieved", c.StatusAchieved, "", at(1.1), nan, nan, nil, 0},
		{"missed", c.StatusMissed, "", at(0.5), 0.5 * math.Abs(span), nan, nil, 0},
		{"stale", c.StatusStale, "", at(0.8), nan, nan, nil, 0},
	}
	// A figure that cannot be right, in a series otherwise on track.
	var checks []string
	if fx.k.Cumulative {
		checks = append(checks, c.CheckFell)
	}
	if fx.k.Kind == catalogue.KindRatio {
		checks = append(checks, c.CheckRatio)
	}
	if fx.k.Alerts.MaxJump > 0 {
		checks = append(checks, c.CheckJump)
	}
	for _, check := range checks {
		out = append(out, scenario{"suspect: " + check, c.StatusOnTrack, "", at(0.8), nan, nan, []string{check}, 0})
	}
	for i := range out {
		out[i].steps = shortSteps
		if out[i].status == c.StatusAtRisk || out[i].status == c.StatusOnTrack && len(out[i].suspect) == 0 {
			out[i].steps = fx.longSteps
		}
	}
	return out
}

// evalTime is when the test looks at the alerts: the last sample, a failed
// scrape.
func (sc scenario) evalTime() time.Duration { return time.Duration(sc.steps-1) * testSampleStep }

// seriesText is metric{labels} for promtool, labels sorted.
func seriesText(metric string, labels map[string]string) string {
	keys := make([]string, 0, len(labels))
	for k := range labels {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s=%q", k, labels[k])
	}
	return metric + "{" + strings.Join(parts, ",") + "}"
}

// valuesText writes the fixture's samples of a constant series in promtool's
// notation: v repeated up to the evaluation time, where the scrape fails and
// the series is marked stale.
func (sc scenario) valuesText(v float64) string {
	return fmt.Sprintf("%sx%d stale", strconv.FormatFloat(v, 'g', -1, 64), sc.steps-2)
}

func (fx *fixture) input(sc scenario) []InputSeries {
	var in []InputSeries
	add := func(metric string, labels map[string]string, v float64) {
		in = append(in, InputSeries{Series: seriesText(metric, labels), Values: sc.valuesText(v)})
	}
	with := func(extra ...string) map[string]string {
		l := maps.Clone(fx.labels)
		for i := 0; i+1 < len(extra); i += 2 {
			l[extra[i]] = extra[i+1]
		}
		return l
	}
	// What the exporter serves of the series: its figures and its
	// judgement (no rule reads the per-KPI targets and plans any more).
	add(c.KPIValue, fx.labels, sc.value)
	add(c.KPIReportPeriod, fx.labels, testPeriod)
	if fx.k.Kind == catalogue.KindRatio {
		num := sc.value * testDenominator
		if slices.Contains(sc.suspect, c.CheckRatio) {
			num = 1.2 * testDenominator
		}
		add(c.KPINumerator, fx.labels, num)
		add(c.KPIDenominator, fx.labels, testDenominator)
	}
	if sc.reason != "" {
		add(c.KPIStatus, with(c.LabelStatus, sc.status, c.LabelReason, sc.reason), 1)
	} else {
		add(c.KPIStatus, with(c.LabelStatus, sc.status), 1)
	}
	if !math.IsNaN(sc.gap) {
		add(c.KPIPlanGap, fx.labels, sc.gap)
	}
	if !math.IsNaN(sc.forecast) {
		add(c.KPIForecast, fx.labels, sc.forecast)
	}
	for _, check := range sc.suspect {
		add(c.KPIDataSuspect, with(c.LabelCheck, check), 1)
	}
	return in
}

// province is the fixture's province, when it has one.
func (fx *fixture) province() (units.Province, bool) {
	name, ok := fx.labels[catalogue.DimProvince]
	if !ok {
		return units.Province{}, false
	}
	i := slices.IndexFunc(units.All(), func(p units.Province) bool { return p.Name == name })
	if i < 0 {
		return units.Province{}, false
	}
	return units.All()[i], true
}

// expected is which alerts (by check, for KPIDataSuspect) the exporter's
// judgement of the situation must raise.
func (fx *fixture) expected(sc scenario) map[string][]string {
	out := map[string][]string{}
	switch {
	case sc.status == c.StatusAtRisk && sc.reason == c.ReasonBehindPlan:
		out[AlertBehindPlan] = []string{""}
	case sc.status == c.StatusAtRisk && sc.reason == c.ReasonForecastMiss:
		out[AlertForecastMiss] = []string{""}
	case sc.status == c.StatusMissed:
		out[AlertTargetMissed] = []string{""}
	case sc.status == c.StatusStale:
		out[AlertReportOverdue] = []string{""}
	}
	if len(sc.suspect) > 0 {
		out[AlertDataSuspect] = sc.suspect
	}
	return out
}

var kpiAlertNames = []string{AlertBehindPlan, AlertForecastMiss, AlertTargetMissed, AlertReportOverdue, AlertDataSuspect}

func (fx *fixture) test(sc scenario, rules []Rule) (UnitTest, error) {
	want := fx.expected(sc)
	t := UnitTest{Name: fmt.Sprintf("%s: %s", fx.k.ID, sc.name), Interval: promDuration(testSampleStep), InputSeries: fx.input(sc)}
	for _, name := range kpiAlertNames {
		r, enabled := findRule(rules, name)
		at := AlertTest{EvalTime: promDuration(sc.evalTime()), Alertname: name, ExpAlerts: []ExpAlert{}}
		for _, check := range want[name] {
			if !enabled {
				break // the tier is switched off: it must not fire
			}
			exp, err := fx.expAlert(sc, r, check)
			if err != nil {
				return UnitTest{}, err
			}
			at.ExpAlerts = append(at.ExpAlerts, exp)
		}
		// An alert with a "for" is only pending an hour before it is met.
		if enabled && r.For > 0 && len(at.ExpAlerts) > 0 {
			t.AlertTests = append(t.AlertTests, AlertTest{EvalTime: promDuration(sc.evalTime() - 2*testEvalInterval), Alertname: name, ExpAlerts: []ExpAlert{}})
		}
		t.AlertTests = append(t.AlertTests, at)
	}
	return t, nil
}

func findRule(rules []Rule, alert string) (Rule, bool) {
	for _, r := range rules {
		if r.Alert == alert {
			return r, true
		}
	}
	return Rule{}, false
}

// where names the fixture's series as the descriptions do.
func (fx *fixture) where(vi bool) string {
	dims := slices.DeleteFunc(slices.Clone(fx.k.Dimensions), func(d string) bool { return d == catalogue.DimCommune })
	if len(dims) == 0 {
		return map[bool]string{false: "Nationwide", true: "Toàn quốc"}[vi]
	}
	parts := make([]string, len(dims))
	for i, d := range dims {
		parts[i] = fx.labels[d]
		switch {
		case d == catalogue.DimMinistry && vi:
			parts[i] = cmp.Or(fx.owner.NameVI, fx.owner.ID)
		case d == catalogue.DimMinistry:
			parts[i] = fx.owner.Name
		case d == catalogue.DimProvince && vi:
			if p, ok := fx.province(); ok {
				parts[i] = p.NameVI
			}
		case d == catalogue.DimBlock && vi:
			parts[i] = BlockNamesVI[fx.labels[d]]
		}
	}
	return strings.Join(parts, ", ")
}

var checkWords = map[string][2]string{
	c.CheckFell:  {"a cumulative figure below an earlier report", "số lũy kế thấp hơn kỳ trước"},
	c.CheckRatio: {"a numerator above its denominator", "tử số lớn hơn mẫu số"},
	c.CheckJump:  {"a change from the previous period beyond what is plausible", "thay đổi so với kỳ trước vượt mức hợp lý"},
}

func (fx *fixture) expAlert(sc scenario, r Rule, check string) (ExpAlert, error) {
	exp := ExpAlert{ExpLabels: maps.Clone(fx.labels), ExpAnnotations: map[string]string{}}
	maps.Copy(exp.ExpLabels, r.Labels)
	if check != "" {
		exp.ExpLabels[c.LabelCheck] = check
	}
	v := fx.format(sc.value)
	date := func(sec float64) string { return time.Unix(int64(sec), 0).UTC().Format(time.DateOnly) }
	var en, vi string
	switch r.Alert {
	case AlertBehindPlan:
		gap := fx.format(sc.gap)
		en = fmt.Sprintf("%s behind plan.", gap)
		vi = fmt.Sprintf("chậm %s so với kế hoạch.", gap)
	case AlertForecastMiss:
		f := fx.format(sc.forecast)
		en = fmt.Sprintf("heading for %s by the deadline, short of the target.", f)
		vi = fmt.Sprintf("dự báo đạt %s khi đến hạn, không đạt mục tiêu.", f)
	case AlertTargetMissed:
		en = fmt.Sprintf("%s when the deadline passed, short of the target.", v)
		vi = fmt.Sprintf("đạt %s khi hết hạn, không đạt mục tiêu.", v)
	case AlertReportOverdue:
		en = fmt.Sprintf("the latest report covers the period from %s.", date(testPeriod))
		vi = fmt.Sprintf("báo cáo gần nhất là kỳ từ %s.", date(testPeriod))
	case AlertDataSuspect:
		en = fmt.Sprintf("reported %s, %s.", v, checkWords[check][0])
		vi = fmt.Sprintf("báo cáo %s, %s.", v, checkWords[check][1])
	default:
		return exp, fmt.Errorf("no expectation for %s", r.Alert)
	}
	if fx.k.HasDimension(catalogue.DimCommune) {
		// One alert per province, counting its communes: here one.
		delete(exp.ExpLabels, catalogue.DimCommune)
		count := strings.NewReplacer("{{ $value }}", "1")
		words := [2]string{}
		if check != "" {
			words = [2]string{checkWords[check][0], checkWords[check][1]}
		}
		en = count.Replace(strings.Replace(communeText[r.Alert][0], checkText(false), words[0], 1))
		vi = count.Replace(strings.Replace(communeText[r.Alert][1], checkText(true), words[1], 1))
	}
	for key, tmpl := range r.Annotations {
		switch key {
		case AnnSummary, AnnSummaryVI, AnnDashboardURL, AnnRunbookURL:
			exp.ExpAnnotations[key] = tmpl // static: the same for every series
		case AnnDescription:
			exp.ExpAnnotations[key] = fx.where(false) + ": " + en
		case AnnDescriptionVI:
			exp.ExpAnnotations[key] = fx.where(true) + ": " + vi
		default:
			return exp, fmt.Errorf("%s: no expectation for annotation %q", r.Alert, key)
		}
	}
	return exp, nil
}

// format prints a KPI value as the annotation templates do.
func (fx *fixture) format(v float64) string { return formatValue(fx.k, v) }

// formatValue prints a value of KPI k as the annotation templates do:
// ratios through humanizePercentage, anything else humanized with its unit.
func formatValue(k *catalogue.KPI, v float64) string {
	if k.Kind == catalogue.KindRatio {
		return fmt.Sprintf("%.4g%%", v*100)
	}
	if k.Unit != "" {
		return humanize(v) + " " + k.Unit
	}
	return humanize(v)
}

// humanize formats v as the humanize template function of Prometheus (and
// vmalert) does, dividing and multiplying step by step as it does, so that
// generated tests can state annotations to the last digit.
func humanize(v float64) string {
	if v == 0 || math.IsNaN(v) || math.IsInf(v, 0) {
		return fmt.Sprintf("%.4g", v)
	}
	prefix := ""
	if math.Abs(v) >= 1 {
		for _, p := range []string{"k", "M", "G", "T", "P", "E", "Z", "Y"} {
			if math.Abs(v) < 1000 {
				break
			}
			prefix = p
			v /= 1000
		}
		return fmt.Sprintf("%.4g%s", v, prefix)
	}
	for _, p := range []string{"m", "u", "n", "p", "f", "a", "z", "y"} {
		if math.Abs(v) >= 1 {
			break
		}
		prefix = p
		v *= 1000
	}
	return fmt.Sprintf("%.4g%s", v, prefix)
}
