package alerts

import (
	"cmp"
	"fmt"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/kpiwatch/kpiwatch/catalogue"
	c "github.com/kpiwatch/kpiwatch/conventions"
	"github.com/kpiwatch/kpiwatch/kpi"
	"github.com/kpiwatch/kpiwatch/model"
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
// every testSampleStep (a one-minute scrape is finer still; the unit
// endpoint's ten minutes are within UnitsRideOut) and evaluated every
// testEvalInterval. In every test the last scrape fails: every series is
// marked stale at the evaluation time, and the alerts must ride it out.
const (
	testSampleStep   = 5 * time.Minute
	testEvalInterval = 6 * time.Hour
	testPeriod       = 1759276800 // 2025-10-01, the reported period's start
)

// testCommunes are the display names of the communes of the sample
// province the counted scenarios put in the counted state, worst first: one
// more than the exporter names.
var testCommunes = [model.WorstUnits + 1]string{"Xã Sóc Sơn", "Phường Hoàn Kiếm", "Xã Đông Anh", "Phường Ba Đình"}

// UnitTests generates, for every KPI, promtool tests that feed the rules the
// series the exporter serves in each situation it can judge (behind plan,
// forecast to miss, behind but within tolerance, on track, achieved, missed,
// stale, each implausible figure the KPI is checked for), at the whole and
// at the KPI's first roll-up level, and, for a KPI broken down by commune,
// the communes of a province in each state; and expect exactly the alerts,
// labels and annotations that the judgement calls for. Each situation lasts
// just over the KPI's "for", ends with a failed scrape, and is also checked
// shortly before "for" is met.
func UnitTests(cat *catalogue.Catalogue, groups []RuleGroup) (UnitTestFile, error) {
	f := UnitTestFile{RuleFiles: []string{RulesFile}, EvaluationInterval: promDuration(testEvalInterval)}
	var rules []Rule
	for _, g := range groups {
		if g.Name == KPIGroup {
			rules = g.Rules
		}
	}
	for i := range cat.KPIs {
		fx := newFixture(cat, &cat.KPIs[i])
		for _, sc := range fx.scenarios() {
			t, err := fx.test(sc, rules)
			if err != nil {
				return UnitTestFile{}, fmt.Errorf("kpi %s: %s: %w", fx.k.ID, sc.name, err)
			}
			f.Tests = append(f.Tests, t)
		}
	}
	completeness, err := CompletenessTests(cat, groups)
	f.Tests = append(f.Tests, completeness...)
	return f, err
}

// promDuration writes d as Prometheus does (1d, 2h).
func promDuration(d time.Duration) string { return catalogue.Duration(d).String() }

// fixture is one KPI's synthetic series: the roll-ups it is judged at (the
// whole, and its first roll-up level), its observed series on the unit
// endpoint, and the baseline and target its values are placed between.
type fixture struct {
	k                *catalogue.KPI
	cat              *catalogue.Catalogue
	info             map[string]string // the labels of its kpi_info series
	levels           []map[string]string
	unit             map[string]string // its observed series' labels
	baseline, target float64
	longSteps        int // samples of a situation that must outlast an alert's "for"
}

// sampleUnit is the label value the fixture's series have for each
// dimension; a ministry is an owner's id, as the exporter serves it (the
// KPI's owner).
var sampleUnit = map[string]string{
	catalogue.DimProvince: "Ha Noi",
	catalogue.DimCommune:  "Phuong Ba Dinh",
	catalogue.DimBlock:    catalogue.BlockGovernment,
}

func newFixture(cat *catalogue.Catalogue, k *catalogue.KPI) *fixture {
	fx := &fixture{k: k, cat: cat, info: infoOf(k), unit: map[string]string{c.LabelKPI: k.ID}}
	for _, d := range k.Dimensions {
		fx.unit[d] = sampleUnit[d]
		if declared, ok := cat.Dimension(d); ok {
			// A declared dimension's first allowed value, or any for free text.
			fx.unit[d] = "sample"
			if len(declared.Values) > 0 {
				fx.unit[d] = declared.Values[0]
			}
		}
		if d == catalogue.DimMinistry {
			fx.unit[d] = k.Owner
		}
	}
	fx.levels = []map[string]string{{c.LabelKPI: k.ID, c.LabelLevel: c.LevelWhole}}
	if d := unitLevel(k); d != c.LevelWhole {
		fx.levels = append(fx.levels, map[string]string{c.LabelKPI: k.ID, c.LabelLevel: d, d: fx.unit[d]})
	}
	fx.baseline = kpi.PlanFor(k, "", time.Time{}).BaselineValue
	fx.target = k.Targets[0].Value
	for _, t := range k.Targets {
		if len(t.Unit) == 0 {
			fx.target = t.Value
			break
		}
	}
	if fx.target == fx.baseline {
		fx.target = fx.baseline + 1
	}
	fx.longSteps = int((BehindFor(k).Std()+testEvalInterval)/testSampleStep) + 1
	return fx
}

// infoOf is the labels of the kpi_info series the exporter serves for k
// that the rules join (an empty label is no label).
func infoOf(k *catalogue.KPI) map[string]string {
	l := map[string]string{c.LabelKPI: k.ID, c.LabelName: k.Name, c.LabelNameVI: k.NameVI, c.LabelOwner: k.Owner,
		c.LabelKind: string(k.Kind), c.LabelUnit: k.Unit, c.LabelBlock: k.Block}
	maps.DeleteFunc(l, func(_, v string) bool { return v == "" })
	return l
}

// span is target - baseline: positive for a KPI that should rise.
func (fx *fixture) span() float64 { return fx.target - fx.baseline }

// scenario is a situation of the fixture's figures as the exporter judges
// them: the value it serves, its status and reason, the gap and forecast
// it serves (NaN where it serves none), the checks the report fails, or
// the communes of the province in each state (status or status/reason ->
// how many).
type scenario struct {
	name           string
	status, reason string
	value          float64
	gap, forecast  float64
	suspect        []string
	communes       map[string]float64
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
		{name: "behind plan", status: c.StatusAtRisk, reason: c.ReasonBehindPlan, value: at(0.5), gap: (tol + 0.2) * math.Abs(span), forecast: at(0.7)},
		{name: "forecast to miss", status: c.StatusAtRisk, reason: c.ReasonForecastMiss, value: at(0.8), gap: nan, forecast: at(0.9)},
		{name: "behind plan within tolerance", status: c.StatusOnTrack, value: at(0.8), gap: tol / 2 * math.Abs(span), forecast: at(1.1)},
		{name: "on track", status: c.StatusOnTrack, value: at(0.8), gap: nan, forecast: at(1.2)},
		{name: "achieved", status: c.StatusAchieved, value: at(1.1), gap: nan, forecast: nan},
		{name: "missed", status: c.StatusMissed, value: at(0.5), gap: 0.5 * math.Abs(span), forecast: nan},
		{name: "stale", status: c.StatusStale, value: at(0.8), gap: nan, forecast: nan},
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
		out = append(out, scenario{name: "suspect: " + check, status: c.StatusOnTrack, value: at(0.8), gap: nan, forecast: nan, suspect: []string{check}})
	}
	if counted(fx.k) {
		// The communes of a province in each state, beside ten on track;
		// the province's own roll-up is not judged so.
		atRisk := c.StatusAtRisk + "/"
		for _, s := range []struct{ name, state string }{
			{"communes behind plan", atRisk + c.ReasonBehindPlan},
			{"communes at risk, no reason served", atRisk},
			{"communes forecast to miss", atRisk + c.ReasonForecastMiss},
			{"communes missed", c.StatusMissed},
			{"communes stale", c.StatusStale},
			{"no commune lagging", c.StatusAchieved},
		} {
			out = append(out, scenario{name: s.name, communes: map[string]float64{c.StatusOnTrack: 10, s.state: float64(len(testCommunes))}})
		}
	}
	for i := range out {
		out[i].steps = shortSteps
		if out[i].waits() {
			out[i].steps = fx.longSteps
		}
	}
	return out
}

// waits reports whether the scenario must outlast "for": it raises a
// behind-plan or forecast alert, or is on track and must not raise one
// however long it lasts.
func (sc scenario) waits() bool {
	if sc.communes != nil {
		for state := range sc.communes {
			if strings.HasPrefix(state, c.StatusAtRisk) {
				return true
			}
		}
		return sc.communes[c.StatusAchieved] > 0
	}
	return sc.status == c.StatusAtRisk || sc.status == c.StatusOnTrack && len(sc.suspect) == 0
}

// evalTime is when the test looks at the alerts: the last sample, a failed
// scrape.
func (sc scenario) evalTime() time.Duration { return time.Duration(sc.steps-1) * testSampleStep }

// seriesText is metric{labels} for promtool, labels sorted.
func seriesText(metric string, labels map[string]string) string {
	keys := slices.Sorted(maps.Keys(labels))
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s=%q", k, labels[k])
	}
	return metric + "{" + strings.Join(parts, ",") + "}"
}

// valuesText writes the samples of a constant series in promtool's
// notation: v repeated up to the evaluation time, where the scrape fails
// and the series is marked stale.
func (sc scenario) valuesText(v float64) string {
	return fmt.Sprintf("%sx%d stale", strconv.FormatFloat(v, 'g', -1, 64), sc.steps-2)
}

func with(l map[string]string, extra ...string) map[string]string {
	out := maps.Clone(l)
	for i := 0; i+1 < len(extra); i += 2 {
		out[extra[i]] = extra[i+1]
	}
	return out
}

func (fx *fixture) input(sc scenario) []InputSeries {
	var in []InputSeries
	add := func(metric string, labels map[string]string, v float64) {
		in = append(in, InputSeries{Series: seriesText(metric, labels), Values: sc.valuesText(v)})
	}
	add(c.KPIInfo, fx.info, 1)
	// The names the alerts look up: of the units of the roll-ups and of
	// the observed series.
	for _, l := range append(slices.Clone(fx.levels), with(fx.unit, c.LabelLevel, unitLevel(fx.k))) {
		if un := nameOf(fx.cat, l[c.LabelLevel], l[l[c.LabelLevel]]); un.metric != "" && !slices.ContainsFunc(in, func(s InputSeries) bool {
			return s.Series == seriesText(un.metric, un.labels)
		}) {
			add(un.metric, un.labels, 1)
		}
	}
	if sc.communes != nil {
		l := fx.levels[len(fx.levels)-1]
		for _, state := range slices.Sorted(maps.Keys(sc.communes)) {
			status, reason, _ := strings.Cut(state, "/")
			sl := with(l, c.LabelStatus, status)
			if reason != "" {
				sl[c.LabelReason] = reason
			}
			add(c.RollupUnits, sl, sc.communes[state])
			if slices.Contains(model.NamedStatuses, status) {
				add(c.RollupWorstUnits, with(sl, c.LabelUnits, strings.Join(testCommunes[:model.WorstUnits], ", ")), 1)
			}
		}
		return in
	}
	// What the main endpoint serves of each roll-up: its figures and its
	// judgement (no rule reads targets or plans).
	for _, l := range fx.levels {
		add(c.RollupValue, l, sc.value)
		add(c.RollupReportPeriod, l, testPeriod)
		status := with(l, c.LabelStatus, sc.status)
		if sc.reason != "" {
			status[c.LabelReason] = sc.reason
		}
		add(c.RollupStatus, status, 1)
		if worst := fx.worstOf(l, sc.status); worst != "" {
			add(c.RollupWorstUnits, with(l, c.LabelStatus, sc.status, c.LabelUnits, worst), 1)
		}
		if !math.IsNaN(sc.gap) {
			add(c.RollupPlanGap, l, sc.gap)
		}
		if !math.IsNaN(sc.forecast) {
			add(c.RollupForecast, l, sc.forecast)
		}
	}
	// What the unit endpoint serves of the observed series.
	if len(sc.suspect) > 0 {
		add(c.KPIValue, fx.unit, sc.value)
		for _, check := range sc.suspect {
			add(c.KPIDataSuspect, with(fx.unit, c.LabelCheck, check), 1)
		}
	}
	return in
}

// firing is an alert the scenario must raise: its labels (before the rule's
// and kpi_info's), and the figures its annotations print.
type firing struct {
	labels     map[string]string
	value      string    // the alert's value as the description prints it
	where      [2]string // the unit, as the description names it in English and Vietnamese
	check      string    // the failed check of a data-suspect alert
	countsUnit bool
	// worst are the worst units a counting alert names, as its template
	// (in English and Vietnamese) and as Prometheus expands it.
	worstTmpl, worst [2]string
}

// worstText is what the description of an alert of j says of the worst
// units the exporter names (names, joined), as its template and expanded.
func (f *firing) worstText(j judgement, names string) {
	for i, lead := range j.worstWords {
		f.worstTmpl[i] = j.tmplWorst(lead)
		if names != "" {
			f.worst[i] = " " + lead + ": " + names + "."
		}
	}
}

// worstOf is what the exporter names as the worst units of the roll-up
// labelled l in status, where the scenario puts every roll-up in it: the
// whole names the unit of the level below it, no other roll-up any unit
// (the fixture has none finer).
func (fx *fixture) worstOf(l map[string]string, status string) string {
	if l[c.LabelLevel] != c.LevelWhole || len(fx.levels) < 2 || !slices.Contains(model.NamedStatuses, status) {
		return ""
	}
	below := fx.levels[1]
	return model.UnitName(fx.cat, below[c.LabelLevel], below[below[c.LabelLevel]])
}

// unitName is how the descriptions name a unit of a level: the info series
// the rules look its names up in (no metric for none) and the names they
// print in English and Vietnamese.
type unitName struct {
	metric string
	labels map[string]string
	where  [2]string
}

// nameOf names a unit of a level (or an owner, by its id) as the alerts'
// descriptions do: the whole in the deployment's words, an owner or
// ministry by its names in kpi_owner_info, a unit of a listed level by its
// name_vi in kpi_unit_info, any other by its label.
func nameOf(cat *catalogue.Catalogue, level, unit string) unitName {
	switch level {
	case c.LevelWhole:
		return unitName{where: namingOf(cat).whole}
	case catalogue.DimMinistry, c.LabelOwner:
		o, _ := cat.Owner(unit)
		l := map[string]string{c.LabelOwner: o.ID, c.LabelName: o.Name, c.LabelNameVI: o.NameVI}
		maps.DeleteFunc(l, func(_, v string) bool { return v == "" })
		return unitName{c.OwnerInfo, l, [2]string{o.Name, cmp.Or(o.NameVI, o.Name)}}
	}
	if l := cat.UnitLevel(level); l != nil {
		if u, ok := l.Unit(unit); ok {
			return unitName{c.UnitInfo, map[string]string{c.LabelLevel: level, c.LabelUnit: unit, c.LabelNameVI: u.NameVI}, [2]string{unit, u.NameVI}}
		}
	}
	return unitName{where: [2]string{unit, unit}}
}

// expected lists the alerts the exporter's judgement of the situation must
// raise, by alert name.
func (fx *fixture) expected(sc scenario) map[string][]firing {
	out := map[string][]firing{}
	if sc.communes != nil {
		l := fx.levels[len(fx.levels)-1]
		where := nameOf(fx.cat, l[c.LabelLevel], l[l[c.LabelLevel]]).where
		for state := range sc.communes {
			var alert string
			switch state {
			case c.StatusAtRisk + "/" + c.ReasonBehindPlan, c.StatusAtRisk + "/":
				alert = AlertBehindPlan
			case c.StatusAtRisk + "/" + c.ReasonForecastMiss:
				alert = AlertForecastMiss
			case c.StatusMissed:
				alert = AlertTargetMissed
			case c.StatusStale:
				alert = AlertReportOverdue
			default:
				continue
			}
			j := judgementOf(alert)
			f := firing{labels: l, value: fmt.Sprint(len(testCommunes)), where: where, countsUnit: true}
			if !j.waits {
				f.worstText(j, strings.Join(testCommunes[:model.WorstUnits], ", "))
			}
			out[alert] = append(out[alert], f)
		}
		return out
	}
	var alert string
	v := sc.value
	switch {
	case sc.status == c.StatusAtRisk && sc.reason == c.ReasonBehindPlan:
		alert, v = AlertBehindPlan, sc.gap
	case sc.status == c.StatusAtRisk && sc.reason == c.ReasonForecastMiss:
		alert, v = AlertForecastMiss, sc.forecast
	case sc.status == c.StatusMissed:
		alert = AlertTargetMissed
	case sc.status == c.StatusStale:
		alert = AlertReportOverdue
	}
	if alert != "" {
		j := judgementOf(alert)
		for _, l := range fx.levels {
			f := firing{labels: l, value: formatValue(fx.k, v), where: nameOf(fx.cat, l[c.LabelLevel], l[l[c.LabelLevel]]).where}
			if alert == AlertReportOverdue {
				f.value = time.Unix(testPeriod, 0).UTC().Format(time.DateOnly)
			}
			// The alert on the whole names the unit of the level below in
			// the same state.
			if !j.waits {
				f.worstText(j, fx.worstOf(l, sc.status))
			}
			out[alert] = append(out[alert], f)
		}
	}
	for _, check := range sc.suspect {
		f := firing{labels: with(fx.unit, c.LabelCheck, check), value: formatValue(fx.k, sc.value), where: nameOf(fx.cat, unitLevel(fx.k), fx.unit[unitLevel(fx.k)]).where, check: check}
		if counted(fx.k) {
			delete(f.labels, catalogue.DimCommune)
			f.value, f.countsUnit = "1", true
		}
		out[AlertDataSuspect] = append(out[AlertDataSuspect], f)
	}
	return out
}

var kpiAlertNames = []string{AlertBehindPlan, AlertForecastMiss, AlertTargetMissed, AlertReportOverdue, AlertDataSuspect}

func (fx *fixture) test(sc scenario, rules []Rule) (UnitTest, error) {
	want := fx.expected(sc)
	t := UnitTest{Name: fmt.Sprintf("%s: %s", fx.k.ID, sc.name), Interval: promDuration(testSampleStep), InputSeries: fx.input(sc)}
	for _, name := range kpiAlertNames {
		at := AlertTest{EvalTime: promDuration(sc.evalTime()), Alertname: name, ExpAlerts: []ExpAlert{}}
		waits := false
		for _, f := range want[name] {
			r, enabled := findRule(rules, name, fx.k.ID, f)
			if !enabled {
				continue // the tier is switched off: it must not fire
			}
			exp, err := fx.expAlert(r, f)
			if err != nil {
				return UnitTest{}, err
			}
			at.ExpAlerts = append(at.ExpAlerts, exp)
			waits = waits || r.For > 0
		}
		// An alert with a "for" is only pending an hour before it is met.
		if waits {
			t.AlertTests = append(t.AlertTests, AlertTest{EvalTime: promDuration(sc.evalTime() - 2*testEvalInterval), Alertname: name, ExpAlerts: []ExpAlert{}})
		}
		t.AlertTests = append(t.AlertTests, at)
	}
	return t, nil
}

// judgementOf is the judgement of an alert.
func judgementOf(alert string) judgement {
	return judgements[slices.IndexFunc(judgements, func(j judgement) bool { return j.alert == alert })]
}

// findRule finds the rule of an alert whose class holds the KPI, that
// counts units if f does, of f's check.
func findRule(rules []Rule, alert, kpiID string, f firing) (Rule, bool) {
	for _, r := range rules {
		_, counts := r.Labels[c.LabelCounted]
		if r.Alert == alert && counts == f.countsUnit && r.Labels[c.LabelCheck] == f.check && slices.Contains(r.KPIs, kpiID) {
			return r, true
		}
	}
	return Rule{}, false
}

// expAlert is the alert f as rule r raises it: f's labels with the rule's
// and kpi_info's, and the rule's annotations as Prometheus expands them.
func (fx *fixture) expAlert(r Rule, f firing) (ExpAlert, error) {
	labels := maps.Clone(f.labels)
	maps.Copy(labels, r.Labels)
	for _, l := range infoLabels {
		if v, ok := fx.info[l]; ok {
			labels[l] = v
		}
	}
	ann, err := expand(namingOf(fx.cat), r.Annotations, labels, f)
	return ExpAlert{ExpLabels: labels, ExpAnnotations: ann}, err
}

// expand fills the annotation templates of a rule for an alert with the
// given labels, as Prometheus does: the generated templates hold only the
// pieces below, and whatever is left unexpanded is an error.
func expand(n naming, tmpl map[string]string, labels map[string]string, f firing) (map[string]string, error) {
	pairs := []string{
		n.tmplLevel(false), f.where[0], n.tmplLevel(true), f.where[1],
		tmplOwner("$labels."+c.LabelOwner, false), f.where[0], tmplOwner("$labels."+c.LabelOwner, true), f.where[1],
	}
	if f.worstTmpl[0] != "" {
		pairs = append(pairs, f.worstTmpl[0], f.worst[0], f.worstTmpl[1], f.worst[1])
	}
	// The alerts that wait pending name a unit by its label.
	byLabel := f.where
	if level := labels[c.LabelLevel]; level != "" && level != c.LevelWhole {
		byLabel = [2]string{labels[level], labels[level]}
	}
	lo := n.labelsOnly()
	pairs = append(pairs, lo.tmplLevel(false), byLabel[0], lo.tmplLevel(true), byLabel[1])
	// The names of units of a known level.
	for _, level := range append([]string{catalogue.DimMinistry}, n.listed...) {
		pairs = append(pairs, n.tmplUnit(level, false), f.where[0], n.tmplUnit(level, true), f.where[1])
	}
	pairs = append(pairs,
		tmplValue, f.value, tmplDate, f.value, "{{ $value }}", f.value,
		tmplNameVI, cmp.Or(labels[c.LabelNameVI], labels[c.LabelName]))
	for _, l := range slices.Sorted(maps.Keys(labels)) {
		pairs = append(pairs, "{{ $labels."+l+" }}", labels[l])
	}
	r := strings.NewReplacer(pairs...)
	out := map[string]string{}
	for key, t := range tmpl {
		out[key] = r.Replace(t)
		if strings.Contains(out[key], "{{") {
			return nil, fmt.Errorf("annotation %s: no expectation for %q", key, out[key])
		}
	}
	return out, nil
}

// formatValue prints a value of KPI k as the annotation templates do:
// ratios and milestones through humanizePercentage, anything else
// humanized with its unit.
func formatValue(k *catalogue.KPI, v float64) string {
	if k.Kind == catalogue.KindRatio || k.Kind == catalogue.KindMilestone {
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
