package alerts

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/kpiwatch/kpiwatch/catalogue"
	c "github.com/kpiwatch/kpiwatch/conventions"
)

// Annotation keys, as in the monitoring mixins: a summary that is the same
// for every alert of a notification group (alert name, KPI, owner), a
// description of the one figure, each in English and Vietnamese, and links.
const (
	AnnSummary       = "summary"
	AnnSummaryVI     = "summary_vi"
	AnnDescription   = "description"
	AnnDescriptionVI = "description_vi"
	AnnDashboardURL  = "dashboard_url"
	AnnRunbookURL    = "runbook_url"
)

// raise is the severity one step above s: a missed deadline weighs more than
// the slippage that led to it.
func raise(s string) string {
	switch s {
	case "info":
		return "warning"
	default:
		return "critical"
	}
}

// RideOut is how far back an alert looks for the latest sample of a series
// of the main endpoint: a failed scrape (which marks every series stale) or
// a restart of the exporter within it neither resolves a firing alert nor
// restarts a pending one's "for" clock. At a one-minute scrape an alert
// reads at most ten samples of each series it selects.
const RideOut = "10m"

// UnitsRideOut is the same for the unit endpoint (c.UnitsPath), scraped
// every ten minutes: two scrapes, so one failed scrape is ridden out.
const UnitsRideOut = "20m"

// latest is the newest sample of expr within RideOut.
func latest(expr string) string { return fmt.Sprintf("last_over_time(%s[%s])", expr, RideOut) }

// latestUnit is the newest sample of a unit-endpoint expr within
// UnitsRideOut.
func latestUnit(expr string) string {
	return fmt.Sprintf("last_over_time(%s[%s])", expr, UnitsRideOut)
}

// infoLabels are the labels a KPI alert takes from kpi_info: the owner it
// routes to, the names its summary prints, and the kind and unit its
// figures are printed in.
var infoLabels = []string{c.LabelOwner, c.LabelName, c.LabelNameVI, c.LabelKind, c.LabelUnit}

// withInfo joins to each series of expr (labelled kpi) the labels of its
// KPI's kpi_info series. One kpi_info series is taken per KPI, so that two
// exporters, or a renamed KPI within RideOut, cannot make the join
// ambiguous.
func withInfo(expr string, labels ...string) string {
	return fmt.Sprintf("(\n%s\n)\n* on (%s) group_left (%s)\ntopk by (%s) (1, %s)",
		expr, c.LabelKPI, byLabels(labels...), c.LabelKPI, latest(c.KPIInfo))
}

// ---- Annotation templates, over the alert's labels. The queries they run
// select one info series each, as every pending and firing alert is
// described at every evaluation: a unit's name, and for the alerts that
// fire at once, the worst units the exporter names.

// Template pieces.
var (
	// tmplValue prints the alert's value as a value of its KPI: ratios and
	// milestones (the share of units done) as percentages, anything else
	// humanized with the KPI's unit.
	tmplValue = fmt.Sprintf(`{{ if eq $labels.%s %q %q }}{{ humanizePercentage $value }}{{ else }}{{ humanize $value }}{{ with $labels.%s }} {{ . }}{{ end }}{{ end }}`,
		c.LabelKind, catalogue.KindRatio, catalogue.KindMilestone, c.LabelUnit)
	tmplName   = "{{ $labels." + c.LabelName + " }}"
	tmplNameVI = fmt.Sprintf("{{ or $labels.%s $labels.%s }}", c.LabelNameVI, c.LabelName)
	tmplDate   = `{{ $value | humanizeTimestamp | printf "%.10s" }}`
)

// naming is how alert text names what an alert is about, in the
// deployment's words: the whole by the units set's name for it, a unit of a
// listed level (a province, a commune) by its display name from the served
// kpi_unit_info, a ministry by its owner's name from kpi_owner_info, and
// any other unit by its label. Only a unit's name is looked up, by a
// selector of one info series: a few index look-ups per alert.
type naming struct {
	whole  [2]string // the whole, in English and Vietnamese
	listed []string  // the levels kpi_unit_info names the units of
	// byLabel names every unit but the whole by its label: no query.
	byLabel bool
}

// labelsOnly is n naming units by their labels, for the alerts that wait
// pending (behind plan, forecast miss): Prometheus expands every pending
// alert's annotations at every evaluation, and at the national commune
// scale thousands wait a day; a query each made the rules cost 59% of a
// core at 332k observed series, against 3% without.
func (n naming) labelsOnly() naming { return naming{whole: n.whole, byLabel: true} }

// namingOf is the catalogue's naming: its units set's whole (as a
// description starts with it) and listed levels.
func namingOf(cat *catalogue.Catalogue) naming {
	w := cat.UnitSet().Whole
	n := naming{whole: [2]string{capitalised(w.NameEN), capitalised(w.NameVI)}}
	for _, l := range cat.UnitSet().Levels {
		n.listed = append(n.listed, l.Name)
	}
	return n
}

// capitalised is s with its first letter in upper case ("toàn quốc" starts
// a description as "Toàn quốc").
func capitalised(s string) string {
	if s == "" {
		return s
	}
	r, size := utf8.DecodeRuneInString(s)
	return string(unicode.ToUpper(r)) + s[size:]
}

// tmplLevel names the roll-up an alert is about from its level label,
// which the query serves: each level as tmplUnit names it.
func (n naming) tmplLevel(vi bool) string {
	var b strings.Builder
	fmt.Fprintf(&b, "{{ if eq $labels.%s %q }}%s", c.LabelLevel, c.LevelWhole, n.tmplUnit(c.LevelWhole, vi))
	named := []string{catalogue.DimMinistry}
	if vi {
		named = append(named, n.listed...)
	}
	for _, level := range named {
		fmt.Fprintf(&b, "\n{{- else if eq $labels.%s %q }}%s", c.LabelLevel, level, n.tmplUnit(level, vi))
	}
	fmt.Fprintf(&b, "\n{{- else }}{{ index $labels $labels.%s }}{{ end }}", c.LabelLevel)
	return b.String()
}

// tmplUnit names the unit of an alert of a known level (a rule's static
// labels are not among the $labels a template sees): the whole in the
// deployment's words, a ministry by its owner's name, a unit of a listed
// level by its name_vi in Vietnamese, any other by its label.
func (n naming) tmplUnit(level string, vi bool) string {
	lang := 0
	if vi {
		lang = 1
	}
	label := "$labels." + level
	switch {
	case level == c.LevelWhole:
		return n.whole[lang]
	case n.byLabel:
	case level == catalogue.DimMinistry:
		return tmplOwner(label, vi)
	case vi && slices.Contains(n.listed, level):
		return query(latest(c.UnitInfo+"{"+eq(c.LabelLevel, level)+","+c.LabelUnit+"=%q}"), []string{label},
			tmplFirstLabel(c.LabelNameVI), "{{ "+label+" }}")
	}
	return "{{ " + label + " }}"
}

// tmplOwner names the owner whose id the template expression id is, from
// kpi_owner_info, or by its id where none is served.
func tmplOwner(id string, vi bool) string {
	fields := []string{c.LabelName}
	if vi {
		fields = []string{c.LabelNameVI, c.LabelName} // an owner may have no Vietnamese name
	}
	return query(latest(c.OwnerInfo+"{"+c.LabelOwner+"=%q}"), []string{id}, tmplFirstLabel(fields...), "{{ "+id+" }}")
}

// tmplFirstLabel prints the first of labels that the first series of a
// query's result has.
func tmplFirstLabel(labels ...string) string {
	if len(labels) == 1 {
		return fmt.Sprintf("{{ . | first | label %q }}", labels[0])
	}
	args := make([]string, len(labels))
	for i, l := range labels {
		args[i] = fmt.Sprintf("(label %q .)", l)
	}
	return "{{ with first . }}{{ or " + strings.Join(args, " ") + " }}{{ end }}"
}

// unitLevel is the level of a KPI's observed series as its alerts name it:
// its first dimension but the commune (whose units are counted per
// province), or the whole for a KPI without dimensions.
func unitLevel(k *catalogue.KPI) string {
	for _, d := range k.Dimensions {
		if d != catalogue.DimCommune {
			return d
		}
	}
	return c.LevelWhole
}

// text is one alert's wording: the summary after the KPI's name and the
// description after the unit's, in both languages.
type text struct{ summary, summaryVI, description, descriptionVI string }

// annotations are the summaries, the descriptions (after where, in English
// and Vietnamese) and the links.
func annotations(meta catalogue.Metadata, alert string, where [2]string, t text) map[string]string {
	out := map[string]string{
		AnnSummary:       tmplName + " " + t.summary,
		AnnSummaryVI:     tmplNameVI + " " + t.summaryVI,
		AnnDescription:   where[0] + ": " + t.description,
		AnnDescriptionVI: where[1] + ": " + t.descriptionVI,
	}
	addLinks(out, meta, alert, true)
	return out
}

// addLinks adds the dashboard link (for a KPI's alerts) and the runbook
// section of the alert, where the catalogue gives their base addresses.
func addLinks(ann map[string]string, meta catalogue.Metadata, alert string, kpi bool) {
	if meta.DashboardURL != "" && kpi {
		ann[AnnDashboardURL] = strings.TrimRight(meta.DashboardURL, "/") + "/d/" + c.DashboardKPIDetail + "?var-kpi={{ $labels." + c.LabelKPI + " }}"
	}
	if meta.RunbookURL != "" {
		ann[AnnRunbookURL] = meta.RunbookURL + "#" + strings.ToLower(alert)
	}
}

// kpiLabels are the static labels of a KPI's alerts: severity and the
// catalogue's own alerts.labels. The owner comes from kpi_info.
func kpiLabels(k *catalogue.KPI, severity string) map[string]string {
	l := maps.Clone(k.Alerts.Labels)
	if l == nil {
		l = map[string]string{}
	}
	l[c.LabelSeverity] = severity
	return l
}

// BehindFor is how long a KPI must be behind plan (or forecast to miss)
// before it alerts: the catalogue's alerts.for, or DefaultBehindFor. The
// other alerts need no "for": the exporter's judgement of a deadline, a due
// date or a report is already a settled fact, not a noisy sample.
func BehindFor(k *catalogue.KPI) catalogue.Duration {
	if k.Alerts.For > 0 {
		return k.Alerts.For
	}
	return DefaultBehindFor
}

// counted reports whether a KPI's alerts also count units: a KPI broken
// down by commune alerts once per province with the number of its communes
// in each state (the exporter's kpi_rollup_units), since thousands of
// commune alerts would drown the agency they reach.
func counted(k *catalogue.KPI) bool { return k.HasDimension(catalogue.DimCommune) }

// judgement is one alert on the exporter's judgement of a roll-up: the
// status (and reason) it raises on, the figure its value is, and its words.
type judgement struct {
	alert, tier    string
	status, reason string
	figure         string // the kpi_rollup_* family the alert's value is
	waits, raises  bool   // waits BehindFor; one severity up
	words          text
	// countWords describe a count of communes, where the KPI has them;
	// worstWords lead the names of the worst units an alert that fires at
	// once names, as the exporter ranks them (model.NamedStatuses).
	countWords, worstWords [2]string
}

var judgements = []judgement{
	{alert: AlertBehindPlan, tier: catalogue.TierBehindPlan, status: c.StatusAtRisk, reason: c.ReasonBehindPlan,
		figure: c.RollupPlanGap, waits: true,
		words: text{"is behind plan", "chậm so với kế hoạch",
			tmplValue + " behind plan.", "chậm " + tmplValue + " so với kế hoạch."},
		countWords: [2]string{"{{ $value }} communes behind plan.", "{{ $value }} xã, phường chậm so với kế hoạch."},
		worstWords: [2]string{"Furthest behind", "Chậm nhất"}},
	{alert: AlertForecastMiss, tier: catalogue.TierForecastMiss, status: c.StatusAtRisk, reason: c.ReasonForecastMiss,
		figure: c.RollupForecast, waits: true,
		words: text{"will not reach its target by the deadline at the current pace", "với tốc độ hiện tại sẽ không đạt mục tiêu đúng hạn",
			"heading for " + tmplValue + " by the deadline, short of the target.", "dự báo đạt " + tmplValue + " khi đến hạn, không đạt mục tiêu."},
		countWords: [2]string{"{{ $value }} communes will not reach the target by the deadline at their pace.", "{{ $value }} xã, phường với tốc độ hiện tại sẽ không đạt mục tiêu đúng hạn."},
		worstWords: [2]string{"Furthest behind", "Chậm nhất"}},
	{alert: AlertTargetMissed, tier: catalogue.TierTargetMissed, status: c.StatusMissed,
		figure: c.RollupValue, raises: true,
		words: text{"missed its target: the deadline has passed", "không đạt mục tiêu: đã quá hạn",
			tmplValue + " when the deadline passed, short of the target.", "đạt " + tmplValue + " khi hết hạn, không đạt mục tiêu."},
		countWords: [2]string{"{{ $value }} communes missed the target.", "{{ $value }} xã, phường không đạt mục tiêu."},
		worstWords: [2]string{"Furthest behind", "Chậm nhất"}},
	{alert: AlertReportOverdue, tier: catalogue.TierReportOverdue, status: c.StatusStale,
		figure: c.RollupReportPeriod,
		words: text{"has no fresh report", "quá hạn báo cáo",
			"the latest report covers the period from " + tmplDate + ".", "báo cáo gần nhất là kỳ từ " + tmplDate + "."},
		countWords: [2]string{"{{ $value }} communes have no fresh report.", "{{ $value }} xã, phường quá hạn báo cáo."},
		worstWords: [2]string{"Longest without one", "Lâu nhất chưa báo cáo"}},
}

func (j judgement) labels(k *catalogue.KPI) map[string]string {
	sev := k.Alerts.Severity
	if j.raises {
		sev = raise(sev)
	}
	return kpiLabels(k, sev)
}

func (j judgement) forOf(k *catalogue.KPI) catalogue.Duration {
	if j.waits {
		return BehindFor(k)
	}
	return 0
}

// statusMatchers select the roll-ups the exporter judges so.
func (j judgement) statusMatchers(kpiMatcher string) []string {
	ms := []string{kpiMatcher, eq(c.LabelStatus, j.status)}
	if j.reason != "" {
		ms = append(ms, eq(c.LabelReason, j.reason))
	}
	return ms
}

// rollup is the alert on every roll-up the exporter judges so, at every
// level: the figure's newest sample where the roll-up's status is the
// judgement's, with the KPI's names and owner.
func (j judgement) rollup(meta catalogue.Metadata, n naming) ruleOf {
	return func(k *catalogue.KPI, m string) (Rule, bool) {
		if k.Disabled(j.tier) {
			return Rule{}, false
		}
		expr := fmt.Sprintf("%s\nand ignoring (%s, %s)\n%s", latest(j.figure),
			c.LabelStatus, c.LabelReason, latest(sel(c.RollupStatus, j.statusMatchers(m)...)))
		t := j.words
		if j.waits {
			n = n.labelsOnly()
		} else {
			t.description += j.tmplWorst(j.worstWords[0])
			t.descriptionVI += j.tmplWorst(j.worstWords[1])
		}
		return Rule{
			Alert: j.alert, Expr: withInfo(expr, infoLabels...), For: j.forOf(k), Labels: j.labels(k),
			Annotations: annotations(meta, j.alert, [2]string{n.tmplLevel(false), n.tmplLevel(true)}, t),
		}, true
	}
}

// communeStatus selects the communes the exporter judges so: an at-risk
// commune whose reason is not served counts as behind plan.
func (j judgement) communeStatus() []string {
	ms := []string{eq(c.LabelStatus, j.status)}
	switch j.reason {
	case c.ReasonBehindPlan:
		ms = append(ms, fmt.Sprintf("%s!=%q", c.LabelReason, c.ReasonForecastMiss))
	case c.ReasonForecastMiss:
		ms = append(ms, eq(c.LabelReason, j.reason))
	}
	return ms
}

// communes is the alert on the communes of each province the exporter
// judges so, for a KPI broken down by commune. An at-risk commune whose
// reason is not served counts as behind plan.
func (j judgement) communes(meta catalogue.Metadata, n naming) ruleOf {
	return func(k *catalogue.KPI, m string) (Rule, bool) {
		if k.Disabled(j.tier) || !counted(k) {
			return Rule{}, false
		}
		level := unitLevel(k)
		ms := append([]string{m, eq(c.LabelLevel, level)}, j.communeStatus()...)
		expr := fmt.Sprintf("sum without (%s, %s) (\n  %s\n) > 0", c.LabelStatus, c.LabelReason, latest(sel(c.RollupUnits, ms...)))
		l := j.labels(k)
		l[c.LabelCounted] = catalogue.DimCommune
		t := j.words
		t.description, t.descriptionVI = j.countWords[0], j.countWords[1]
		if j.waits {
			n = n.labelsOnly()
		} else {
			t.description += j.tmplWorst(j.worstWords[0])
			t.descriptionVI += j.tmplWorst(j.worstWords[1])
		}
		return Rule{
			Alert: j.alert, Expr: withInfo(expr, infoLabels...), For: j.forOf(k), Labels: l,
			Annotations: annotations(meta, j.alert, [2]string{n.tmplUnit(level, false), n.tmplUnit(level, true)}, t),
		}, true
	}
}

// tmplWorst names, after lead, the worst units the exporter names for the
// alert's roll-up in the judgement's status (kpi_rollup_worst_units_info of
// its kpi, level and unit): a selector of one series, so that firing
// alerts name units without ranking them in PromQL; nothing where none is
// served. It starts a line of its own, trimmed when expanded.
func (j judgement) tmplWorst(lead string) string {
	level := "$labels." + c.LabelLevel
	expr := latest(c.RollupWorstUnits + "{" + strings.Join([]string{c.LabelKPI + "=%q", c.LabelLevel + "=%q", "%s=%q", eq(c.LabelStatus, j.status)}, ",") + "}")
	return fmt.Sprintf("\n{{- with printf %q $labels.%s %s %s (index $labels %s) | query }} %s: {{ . | first | label %q }}.{{ end }}",
		expr, c.LabelKPI, level, level, level, lead, c.LabelUnits)
}

// dataSuspect is the alert on one of the exporter's plausibility checks,
// which only the unit endpoint serves (per observed series): one alert per
// series with the reported value, or, for a KPI broken down by commune, per
// province with the number of its communes. Its level label is the
// series' (as on the roll-ups' alerts), its check label the check's: static
// labels, which keep apart the rules of classes that name their units by
// different labels, and of each check.
func dataSuspect(meta catalogue.Metadata, n naming, check string) ruleOf {
	return func(k *catalogue.KPI, m string) (Rule, bool) {
		if k.Disabled(catalogue.TierDataSuspect) {
			return Rule{}, false
		}
		words := checkWords[check]
		t := text{"reported figures that cannot be right", "báo cáo số liệu bất thường",
			"reported " + tmplValue + ", " + words[0] + ".", "báo cáo " + tmplValue + ", " + words[1] + "."}
		l := kpiLabels(k, k.Alerts.Severity)
		l[c.LabelLevel], l[c.LabelCheck] = unitLevel(k), check
		suspect := latestUnit(sel(c.KPIDataSuspect, m, eq(c.LabelCheck, check)))
		// The check's series times the value: the alert carries the check
		// label and the reported value.
		expr := fmt.Sprintf("%s\n* ignoring (%s) group_left ()\n%s", suspect, c.LabelCheck, latestUnit(sel(c.KPIValue, m)))
		if counted(k) {
			expr = fmt.Sprintf("count without (%s) (\n  %s\n)", catalogue.DimCommune, suspect)
			t.description = "{{ $value }} communes reported " + words[0] + "."
			t.descriptionVI = "{{ $value }} xã, phường báo cáo " + words[1] + "."
			l[c.LabelCounted] = catalogue.DimCommune
		}
		return Rule{
			Alert: AlertDataSuspect, Expr: withInfo(expr, infoLabels...), Labels: l,
			Annotations: annotations(meta, AlertDataSuspect, [2]string{n.tmplUnit(unitLevel(k), false), n.tmplUnit(unitLevel(k), true)}, t),
		}, true
	}
}

// kpiAlerts are the alerts on the KPIs, one rule per alert and class, less
// the tiers a KPI switches off. Each reads the exporter's judgement; none
// recomputes it.
func kpiAlerts(cat *catalogue.Catalogue) []Rule {
	var out []Rule
	n := namingOf(cat)
	for _, j := range judgements {
		out = append(out, classes(cat, j.rollup(cat.Metadata, n))...)
		out = append(out, classes(cat, j.communes(cat.Metadata, n))...)
	}
	for _, check := range slices.Sorted(maps.Keys(checkWords)) {
		out = append(out, classes(cat, dataSuspect(cat.Metadata, n, check))...)
	}
	return out
}

// checkWords say which plausibility check failed, in English and
// Vietnamese.
var checkWords = map[string][2]string{
	c.CheckFell:  {"a cumulative figure below an earlier report", "số lũy kế thấp hơn kỳ trước"},
	c.CheckRatio: {"a numerator above its denominator", "tử số lớn hơn mẫu số"},
	c.CheckJump:  {"a change from the previous period beyond what is plausible", "thay đổi so với kỳ trước vượt mức hợp lý"},
}

// query is a template action that runs expr and prints then over its
// result, or otherwise when it returns nothing. Each %q in expr is filled
// from args (template expressions such as $labels.owner). The query ends a
// line of the rules file, which the template trims.
func query(expr string, args []string, then, otherwise string) string {
	s := fmt.Sprintf("{{ with printf %q %s | query -}}\n%s", expr, strings.Join(args, " "), then)
	if otherwise != "" {
		s += "{{ else }}" + otherwise
	}
	return s + "{{ end }}"
}

// tmplFirstValue prints the value of the first series of a query's result
// through format.
func tmplFirstValue(format string) string { return "{{ . | first | value | " + format + " }}" }

// taskAlerts raise one alert per owner with overdue roadmap tasks, named
// from the served kpi_owner_info.
func taskAlerts(cat *catalogue.Catalogue) []Rule {
	oldest := query("floor((time() - min("+latest(c.TaskDue+"{"+c.LabelOwner+"=%q}")+")) / 86400)",
		[]string{"$labels." + c.LabelOwner}, tmplFirstValue(`printf "%.0f"`), "")
	ann := map[string]string{
		AnnSummary:       "Roadmap tasks are overdue",
		AnnSummaryVI:     "Nhiệm vụ quá hạn",
		AnnDescription:   tmplName + " has {{ $value }} roadmap tasks past their due date and not done, the oldest by " + oldest + " days.",
		AnnDescriptionVI: tmplNameVI + " có {{ $value }} nhiệm vụ quá hạn chưa hoàn thành, lâu nhất " + oldest + " ngày.",
	}
	addLinks(ann, cat.Metadata, AlertTaskOverdue, false)
	expr := fmt.Sprintf("(\n%s > 0\n)\n* on (%s) group_left (%s)\ntopk by (%s) (1, %s)",
		latest(c.TasksOverdue), c.LabelOwner, byLabels(c.LabelName, c.LabelNameVI), c.LabelOwner, latest(c.OwnerInfo))
	return []Rule{{
		Alert: AlertTaskOverdue, Expr: expr,
		Labels: map[string]string{c.LabelSeverity: "warning"}, Annotations: ann,
	}}
}

// collectorAlerts raise one alert for any source that has failed
// collectorFailCycles refreshes in a row (a refresh that hangs fails at its
// timeout, so a hung source counts too), whatever its interval.
func collectorAlerts(meta catalogue.Metadata) []Rule {
	last := query(latest(c.CollectorLastSuccess+"{"+c.LabelSource+"=%q}"), []string{"$labels." + c.LabelSource}, tmplFirstValue("humanizeTimestamp"), "")
	ann := map[string]string{
		AnnSummary:       "A data source is failing: its figures may be out of date",
		AnnSummaryVI:     "Nguồn dữ liệu bị lỗi: số liệu có thể đã cũ",
		AnnDescription:   "Source {{ $labels.source }} ({{ $labels.collector }}) has failed {{ $value }} refreshes in a row; last success " + last + ".",
		AnnDescriptionVI: "Nguồn {{ $labels.source }} ({{ $labels.collector }}) lỗi {{ $value }} lần liên tiếp; lần thành công gần nhất " + last + ".",
	}
	addLinks(ann, meta, AlertCollectorFailing, false)
	return []Rule{{
		Alert:  AlertCollectorFailing,
		Expr:   fmt.Sprintf("%s >= %d", latest(c.CollectorConsecutiveFailures), collectorFailCycles),
		Labels: map[string]string{c.LabelSeverity: "warning"}, Annotations: ann,
	}}
}
