package alerts

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/kpiwatch/kpiwatch/catalogue"
	c "github.com/kpiwatch/kpiwatch/conventions"
	"github.com/kpiwatch/kpiwatch/kpi"
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

// The generated tests sample every series daily and evaluate the rules daily
// (an instant query only sees a sample of the last 5 minutes, so the two
// go together): a day is fine enough for monthly figures and keeps a month
// of history cheap to evaluate.
const (
	testStep        = 24 * time.Hour
	testDeadlineIn  = 100 * 24 * time.Hour // from the evaluation time
	testDenominator = 1000.0
)

// UnitTests generates, for every KPI, promtool tests that feed the rules the
// series the exporter would serve in a few situations (behind plan with a
// flat trend, on track and moving the right way towards the target, missed,
// stale, achieved, and each implausible figure the KPI is checked for) and
// expect exactly the alerts, labels and annotations that those situations
// call for. The expectations are worked out here in Go from the situation,
// independently of the PromQL, so a rule that drifts from the semantics
// fails the test.
func UnitTests(cat *catalogue.Catalogue, groups []RuleGroup) (UnitTestFile, error) {
	f := UnitTestFile{RuleFiles: []string{RulesFile}, EvaluationInterval: promDuration(testStep)}
	for i := range cat.KPIs {
		k := &cat.KPIs[i]
		var rules []Rule
		for _, g := range groups {
			if g.Name == GroupName(k.ID) {
				rules = g.Rules
			}
		}
		owner, _ := cat.Owner(k.Owner)
		fx := newFixture(k, owner)
		for _, sc := range fx.scenarios() {
			t, err := fx.test(sc, rules)
			if err != nil {
				return UnitTestFile{}, fmt.Errorf("kpi %s: %s: %w", k.ID, sc.name, err)
			}
			f.Tests = append(f.Tests, t)
		}
	}
	return f, nil
}

// promDuration writes d as Prometheus does (1d, 2h).
func promDuration(d time.Duration) string { return catalogue.Duration(d).String() }

// fixture is one KPI's synthetic series: its labels and its figures (the
// unit's own where the KPI has unit targets, with different KPI-wide figures
// beside them that the rules must not pick).
type fixture struct {
	k                         *catalogue.KPI
	owner                     catalogue.Owner
	labels                    map[string]string // the series' labels
	unitDims                  []string          // dimensions of its unit's own figures, if any
	baseline, target, planNow float64
	steps                     int // samples before the evaluation time
}

// sampleUnit is the label value the fixture's series has for each dimension;
// a ministry is an owner's id, as the exporter serves it (the KPI's owner).
var sampleUnit = map[string]string{
	catalogue.DimProvince: "Ha Noi",
	catalogue.DimCommune:  "Phuong Ba Dinh",
	catalogue.DimBlock:    catalogue.BlockGovernment,
}

func newFixture(k *catalogue.KPI, owner catalogue.Owner) *fixture {
	fx := &fixture{k: k, owner: owner, labels: map[string]string{c.LabelKPI: k.ID}}
	for _, d := range k.Dimensions {
		fx.labels[d] = sampleUnit[d]
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
				fx.unitDims = sets[0]
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
	fx.planNow = fx.baseline + 0.8*fx.span()
	fx.steps = int(BehindFor(k).Std()/testStep) + 2
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

// scenario is a situation of the fixture's series: its values and report
// periods step by step (the last at the evaluation time) and the status the
// exporter gives it. Every condition it sets up holds from the second sample
// on, so an alert's "for" is met by the evaluation time.
type scenario struct {
	name    string
	status  string
	values  []float64
	periods []float64
	// deadlineIn is how far the governing deadline is after the evaluation
	// time: testDeadlineIn, or negative for a deadline that has passed.
	deadlineIn time.Duration
}

func constant(n int, v float64) []float64 {
	out := make([]float64, n)
	for i := range out {
		out[i] = v
	}
	return out
}

// newReportAfterFirst is a report period that moves on after the first
// sample, so that the series has a trend.
func (fx *fixture) newReportAfterFirst(n int) []float64 {
	out := constant(n, 86400)
	out[0] = 0
	return out
}

func (fx *fixture) scenarios() []scenario {
	n := fx.steps + 1
	span := fx.span()
	behind := fx.planNow - (fx.k.Tolerance+0.25)*span
	// On track: at plan, and moving towards the target fast enough to pass
	// it by a full span at the deadline (falling, for a lower-is-better KPI).
	perStep := (fx.target + span - fx.planNow) / float64(testDeadlineIn/testStep)
	rising := make([]float64, n)
	for i := range rising {
		rising[i] = fx.planNow - perStep*float64(n-1-i)
	}
	out := []scenario{
		{"behind plan, flat", c.StatusAtRisk, constant(n, behind), fx.newReportAfterFirst(n), testDeadlineIn},
		{"on track, moving the right way", c.StatusOnTrack, rising, fx.newReportAfterFirst(n), testDeadlineIn},
		{"achieved", c.StatusAchieved, constant(n, fx.target+0.1*span), fx.newReportAfterFirst(n), testDeadlineIn},
		{"missed", c.StatusMissed, constant(n, fx.target-0.5*span), fx.newReportAfterFirst(n), -10 * 24 * time.Hour},
		// Stale: the exporter says so, however the figures look.
		{"stale", c.StatusStale, constant(n, fx.planNow), constant(n, 0), testDeadlineIn},
		// Late but within grace: the latest report is old, yet the exporter
		// does not call it stale, so nothing is overdue.
		{"report late within grace", c.StatusOnTrack, constant(n, fx.planNow), constant(n, 0), testDeadlineIn},
	}
	if fx.k.Cumulative {
		fell := constant(n, fx.planNow-0.1*math.Abs(span))
		fell[0] = fx.planNow
		out = append(out, scenario{"cumulative figure fell", c.StatusOnTrack, fell, constant(n, 0), testDeadlineIn})
	}
	if fx.k.Kind == catalogue.KindRatio {
		out = append(out, scenario{"numerator above denominator", c.StatusOnTrack, constant(n, 1.2), constant(n, 0), testDeadlineIn})
	}
	if fx.k.Alerts.MaxJump > 0 {
		// The previous report one cadence period back, the latest a jump
		// of twice the plausible change from it.
		back := int(periodLength(fx.k.Cadence.Period).Std() / testStep)
		from := fx.planNow
		if from == 0 {
			from = 1
		}
		jump := constant(back+3, from)
		for i := back + 1; i < len(jump); i++ {
			jump[i] = from * (1 + 2*fx.k.Alerts.MaxJump)
		}
		out = append(out, scenario{"implausible jump", c.StatusOnTrack, jump, constant(back+3, 0), testDeadlineIn})
	}
	return out
}

// evalTime is when the test looks at the alerts: the last sample.
func (sc scenario) evalTime() time.Duration { return time.Duration(len(sc.values)-1) * testStep }

// deadline is the governing deadline in the test, seconds since the epoch.
func (fx *fixture) deadline(sc scenario) float64 {
	return (sc.evalTime() + sc.deadlineIn).Seconds()
}

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

// valuesText writes values in promtool's notation, runs of one value as "vxN".
func valuesText(values []float64) string {
	var parts []string
	for i := 0; i < len(values); {
		j := i
		for j+1 < len(values) && values[j+1] == values[i] {
			j++
		}
		v := strconv.FormatFloat(values[i], 'g', -1, 64)
		if j > i {
			v += "x" + strconv.Itoa(j-i)
		}
		parts = append(parts, v)
		i = j + 1
	}
	return strings.Join(parts, " ")
}

func (fx *fixture) input(sc scenario) []InputSeries {
	n := len(sc.values)
	var in []InputSeries
	add := func(metric string, labels map[string]string, values []float64) {
		in = append(in, InputSeries{Series: seriesText(metric, labels), Values: valuesText(values)})
	}
	// The per-KPI figures: the unit's own (if any) and the KPI-wide ones,
	// which for a unit series are decoys shifted by a span.
	wide := map[string]string{c.LabelKPI: fx.k.ID}
	figures := func(labels map[string]string, shift float64) {
		add(c.KPIBaseline, labels, constant(n, fx.baseline-shift))
		add(c.KPITarget, labels, constant(n, fx.target+shift))
		add(c.KPIPlan, labels, constant(n, fx.planNow+shift))
		add(c.KPITargetDeadline, labels, constant(n, fx.deadline(sc)+shift*86400))
	}
	if len(fx.unitDims) > 0 {
		unit := map[string]string{c.LabelKPI: fx.k.ID}
		for _, d := range fx.unitDims {
			unit[d] = fx.labels[d]
		}
		figures(unit, 0)
		figures(wide, fx.span())
	} else {
		figures(wide, 0)
	}
	add(c.KPIValue, fx.labels, sc.values)
	add(c.KPIReportPeriod, fx.labels, sc.periods)
	if fx.k.Kind == catalogue.KindRatio {
		num := make([]float64, n)
		for i, v := range sc.values {
			num[i] = v * testDenominator
		}
		add(c.KPINumerator, fx.labels, num)
		add(c.KPIDenominator, fx.labels, constant(n, testDenominator))
	}
	status := map[string]string{c.LabelStatus: sc.status}
	for k, v := range fx.labels {
		status[k] = v
	}
	add(c.KPIStatus, status, constant(n, 1))
	if fx.k.HasDimension(catalogue.DimMinistry) {
		info := map[string]string{c.LabelOwner: fx.owner.ID, c.LabelName: fx.owner.Name, c.LabelBlock: fx.owner.Block}
		if fx.owner.NameVI != "" { // the exporter leaves empty labels out
			info[c.LabelNameVI] = fx.owner.NameVI
		}
		add(c.OwnerInfo, info, constant(n, 1))
	}
	return in
}

// facts are what the situation amounts to at the evaluation time, worked out
// in Go.
type facts struct {
	value, plan, target, gap, forecast float64
	hasTrend                           bool
	high, previous                     float64 // highest in the trend window; one cadence period back
}

func (fx *fixture) facts(sc scenario) facts {
	n := len(sc.values)
	f := facts{value: sc.values[n-1], plan: fx.planNow, target: fx.target}
	f.gap = f.plan - f.value
	if fx.k.Direction == catalogue.LowerIsBetter {
		f.gap = -f.gap
	}
	window := int(TrendWindow(fx.k.Cadence.Period).Std() / testStep)
	first := max(0, n-1-window) // Prometheus 2.42 ranges include their start
	f.high = slices.Max(sc.values[first:])
	f.hasTrend = slices.Min(sc.periods[first:]) != slices.Max(sc.periods[first:])
	if f.hasTrend {
		f.forecast = f.value + slope(sc.values[first:])*max(sc.deadlineIn, 0).Seconds()
	}
	if back := int(periodLength(fx.k.Cadence.Period).Std() / testStep); n-1-back >= 0 {
		f.previous = sc.values[n-1-back]
	} else {
		f.previous = math.NaN()
	}
	return f
}

// slope is the least-squares slope per second of values a step apart.
func slope(values []float64) float64 {
	var sx, sy, sxx, sxy float64
	for i, v := range values {
		x := float64(i) * testStep.Seconds()
		sx, sy, sxx, sxy = sx+x, sy+v, sxx+x*x, sxy+x*v
	}
	n := float64(len(values))
	return (n*sxy - sx*sy) / (n*sxx - sx*sx)
}

// expected is which alerts (by check, for KPIDataSuspect) the situation must
// raise.
func (fx *fixture) expected(sc scenario, f facts) map[string][]string {
	k := fx.k
	worse := func(a, b float64) bool { return !kpi.Met(k.Direction, a, b) }
	out := map[string][]string{}
	if sc.status == c.StatusAtRisk && f.gap/math.Abs(fx.span()) > k.Tolerance {
		out[AlertBehindPlan] = []string{""}
	}
	if (sc.status == c.StatusOnTrack || sc.status == c.StatusAtRisk) && f.hasTrend && worse(f.forecast, f.target) {
		out[AlertForecastMiss] = []string{""}
	}
	if sc.status == c.StatusMissed {
		out[AlertTargetMissed] = []string{""}
	}
	if sc.status == c.StatusStale {
		out[AlertReportOverdue] = []string{""}
	}
	if k.Cumulative && f.value < f.high {
		out[AlertDataSuspect] = append(out[AlertDataSuspect], CheckFell)
	}
	if k.Kind == catalogue.KindRatio && f.value*testDenominator > testDenominator {
		out[AlertDataSuspect] = append(out[AlertDataSuspect], CheckRatio)
	}
	if k.Alerts.MaxJump > 0 && !math.IsNaN(f.previous) && math.Abs(f.value-f.previous) > k.Alerts.MaxJump*math.Abs(f.previous) {
		out[AlertDataSuspect] = append(out[AlertDataSuspect], CheckJump)
	}
	return out
}

var kpiAlertNames = []string{AlertBehindPlan, AlertForecastMiss, AlertTargetMissed, AlertReportOverdue, AlertDataSuspect}

func (fx *fixture) test(sc scenario, rules []Rule) (UnitTest, error) {
	f := fx.facts(sc)
	want := fx.expected(sc, f)
	t := UnitTest{Name: fmt.Sprintf("%s: %s", fx.k.ID, sc.name), Interval: promDuration(testStep), InputSeries: fx.input(sc)}
	for _, name := range kpiAlertNames {
		at := AlertTest{EvalTime: promDuration(sc.evalTime()), Alertname: name, ExpAlerts: []ExpAlert{}}
		for _, check := range want[name] {
			r, ok := findRule(rules, name, check)
			if !ok {
				continue // the tier is switched off: it must not fire
			}
			exp, err := fx.expAlert(sc, f, r)
			if err != nil {
				return UnitTest{}, err
			}
			at.ExpAlerts = append(at.ExpAlerts, exp)
		}
		t.AlertTests = append(t.AlertTests, at)
	}
	return t, nil
}

func findRule(rules []Rule, alert, check string) (Rule, bool) {
	for _, r := range rules {
		if r.Alert == alert && r.Labels[LabelCheck] == check {
			return r, true
		}
	}
	return Rule{}, false
}

func (fx *fixture) expAlert(sc scenario, f facts, r Rule) (ExpAlert, error) {
	exp := ExpAlert{ExpLabels: map[string]string{}, ExpAnnotations: map[string]string{}}
	for k, v := range fx.labels {
		exp.ExpLabels[k] = v
	}
	for k, v := range r.Labels {
		exp.ExpLabels[k] = v
	}
	shortfall := kpi.Shortfall(fx.k.Direction, f.value, f.target)
	if r.Alert == AlertBehindPlan {
		shortfall = f.gap
	}
	previous := f.previous
	if r.Labels[LabelCheck] == CheckFell {
		previous = f.high
	}
	for key, tmpl := range r.Annotations {
		var v string
		switch key {
		case AnnSummary, AnnSummaryVI:
			v = strings.ReplaceAll(tmpl, ownerName(catalogue.DimMinistry, c.LabelName), fx.owner.Name)
			v = strings.ReplaceAll(v, ownerName(catalogue.DimMinistry, c.LabelNameVI), cmp.Or(fx.owner.NameVI, fx.owner.ID))
			for d, lv := range fx.labels {
				v = strings.ReplaceAll(v, "{{ $labels."+d+" }}", lv)
			}
		case AnnDashboardURL, AnnRunbookURL:
			v = tmpl
		case AnnValue:
			v = fx.format(f.value)
		case AnnPlan:
			v = fx.format(f.plan)
		case AnnTarget:
			v = fx.format(f.target)
		case AnnShortfall:
			v = fx.format(shortfall)
		case AnnForecast:
			v = fx.format(f.forecast)
		case AnnPrevious:
			v = fx.format(previous)
		case AnnDenominator:
			v = humanize(testDenominator)
		case AnnDaysLeft:
			v = fmt.Sprintf("%.0f", sc.deadlineIn.Hours()/24)
		case AnnDaysOverdue:
			if sc.deadlineIn < 0 {
				v = fmt.Sprintf("%.0f", -sc.deadlineIn.Hours()/24)
			}
		case AnnDeadline:
			v = time.Unix(int64(fx.deadline(sc))-1, 0).UTC().Format(time.DateOnly)
		case AnnLastReport:
			v = time.Unix(int64(sc.periods[len(sc.periods)-1]), 0).UTC().Format(time.DateOnly)
		default:
			return exp, fmt.Errorf("%s: no expectation for annotation %q", r.Alert, key)
		}
		exp.ExpAnnotations[key] = v
	}
	return exp, nil
}

// format prints a KPI value as the annotation templates do.
func (fx *fixture) format(v float64) string {
	if fx.k.Kind == catalogue.KindRatio {
		return fmt.Sprintf("%.4g%%", v*100)
	}
	if fx.k.Unit != "" {
		return humanize(v) + " " + fx.k.Unit
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
