package alerts

import (
	"fmt"
	"strings"

	"github.com/kpiwatch/kpiwatch/catalogue"
	c "github.com/kpiwatch/kpiwatch/conventions"
)

// Annotation keys. Each figure has its own key so that message templates and
// tests can use it on its own.
const (
	AnnSummary      = "summary"
	AnnSummaryVI    = "summary_vi"
	AnnValue        = "value"
	AnnPlan         = "plan"
	AnnTarget       = "target"
	AnnShortfall    = "shortfall"
	AnnForecast     = "forecast"
	AnnDaysLeft     = "days_left"
	AnnDaysOverdue  = "days_overdue"
	AnnDeadline     = "deadline"
	AnnLastReport   = "last_report_period"
	AnnPrevious     = "previous"
	AnnDenominator  = "denominator"
	AnnOldestDays   = "oldest_overdue_days"
	AnnLastSuccess  = "last_success"
	AnnDashboardURL = "dashboard_url"
	AnnRunbookURL   = "runbook_url"
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

// seriesRef is how an annotation template selects the alert's own series: a
// selector with a %q per label, filled from $labels.
type seriesRef struct {
	selector string // {kpi=%q,province=%q}
	args     string // $labels.kpi $labels.province
}

func refOf(k *catalogue.KPI) seriesRef {
	labels := append([]string{c.LabelKPI}, k.Dimensions...)
	ms := make([]string, len(labels))
	args := make([]string, len(labels))
	for i, l := range labels {
		ms[i] = l + "=%q"
		args[i] = "$labels." + l
	}
	return seriesRef{selector: "{" + strings.Join(ms, ",") + "}", args: strings.Join(args, " ")}
}

// selHere marks where the series selector goes in a figure's expression.
const selHere = "{SERIES}"

// figure is a template action that prints expr, evaluated when the alert
// fires with selHere replaced by the alert's own series, through the
// template function format, followed by suffix; nothing when expr returns
// nothing.
func (r seriesRef) figure(expr, format, suffix string) string {
	n := strings.Count(expr, selHere)
	q := strings.ReplaceAll(expr, selHere, r.selector)
	args := strings.TrimSpace(strings.Repeat(r.args+" ", n))
	return fmt.Sprintf("{{ with printf %q %s | query }}{{ . | first | value | %s }}%s{{ end }}", q, args, format, suffix)
}

// Template functions the figures are printed with.
const (
	fmtDays = `printf "%.0f"`
	fmtDate = `humanizeTimestamp | printf "%.10s"`
)

// kpiAnnotator writes the annotations of one KPI's alerts.
type kpiAnnotator struct {
	k    *catalogue.KPI
	meta catalogue.Metadata
	ref  seriesRef
}

// value prints expr as a value of the KPI: ratios as percentages, anything
// else humanized with the KPI's unit.
func (a kpiAnnotator) value(expr string) string {
	if a.k.Kind == catalogue.KindRatio {
		return a.ref.figure(expr, "humanizePercentage", "")
	}
	suffix := ""
	if a.k.Unit != "" {
		suffix = " " + a.k.Unit
	}
	return a.ref.figure(expr, "humanize", suffix)
}

// where names the series' unit, e.g. " (Ha Noi)", a ministry by its name in
// the language of nameLabel; empty for a national KPI.
func (a kpiAnnotator) where(nameLabel string) string {
	if len(a.k.Dimensions) == 0 {
		return ""
	}
	parts := make([]string, len(a.k.Dimensions))
	for i, d := range a.k.Dimensions {
		parts[i] = "{{ $labels." + d + " }}"
		if d == catalogue.DimMinistry {
			parts[i] = ownerName(d, nameLabel)
		}
	}
	return " (" + strings.Join(parts, ", ") + ")"
}

// ownerName is a template action printing the name (nameLabel: name or
// name_vi) of the owner whose id is in the alert's label, from
// kpi_owner_info; the id itself where the owner has no such name.
func ownerName(label, nameLabel string) string {
	return fmt.Sprintf(`{{ $name := $labels.%s }}{{ with printf "%s{%s=%%q}" $labels.%s | query }}{{ with . | first | label %q }}{{ $name = . }}{{ end }}{{ end }}{{ $name }}`,
		label, c.OwnerInfo, c.LabelOwner, label, nameLabel)
}

func (a kpiAnnotator) nameVI() string {
	if a.k.NameVI != "" {
		return a.k.NameVI
	}
	return a.k.Name
}

// annotations are the summary in English and Vietnamese, the given figures
// and the links.
func (a kpiAnnotator) annotations(alert, what, whatVI string, figures map[string]string) map[string]string {
	out := map[string]string{
		AnnSummary:   a.k.Name + a.where(c.LabelName) + " " + what,
		AnnSummaryVI: a.nameVI() + a.where(c.LabelNameVI) + " " + whatVI,
	}
	for k, v := range figures {
		out[k] = v
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

// The figures the KPI alerts show.
func (a kpiAnnotator) valueNow() string { return a.value(c.KPIValue + selHere) }
func (a kpiAnnotator) target() string   { return a.value(c.RecSeriesTarget + selHere) }
func (a kpiAnnotator) plan() string     { return a.value(c.RecSeriesPlan + selHere) }
func (a kpiAnnotator) daysLeft() string {
	return a.ref.figure("("+c.RecSeriesDeadline+selHere+" - time()) / 86400", fmtDays, "")
}

// labels are the routing labels of a KPI's alerts. The block is the KPI's,
// unless its series are broken down by block and carry their own.
func kpiLabels(k *catalogue.KPI, severity string, extra ...string) map[string]string {
	l := map[string]string{c.LabelSeverity: severity, c.LabelOwner: k.Owner}
	if !k.HasDimension(catalogue.DimBlock) {
		l[c.LabelBlock] = k.Block
	}
	for i := 0; i+1 < len(extra); i += 2 {
		l[extra[i]] = extra[i+1]
	}
	return l
}

// statusIs selects the KPI's series whose exporter status is one of
// statuses; "and ignoring (status)" with it keeps the series of an
// expression that the exporter judges so.
func statusIs(k *catalogue.KPI, statuses ...string) string {
	if len(statuses) == 1 {
		return of(k, c.KPIStatus, eq(c.LabelStatus, statuses[0]))
	}
	return of(k, c.KPIStatus, fmt.Sprintf("%s=~%q", c.LabelStatus, strings.Join(statuses, "|")))
}

// judged is an alert on the exporter's judgement of a series, without the
// status label (the alert's name says it).
func judged(k *catalogue.KPI, status string) string {
	return fmt.Sprintf("max without (%s) (%s)", c.LabelStatus, statusIs(k, status))
}

// BehindFor is how long a KPI must be behind plan (or forecast to miss)
// before it alerts: the catalogue's alerts.for, or DefaultBehindFor.
func BehindFor(k *catalogue.KPI) catalogue.Duration {
	if k.Alerts.For > 0 {
		return k.Alerts.For
	}
	return DefaultBehindFor
}

// kpiAlerts are the alerts of one KPI, less the tiers it switches off.
func kpiAlerts(meta catalogue.Metadata, k *catalogue.KPI) []Rule {
	a := kpiAnnotator{k: k, meta: meta, ref: refOf(k)}
	sev := k.Alerts.Severity
	worse := "<"
	if k.Direction == catalogue.LowerIsBetter {
		worse = ">"
	}
	var out []Rule
	add := func(tier string, r Rule) {
		if !k.Disabled(tier) {
			out = append(out, r)
		}
	}
	add(catalogue.TierBehindPlan, Rule{
		Alert: AlertBehindPlan,
		Expr: fmt.Sprintf("%s > %g\nand ignoring (%s)\n%s",
			of(k, c.RecPlanGapRatio), k.Tolerance, c.LabelStatus, statusIs(k, c.StatusAtRisk)),
		For:    BehindFor(k),
		Labels: kpiLabels(k, sev),
		Annotations: a.annotations(AlertBehindPlan, "is behind plan", "chậm so với kế hoạch", map[string]string{
			AnnValue: a.valueNow(), AnnPlan: a.plan(), AnnTarget: a.target(), AnnDaysLeft: a.daysLeft(),
			AnnShortfall: a.value(c.RecPlanGap + selHere),
		}),
	})
	add(catalogue.TierForecastMiss, Rule{
		Alert: AlertForecastMiss,
		Expr: fmt.Sprintf("%s %s %s\nand ignoring (%s)\n%s",
			of(k, c.RecForecast), worse, of(k, c.RecSeriesTarget), c.LabelStatus, statusIs(k, c.StatusOnTrack, c.StatusAtRisk)),
		For:    BehindFor(k),
		Labels: kpiLabels(k, sev),
		Annotations: a.annotations(AlertForecastMiss, "will not reach its target by the deadline at the current pace",
			"với tốc độ hiện tại sẽ không đạt mục tiêu đúng hạn", map[string]string{
				AnnValue: a.valueNow(), AnnTarget: a.target(), AnnDaysLeft: a.daysLeft(),
				AnnForecast: a.value(c.RecForecast + selHere),
			}),
	})
	shortfall := fmt.Sprintf("clamp_min(%s - %s, 0)", c.RecSeriesTarget+selHere, c.KPIValue+selHere)
	if k.Direction == catalogue.LowerIsBetter {
		shortfall = fmt.Sprintf("clamp_min(%s - %s, 0)", c.KPIValue+selHere, c.RecSeriesTarget+selHere)
	}
	add(catalogue.TierTargetMissed, Rule{
		Alert:  AlertTargetMissed,
		Expr:   judged(k, c.StatusMissed),
		For:    judgedFor,
		Labels: kpiLabels(k, raise(sev)),
		Annotations: a.annotations(AlertTargetMissed, "missed its target: the deadline has passed",
			"không đạt mục tiêu: đã quá hạn", map[string]string{
				AnnValue: a.valueNow(), AnnTarget: a.target(), AnnShortfall: a.value(shortfall),
				AnnDeadline: a.ref.figure(c.RecSeriesDeadline+selHere+" - 1", fmtDate, ""),
				// Empty when the governing deadline is a later one: an earlier
				// milestone was missed and the exporter serves the next.
				AnnDaysOverdue: a.ref.figure("(time() - "+c.RecSeriesDeadline+selHere+") / 86400 > 0", fmtDays, ""),
			}),
	})
	add(catalogue.TierReportOverdue, Rule{
		Alert:  AlertReportOverdue,
		Expr:   judged(k, c.StatusStale),
		For:    judgedFor,
		Labels: kpiLabels(k, sev),
		Annotations: a.annotations(AlertReportOverdue,
			"has no fresh report: "+dueText(k.Cadence),
			"quá hạn báo cáo", map[string]string{
				AnnValue: a.valueNow(), AnnLastReport: a.ref.figure(c.KPIReportPeriod+selHere, fmtDate, ""),
			}),
	})
	if !k.Disabled(catalogue.TierDataSuspect) {
		out = append(out, suspectAlerts(a)...)
	}
	return out
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

// suspectAlerts flag figures that cannot be right: a cumulative count that
// fell, a numerator above its denominator, a jump between reports beyond
// the KPI's alerts.max_jump.
func suspectAlerts(a kpiAnnotator) []Rule {
	k := a.k
	rule := func(check, expr, what, whatVI string, figures map[string]string) Rule {
		figures[AnnValue] = a.valueNow()
		return Rule{
			Alert: AlertDataSuspect, Expr: expr, For: judgedFor,
			Labels:      kpiLabels(k, k.Alerts.Severity, LabelCheck, check),
			Annotations: a.annotations(AlertDataSuspect, what, whatVI, figures),
		}
	}
	var out []Rule
	if k.Cumulative {
		w := TrendWindow(k.Cadence.Period)
		high := fmt.Sprintf("max_over_time(%s[%s])", of(k, c.KPIValue), w)
		out = append(out, rule(CheckFell, fmt.Sprintf("%s < %s", of(k, c.KPIValue), high),
			"reported a cumulative figure below an earlier one", "báo cáo số lũy kế thấp hơn kỳ trước",
			map[string]string{AnnPrevious: a.value(fmt.Sprintf("max_over_time(%s%s[%s])", c.KPIValue, selHere, w))}))
	}
	if k.Kind == catalogue.KindRatio {
		out = append(out, rule(CheckRatio, fmt.Sprintf("%s > %s", of(k, c.KPINumerator), of(k, c.KPIDenominator)),
			"reported a numerator above its denominator", "báo cáo tử số lớn hơn mẫu số",
			map[string]string{AnnDenominator: a.ref.figure(c.KPIDenominator+selHere, "humanize", "")}))
	}
	if k.Alerts.MaxJump > 0 {
		p := periodLength(k.Cadence.Period)
		before := fmt.Sprintf("%s offset %s", of(k, c.KPIValue), p)
		out = append(out, rule(CheckJump,
			fmt.Sprintf("abs(%s - %s)\n> %g * abs(%s)", of(k, c.KPIValue), before, k.Alerts.MaxJump, before),
			fmt.Sprintf("changed by more than %g%% between reports", k.Alerts.MaxJump*100),
			fmt.Sprintf("thay đổi hơn %g%% giữa hai kỳ báo cáo", k.Alerts.MaxJump*100),
			map[string]string{AnnPrevious: a.value(fmt.Sprintf("%s%s offset %s", c.KPIValue, selHere, p))}))
	}
	return out
}

// taskAlerts raise one alert per owner with overdue roadmap tasks.
func taskAlerts(meta catalogue.Metadata) []Rule {
	ann := map[string]string{
		AnnSummary:    "{{ $value }} roadmap tasks of " + ownerName(c.LabelOwner, c.LabelName) + " are overdue",
		AnnSummaryVI:  "{{ $value }} nhiệm vụ của " + ownerName(c.LabelOwner, c.LabelNameVI) + " quá hạn",
		AnnOldestDays: fmt.Sprintf(`{{ with printf "max(%s{%s=%%q})" $labels.%s | query }}{{ . | first | value | %s }}{{ end }}`, c.TaskOverdueDays, c.LabelOwner, c.LabelOwner, fmtDays),
	}
	addLinks(ann, meta, AlertTaskOverdue, "")
	return []Rule{{
		Alert: AlertTaskOverdue, Expr: c.TasksOverdue + " > 0", For: judgedFor,
		Labels: map[string]string{c.LabelSeverity: "warning"}, Annotations: ann,
	}}
}

// collectorAlerts raise an alert per source that keeps failing, or whose last
// success is too old (a refresh that hangs never reports a failure).
func collectorAlerts(cat *catalogue.Catalogue) []Rule {
	out := make([]Rule, 0, len(cat.Sources))
	for _, s := range cat.Sources {
		src := eq(c.LabelSource, s.ID)
		ann := map[string]string{
			AnnSummary:   fmt.Sprintf("Source %s ({{ $labels.%s }}) is failing or its data is stale", s.ID, c.LabelCollector),
			AnnSummaryVI: fmt.Sprintf("Nguồn dữ liệu %s ({{ $labels.%s }}) bị lỗi hoặc số liệu đã cũ", s.ID, c.LabelCollector),
			AnnLastSuccess: fmt.Sprintf(`{{ with printf "%s{%s=%%q}" $labels.%s | query }}{{ . | first | value | humanizeTimestamp }}{{ end }}`,
				c.CollectorLastSuccess, c.LabelSource, c.LabelSource),
		}
		addLinks(ann, cat.Metadata, AlertCollectorFailing, "")
		out = append(out, Rule{
			Alert: AlertCollectorFailing,
			Expr: fmt.Sprintf("%s == 0\nor\n(time() - %s) > %d",
				sel(c.CollectorSuccess, src), sel(c.CollectorLastSuccess, src), int64(collectorStaleAfter*s.Interval.Std().Seconds())),
			For:         catalogue.Duration(collectorFailCycles * s.Interval),
			Labels:      map[string]string{c.LabelSeverity: "warning", c.LabelSource: s.ID},
			Annotations: ann,
		})
	}
	return out
}
