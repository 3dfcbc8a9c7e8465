package alerts

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/kpiwatch/kpiwatch/catalogue"
	c "github.com/kpiwatch/kpiwatch/conventions"
	"github.com/kpiwatch/kpiwatch/units"
)

// Annotation keys, as in the monitoring mixins: a summary that is the same
// for every alert of a notification group (alert name, KPI, owner), a
// description of the one series, each in English and Vietnamese, and links.
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

// RideOut is how far back an alert looks for the latest sample of a series:
// a failed scrape (which marks every series stale) or a restart of the
// exporter within it neither resolves a firing alert nor restarts a pending
// one's "for" clock. At a one-minute scrape an alert reads at most ten
// samples of each series it selects.
const RideOut = "10m"

// latest is the newest sample of expr within RideOut.
func latest(expr string) string { return fmt.Sprintf("last_over_time(%s[%s])", expr, RideOut) }

// ---- Template figures: numbers an annotation prints, read when it renders.
// Each reads the newest sample within RideOut, as the alert expressions do,
// so that a description stays whole through a failed scrape.

// query is a template action that prints the first value expr returns,
// through format, followed by suffix; nothing when it returns nothing. Each
// %q in expr is filled from args (template expressions such as
// $labels.province).
func query(expr string, args []string, format, suffix string) string {
	return fmt.Sprintf("{{ with printf %q %s | query }}{{ . | first | value | %s }}%s{{ end }}",
		expr, strings.Join(args, " "), format, suffix)
}

// Template functions the figures are printed with.
const (
	fmtDays = `printf "%.0f"`
	fmtDate = `humanizeTimestamp | printf "%.10s"`
)

// kpiTemplates writes the annotations of one KPI's alerts. They read no
// query: Prometheus expands the annotations of every pending and firing
// alert at every evaluation, and at commune scale tens of thousands of
// series can be behind plan at once, so a query per alert would cost more
// than all the rules. Figures come from the alert's value (the exporter's gap,
// forecast, value or report period) and names from the catalogue and the
// province table, written into the template.
type kpiTemplates struct {
	k      *catalogue.KPI
	meta   catalogue.Metadata
	owners []catalogue.Owner
}

// valueFormat prints a value of the KPI: ratios as percentages, anything
// else humanized with the KPI's unit.
func (a kpiTemplates) valueFormat() (string, string) {
	if a.k.Kind == catalogue.KindRatio {
		return "humanizePercentage", ""
	}
	if a.k.Unit != "" {
		return "humanize", " " + a.k.Unit
	}
	return "humanize", ""
}

// alertValue prints the alert's own value ($value) as a value of the KPI.
func (a kpiTemplates) alertValue() string {
	format, suffix := a.valueFormat()
	return "{{ $value | " + format + " }}" + suffix
}

// where names the alert's series: its units in English (the labels, ASCII;
// ministries by their names) or in Vietnamese (provinces, ministries and
// blocks by their Vietnamese names), or the whole country for a KPI without
// dimensions.
func (a kpiTemplates) where(vi bool) string {
	dims := a.unitDims()
	if len(dims) == 0 {
		if vi {
			return "Toàn quốc"
		}
		return "Nationwide"
	}
	parts := make([]string, len(dims))
	for i, d := range dims {
		parts[i] = "{{ $labels." + d + " }}"
		switch {
		case d == catalogue.DimMinistry:
			parts[i] = ownerName(a.owners, d, vi)
		case d == catalogue.DimProvince && vi:
			parts[i] = provinceNameVI(d)
		case d == catalogue.DimBlock && vi:
			parts[i] = blockNameVI(d)
		}
	}
	return strings.Join(parts, ", ")
}

// perCommune reports whether the KPI's alerts count communes: a KPI broken
// down by commune alerts once per province (or its other units), with the
// number of its communes in that state, since thousands of commune alerts
// would drown the agency they reach, and cost Prometheus more than all the
// rules.
func (a kpiTemplates) perCommune() bool { return a.k.HasDimension(catalogue.DimCommune) }

// unitDims are the dimensions an alert of the KPI carries.
func (a kpiTemplates) unitDims() []string {
	if !a.perCommune() {
		return a.k.Dimensions
	}
	return slices.DeleteFunc(slices.Clone(a.k.Dimensions), func(d string) bool { return d == catalogue.DimCommune })
}

// provinceNameVI is a template action printing the Vietnamese name of the
// province in the alert's label.
func provinceNameVI(label string) string {
	var cases [][2]string
	for _, p := range units.All() {
		cases = append(cases, [2]string{p.Name, p.NameVI})
	}
	return labelSwitch(label, cases)
}

// ownerName is a template action printing the name, in Vietnamese or in
// English, of the owner whose id is in the alert's label; the id itself for
// an owner the catalogue does not name.
func ownerName(owners []catalogue.Owner, label string, vi bool) string {
	var cases [][2]string
	for _, o := range owners {
		name := o.Name
		if vi && o.NameVI != "" {
			name = o.NameVI
		}
		cases = append(cases, [2]string{o.ID, name})
	}
	return labelSwitch(label, cases)
}

// BlockNamesVI are the Vietnamese names of the four blocks.
var BlockNamesVI = map[string]string{
	catalogue.BlockParty:            "Khối Đảng",
	catalogue.BlockGovernment:       "Khối Chính phủ",
	catalogue.BlockNationalAssembly: "Khối Quốc hội",
	catalogue.BlockFatherlandFront:  "Khối Mặt trận Tổ quốc",
}

// blockNameVI is a template action printing a block's Vietnamese name.
func blockNameVI(label string) string {
	cases := make([][2]string, len(catalogue.Blocks))
	for i, id := range catalogue.Blocks {
		cases[i] = [2]string{id, BlockNamesVI[id]}
	}
	return labelSwitch(label, cases)
}

// labelSwitch is a template action printing the text of the case whose value
// the alert's label has, or the label itself.
func labelSwitch(label string, cases [][2]string) string {
	if len(cases) == 0 {
		return "{{ $labels." + label + " }}"
	}
	var b strings.Builder
	for i, cs := range cases {
		if i > 0 {
			b.WriteString("{{ else ")
		} else {
			b.WriteString("{{ ")
		}
		fmt.Fprintf(&b, "if eq $labels.%s %q }}%s", label, cs[0], cs[1])
	}
	fmt.Fprintf(&b, "{{ else }}{{ $labels.%s }}{{ end }}", label)
	return b.String()
}

func (a kpiTemplates) nameVI() string {
	if a.k.NameVI != "" {
		return a.k.NameVI
	}
	return a.k.Name
}

// text is one alert's wording: the static part (after the KPI's name) and
// the per-series description (after where it is), in both languages.
type text struct{ summary, summaryVI, description, descriptionVI string }

// annotations are the summaries, the descriptions and the links.
func (a kpiTemplates) annotations(alert string, t text) map[string]string {
	out := map[string]string{
		AnnSummary:       a.k.Name + " " + t.summary,
		AnnSummaryVI:     a.nameVI() + " " + t.summaryVI,
		AnnDescription:   a.where(false) + ": " + t.description,
		AnnDescriptionVI: a.where(true) + ": " + t.descriptionVI,
	}
	addLinks(out, a.meta, alert, a.k.ID)
	return out
}

// addLinks adds the dashboard link (for a KPI's alerts) and the runbook
// section of the alert, where the catalogue gives their base addresses.
func addLinks(ann map[string]string, meta catalogue.Metadata, alert, kpiID string) {
	if meta.DashboardURL != "" && kpiID != "" {
		ann[AnnDashboardURL] = strings.TrimRight(meta.DashboardURL, "/") + "/d/" + c.DashboardKPIDetail + "?var-kpi=" + kpiID
	}
	if meta.RunbookURL != "" {
		ann[AnnRunbookURL] = meta.RunbookURL + "#" + strings.ToLower(alert)
	}
}

// kpiLabels are the routing labels of a KPI's alerts: severity, owner, the
// KPI's block unless its series carry their own, and the catalogue's own
// alerts.labels.
func kpiLabels(k *catalogue.KPI, severity string) map[string]string {
	l := maps.Clone(k.Alerts.Labels)
	if l == nil {
		l = map[string]string{}
	}
	l[c.LabelSeverity], l[c.LabelOwner] = severity, k.Owner
	if !k.HasDimension(catalogue.DimBlock) {
		l[c.LabelBlock] = k.Block
	}
	return l
}

// judged keeps the newest sample of a KPI's metric for each series the
// exporter judges so (status, and reason for at_risk), without the status
// labels: the alert's name says it.
func judged(k *catalogue.KPI, metric, status, reason string) string {
	ms := []string{eq(c.LabelStatus, status)}
	if reason != "" {
		ms = append(ms, eq(c.LabelReason, reason))
	}
	return fmt.Sprintf("%s\nand ignoring (%s, %s)\n%s", latest(of(k, metric)), c.LabelStatus, c.LabelReason, latest(of(k, c.KPIStatus, ms...)))
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

// kpiAlerts are the alerts of one KPI, less the tiers it switches off. Each
// reads the exporter's judgement of the series; none recomputes it.
func kpiAlerts(cat *catalogue.Catalogue, k *catalogue.KPI) []Rule {
	a := kpiTemplates{k: k, meta: cat.Metadata, owners: cat.Owners}
	sev := k.Alerts.Severity
	var out []Rule
	add := func(tier string, r Rule) {
		if k.Disabled(tier) {
			return
		}
		if a.perCommune() {
			r.Expr = fmt.Sprintf("count without (%s) (\n%s\n)", catalogue.DimCommune, r.Expr)
			r.Annotations[AnnDescription], r.Annotations[AnnDescriptionVI] = a.where(false)+": "+communeText[r.Alert][0], a.where(true)+": "+communeText[r.Alert][1]
		}
		out = append(out, r)
	}
	add(catalogue.TierBehindPlan, Rule{
		Alert:  AlertBehindPlan,
		Expr:   judged(k, c.KPIPlanGap, c.StatusAtRisk, c.ReasonBehindPlan),
		For:    BehindFor(k),
		Labels: kpiLabels(k, sev),
		Annotations: a.annotations(AlertBehindPlan, text{
			"is behind plan", "chậm so với kế hoạch",
			a.alertValue() + " behind plan.",
			"chậm " + a.alertValue() + " so với kế hoạch.",
		}),
	})
	add(catalogue.TierForecastMiss, Rule{
		Alert:  AlertForecastMiss,
		Expr:   judged(k, c.KPIForecast, c.StatusAtRisk, c.ReasonForecastMiss),
		For:    BehindFor(k),
		Labels: kpiLabels(k, sev),
		Annotations: a.annotations(AlertForecastMiss, text{
			"will not reach its target by the deadline at the current pace", "với tốc độ hiện tại sẽ không đạt mục tiêu đúng hạn",
			"heading for " + a.alertValue() + " by the deadline, short of the target.",
			"dự báo đạt " + a.alertValue() + " khi đến hạn, không đạt mục tiêu.",
		}),
	})
	add(catalogue.TierTargetMissed, Rule{
		Alert:  AlertTargetMissed,
		Expr:   judged(k, c.KPIValue, c.StatusMissed, ""),
		Labels: kpiLabels(k, raise(sev)),
		Annotations: a.annotations(AlertTargetMissed, text{
			"missed its target: the deadline has passed", "không đạt mục tiêu: đã quá hạn",
			a.alertValue() + " when the deadline passed, short of the target.",
			"đạt " + a.alertValue() + " khi hết hạn, không đạt mục tiêu.",
		}),
	})
	add(catalogue.TierReportOverdue, Rule{
		Alert:  AlertReportOverdue,
		Expr:   judged(k, c.KPIReportPeriod, c.StatusStale, ""),
		Labels: kpiLabels(k, sev),
		Annotations: a.annotations(AlertReportOverdue, text{
			"has no fresh report: " + dueText(k.Cadence), "quá hạn báo cáo",
			"the latest report covers the period from {{ $value | " + fmtDate + " }}.",
			"báo cáo gần nhất là kỳ từ {{ $value | " + fmtDate + " }}.",
		}),
	})
	add(catalogue.TierDataSuspect, Rule{
		Alert: AlertDataSuspect,
		// The check's series times the value: the alert carries the check
		// label and the reported value.
		Expr: fmt.Sprintf("%s\n* on (%s) group_left ()\n%s",
			latest(of(k, c.KPIDataSuspect)), byLabels(append([]string{c.LabelKPI}, k.Dimensions...)...), latest(of(k, c.KPIValue))),
		Labels: kpiLabels(k, sev),
		Annotations: a.annotations(AlertDataSuspect, text{
			"reported figures that cannot be right", "báo cáo số liệu bất thường",
			"reported " + a.alertValue() + ", " + checkText(false) + ".",
			"báo cáo " + a.alertValue() + ", " + checkText(true) + ".",
		}),
	})
	return out
}

// communeText is the description of an alert that counts communes.
var communeText = map[string][2]string{
	AlertBehindPlan:    {"{{ $value }} communes behind plan.", "{{ $value }} xã, phường chậm so với kế hoạch."},
	AlertForecastMiss:  {"{{ $value }} communes will not reach the target by the deadline at their pace.", "{{ $value }} xã, phường với tốc độ hiện tại sẽ không đạt mục tiêu đúng hạn."},
	AlertTargetMissed:  {"{{ $value }} communes missed the target.", "{{ $value }} xã, phường không đạt mục tiêu."},
	AlertReportOverdue: {"{{ $value }} communes have no fresh report.", "{{ $value }} xã, phường quá hạn báo cáo."},
	AlertDataSuspect:   {"{{ $value }} communes reported figures that cannot be right: " + checkText(false) + ".", "{{ $value }} xã, phường báo cáo số liệu bất thường: " + checkText(true) + "."},
}

// checkText says which plausibility check failed, from the alert's check label.
func checkText(vi bool) string {
	lang := 0
	if vi {
		lang = 1
	}
	words := [][3]string{
		{c.CheckFell, "a cumulative figure below an earlier report", "số lũy kế thấp hơn kỳ trước"},
		{c.CheckRatio, "a numerator above its denominator", "tử số lớn hơn mẫu số"},
		{c.CheckJump, "a change from the previous period beyond what is plausible", "thay đổi so với kỳ trước vượt mức hợp lý"},
	}
	cases := make([][2]string, len(words))
	for i, w := range words {
		cases[i] = [2]string{w[0], w[1+lang]}
	}
	return labelSwitch(c.LabelCheck, cases)
}

// dueText says when a report is due, e.g. "due on day 15 of the next
// period, plus 5d grace".
func dueText(cd catalogue.Cadence) string {
	s := "due when the next period starts"
	if cd.DueDay > 0 {
		s = fmt.Sprintf("due on day %d of the next period", cd.DueDay)
	}
	if cd.Grace > 0 {
		s += fmt.Sprintf(", plus %s grace", cd.Grace)
	}
	return s
}

// taskAlerts raise one alert per owner with overdue roadmap tasks.
func taskAlerts(cat *catalogue.Catalogue) []Rule {
	meta := cat.Metadata
	oldest := query("floor((time() - min("+latest(c.TaskDue+"{"+c.LabelOwner+"=%q}")+")) / 86400)", []string{"$labels." + c.LabelOwner}, fmtDays, "")
	ann := map[string]string{
		AnnSummary:       "Roadmap tasks are overdue",
		AnnSummaryVI:     "Nhiệm vụ quá hạn",
		AnnDescription:   ownerName(cat.Owners, c.LabelOwner, false) + " has {{ $value }} roadmap tasks past their due date and not done, the oldest by " + oldest + " days.",
		AnnDescriptionVI: ownerName(cat.Owners, c.LabelOwner, true) + " có {{ $value }} nhiệm vụ quá hạn chưa hoàn thành, lâu nhất " + oldest + " ngày.",
	}
	addLinks(ann, meta, AlertTaskOverdue, "")
	return []Rule{{
		Alert: AlertTaskOverdue, Expr: latest(c.TasksOverdue) + " > 0",
		Labels: map[string]string{c.LabelSeverity: "warning"}, Annotations: ann,
	}}
}

// collectorAlerts raise one alert for any source that has failed
// collectorFailCycles refreshes in a row (a refresh that hangs fails at its
// timeout, so a hung source counts too), whatever its interval.
func collectorAlerts(meta catalogue.Metadata) []Rule {
	last := query(latest(c.CollectorLastSuccess+"{"+c.LabelSource+"=%q}"), []string{"$labels." + c.LabelSource}, "humanizeTimestamp", "")
	ann := map[string]string{
		AnnSummary:       "A data source is failing: its figures may be out of date",
		AnnSummaryVI:     "Nguồn dữ liệu bị lỗi: số liệu có thể đã cũ",
		AnnDescription:   "Source {{ $labels.source }} ({{ $labels.collector }}) has failed {{ $value }} refreshes in a row; last success " + last + ".",
		AnnDescriptionVI: "Nguồn {{ $labels.source }} ({{ $labels.collector }}) lỗi {{ $value }} lần liên tiếp; lần thành công gần nhất " + last + ".",
	}
	addLinks(ann, meta, AlertCollectorFailing, "")
	return []Rule{{
		Alert:  AlertCollectorFailing,
		Expr:   fmt.Sprintf("%s >= %d", latest(c.CollectorConsecutiveFailures), collectorFailCycles),
		Labels: map[string]string{c.LabelSeverity: "warning"}, Annotations: ann,
	}}
}
