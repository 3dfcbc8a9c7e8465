package alerts

import (
	"fmt"
	"maps"
	"strings"
	"time"

	"github.com/kpiwatch/kpiwatch/catalogue"
	c "github.com/kpiwatch/kpiwatch/conventions"
	"github.com/kpiwatch/kpiwatch/model"
)

// Reporting-completeness alerts: a unit that has not sent its report on a
// KPI's last due period, and one that sent it after the due day.
const (
	AlertReportMissing = "KPIReportMissing"
	AlertReportLate    = "KPIReportLate"
)

// CompletenessGroup is the name of the reporting-completeness group.
const CompletenessGroup = "kpiwatch.completeness"

// CompletenessRules is the reporting-completeness group: reports expected,
// received and received on time summed per KPI and block and per KPI and
// owner (the exporter serves them per unit only), and for each KPI whose
// reports are tracked the alerts on the exporter's per-unit figures:
// KPIReportMissing (switched off with the report_overdue tier) at the
// KPI's severity, routed to its owner with the unit's province or ministry
// (which gets its copy), and KPIReportLate, for information, where the
// source says when reports were sent.
func CompletenessRules(cat *catalogue.Catalogue) []RuleGroup {
	var rules []Rule
	for _, r := range []struct{ record, metric, by string }{
		{c.RecBlockReportExpected, c.ReportExpected, c.LabelBlock},
		{c.RecBlockReportReceived, c.ReportReceived, c.LabelBlock},
		{c.RecBlockReportOnTime, c.ReportOnTime, c.LabelBlock},
		{c.RecOwnerReportExpected, c.ReportExpected, c.LabelOwner},
		{c.RecOwnerReportReceived, c.ReportReceived, c.LabelOwner},
		{c.RecOwnerReportOnTime, c.ReportOnTime, c.LabelOwner},
	} {
		rules = append(rules, Rule{Record: r.record, Expr: fmt.Sprintf("sum by (%s) (%s)", byLabels(c.LabelKPI, r.by), r.metric)})
	}
	for i := range cat.KPIs {
		k := &cat.KPIs[i]
		if _, _, tracked := model.Reporters(cat, k); tracked && !k.Disabled(catalogue.TierReportOverdue) {
			rules = append(rules, completenessAlerts(cat, k)...)
		}
	}
	return []RuleGroup{{Name: CompletenessGroup, Interval: SharedInterval, Rules: rules}}
}

// reporterText is the template naming the unit that owes a KPI's report.
func reporterText(cat *catalogue.Catalogue, k *catalogue.KPI) string {
	dim, _, _ := model.Reporters(cat, k)
	if dim == "" {
		return "{{ $labels.owner }}"
	}
	return "{{ $labels." + dim + " }}"
}

func completenessAlerts(cat *catalogue.Catalogue, k *catalogue.KPI) []Rule {
	who := reporterText(cat, k)
	annotations := func(alert, summary, summaryVI, description, descriptionVI string) map[string]string {
		ann := map[string]string{
			AnnSummary:       k.Name + ": " + summary,
			AnnSummaryVI:     k.NameVI + ": " + summaryVI,
			AnnDescription:   who + " " + description,
			AnnDescriptionVI: who + " " + descriptionVI,
		}
		if k.NameVI == "" {
			ann[AnnSummaryVI] = k.Name + ": " + summaryVI
		}
		addLinks(ann, cat.Metadata, alert, k.ID)
		return ann
	}
	// The alert keeps the series' own block: a ministry reports in its
	// block, not in the block of the KPI it reports on.
	dim, _, _ := model.Reporters(cat, k)
	withKPI := func(l map[string]string) map[string]string {
		l[c.LabelKPI] = k.ID
		if dim == catalogue.DimMinistry || dim == catalogue.DimBlock {
			delete(l, c.LabelBlock)
		}
		return l
	}
	out := []Rule{{
		Alert:  AlertReportMissing,
		Expr:   latest(of(k, c.ReportReceived)) + " == 0",
		Labels: withKPI(kpiLabels(k, k.Alerts.Severity)),
		Annotations: annotations(AlertReportMissing,
			"reports missing after the due day", "chưa nhận được báo cáo sau hạn",
			"has not sent its report for the period past its due day.",
			"chưa gửi báo cáo kỳ đã quá hạn."),
	}}
	if src, ok := source(cat, k.Source); ok && model.SendsDates(src) {
		out = append(out, Rule{
			Alert:  AlertReportLate,
			Expr:   fmt.Sprintf("%s == 0\nand\n%s == 1", latest(of(k, c.ReportOnTime)), latest(of(k, c.ReportReceived))),
			Labels: withKPI(kpiLabels(k, "info")),
			Annotations: annotations(AlertReportLate,
				"reports sent after the due day", "báo cáo gửi muộn so với hạn",
				"sent its report for the period after its due day.",
				"gửi báo cáo kỳ sau hạn."),
		})
	}
	return out
}

// kpiRule finds the alert of that name on the KPI.
func kpiRule(rules []Rule, alert, kpiID string) (Rule, bool) {
	for _, r := range rules {
		if r.Alert == alert && r.Labels[c.LabelKPI] == kpiID {
			return r, true
		}
	}
	return Rule{}, false
}

func source(cat *catalogue.Catalogue, id string) (catalogue.Source, bool) {
	for _, s := range cat.Sources {
		if s.ID == id {
			return s, true
		}
	}
	return catalogue.Source{}, false
}

// CompletenessTests are the promtool tests of the completeness group, for
// every KPI it alerts on: a unit whose report is missing (KPIReportMissing
// fires, KPIReportLate must not), one that reported late (KPIReportLate
// fires where the source dates its reports, KPIReportMissing must not), and
// one that reported on time (neither fires). Each ends with a failed scrape
// the alerts ride out.
func CompletenessTests(cat *catalogue.Catalogue, groups []RuleGroup) []UnitTest {
	var rules []Rule
	for _, g := range groups {
		if g.Name == CompletenessGroup {
			rules = g.Rules
		}
	}
	const steps = 13 // an hour of samples every 5 minutes
	evalAt := promDuration(time.Duration(steps-1) * testSampleStep)
	var tests []UnitTest
	for i := range cat.KPIs {
		k := &cat.KPIs[i]
		dim, unitsOf, tracked := model.Reporters(cat, k)
		if !tracked {
			continue
		}
		labels := map[string]string{c.LabelKPI: k.ID, c.LabelOwner: k.Owner, c.LabelBlock: k.Block}
		if dim != "" {
			labels[dim] = unitsOf[0]
			if dim == catalogue.DimMinistry || dim == catalogue.DimBlock {
				if o, ok := cat.Owner(unitsOf[0]); ok {
					labels[c.LabelBlock] = o.Block
				} else {
					labels[c.LabelBlock] = unitsOf[0]
				}
			}
		}
		src, _ := source(cat, k.Source)
		dated := model.SendsDates(src)
		for _, sc := range []struct {
			name             string
			received, onTime float64
		}{
			{"report missing", 0, 0},
			{"report late", 1, 0},
			{"report on time", 1, 1},
		} {
			values := func(v float64) string { return fmt.Sprintf("%gx%d stale", v, steps-2) }
			t := UnitTest{Name: k.ID + ": " + sc.name, Interval: promDuration(testSampleStep), InputSeries: []InputSeries{
				{Series: seriesText(c.ReportExpected, labels), Values: values(1)},
				{Series: seriesText(c.ReportReceived, labels), Values: values(sc.received)},
			}}
			if dated {
				t.InputSeries = append(t.InputSeries, InputSeries{Series: seriesText(c.ReportOnTime, labels), Values: values(sc.onTime)})
			}
			for _, name := range []string{AlertReportMissing, AlertReportLate} {
				at := AlertTest{EvalTime: evalAt, Alertname: name, ExpAlerts: []ExpAlert{}}
				r, enabled := kpiRule(rules, name, k.ID)
				fires := name == AlertReportMissing && sc.received == 0 || name == AlertReportLate && sc.received == 1 && sc.onTime == 0
				if enabled && fires {
					l := maps.Clone(labels)
					maps.Copy(l, r.Labels)
					l[c.LabelAlertName] = name
					at.ExpAlerts = append(at.ExpAlerts, ExpAlert{ExpLabels: l, ExpAnnotations: expandReporter(r.Annotations, dim, labels)})
				}
				t.AlertTests = append(t.AlertTests, at)
			}
			tests = append(tests, t)
		}
	}
	return tests
}

// expandReporter fills the one template action the annotations carry, the
// unit's label, as Prometheus will.
func expandReporter(ann map[string]string, dim string, labels map[string]string) map[string]string {
	if dim == "" {
		dim = c.LabelOwner
	}
	out := map[string]string{}
	for key, v := range ann {
		out[key] = strings.ReplaceAll(v, "{{ $labels."+dim+" }}", labels[dim])
	}
	return out
}
