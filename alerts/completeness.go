package alerts

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
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

// CompletenessRules is the reporting-completeness group: for each class of
// KPIs whose reports are tracked, the alerts on the exporter's per-unit
// figures (kpi_report_received, kpi_report_on_time, labelled with the
// reporting unit, the KPI's owner and the unit's block): KPIReportMissing
// (switched off with the report_overdue tier) at the KPI's severity,
// routed to its owner with the unit's province or ministry (which gets its
// copy), and KPIReportLate, for information, where the exporter knows when
// reports were sent (it serves kpi_report_on_time only then). Sums per
// block and owner are the boards' to take: a few hundred series.
func CompletenessRules(cat *catalogue.Catalogue) RuleGroup {
	return RuleGroup{Name: CompletenessGroup, Interval: Interval,
		Rules: concat(classes(cat, reportMissing(cat)), classes(cat, reportLate(cat)))}
}

// reporterDim is the dimension whose units report a KPI ("" for the
// owner, of a KPI without dimensions), if the exporter tracks its reports:
// model.Reporters, which the exporter serves completeness by.
func reporterDim(cat *catalogue.Catalogue, k *catalogue.KPI) (string, bool) {
	dim, _, tracked := model.Reporters(cat, k)
	return dim, tracked
}

// tmplReporter names the unit that owes a KPI's report: the unit of its
// dimension (the alert's level), or the owner of a KPI without dimensions.
func (n naming) tmplReporter(dim string, vi bool) string {
	if dim == "" {
		return tmplOwner("$labels."+c.LabelOwner, vi)
	}
	return n.tmplUnit(dim, vi)
}

// completenessLabels are the static labels of a KPI's completeness alerts:
// the severity, the catalogue's alerts.labels and the level of the units
// that report it (which also keeps apart the rules of classes that name
// their units by different labels).
func completenessLabels(k *catalogue.KPI, severity, dim string) map[string]string {
	l := kpiLabels(k, severity)
	l[c.LabelLevel] = cmp.Or(dim, c.LevelWhole)
	return l
}

func completenessAnnotations(meta catalogue.Metadata, n naming, dim, alert string, t text) map[string]string {
	ann := map[string]string{
		AnnSummary:       tmplName + ": " + t.summary,
		AnnSummaryVI:     tmplNameVI + ": " + t.summaryVI,
		AnnDescription:   n.tmplReporter(dim, false) + " " + t.description,
		AnnDescriptionVI: n.tmplReporter(dim, true) + " " + t.descriptionVI,
	}
	addLinks(ann, meta, alert, true)
	return ann
}

func reportMissing(cat *catalogue.Catalogue) ruleOf {
	return func(k *catalogue.KPI, m string) (Rule, bool) {
		dim, tracked := reporterDim(cat, k)
		if !tracked || k.Disabled(catalogue.TierReportOverdue) {
			return Rule{}, false
		}
		return Rule{
			Alert:  AlertReportMissing,
			Expr:   withInfo(latest(sel(c.ReportReceived, m))+" == 0", c.LabelName, c.LabelNameVI),
			Labels: completenessLabels(k, k.Alerts.Severity, dim),
			Annotations: completenessAnnotations(cat.Metadata, namingOf(cat), dim, AlertReportMissing, text{
				"reports missing after the due day", "chưa nhận được báo cáo sau hạn",
				"has not sent its report for the period past its due day.", "chưa gửi báo cáo kỳ đã quá hạn."}),
		}, true
	}
}

func reportLate(cat *catalogue.Catalogue) ruleOf {
	return func(k *catalogue.KPI, m string) (Rule, bool) {
		dim, tracked := reporterDim(cat, k)
		if !tracked || k.Disabled(catalogue.TierReportOverdue) {
			return Rule{}, false
		}
		expr := fmt.Sprintf("%s == 0\nand\n%s == 1", latest(sel(c.ReportOnTime, m)), latest(sel(c.ReportReceived, m)))
		return Rule{
			Alert:  AlertReportLate,
			Expr:   withInfo(expr, c.LabelName, c.LabelNameVI),
			Labels: completenessLabels(k, "info", dim),
			Annotations: completenessAnnotations(cat.Metadata, namingOf(cat), dim, AlertReportLate, text{
				"reports sent after the due day", "báo cáo gửi muộn so với hạn",
				"sent its report for the period after its due day.", "gửi báo cáo kỳ sau hạn."}),
		}, true
	}
}

// kpiRule finds the alert of that name whose class holds the KPI.
func kpiRule(rules []Rule, alert, kpiID string) (Rule, bool) {
	for _, r := range rules {
		if r.Alert == alert && slices.Contains(r.KPIs, kpiID) {
			return r, true
		}
	}
	return Rule{}, false
}

// CompletenessTests are the promtool tests of the completeness group, for
// every KPI whose reports are tracked: a unit whose report is missing
// (KPIReportMissing fires, KPIReportLate must not), one that reported late
// (KPIReportLate fires, KPIReportMissing must not), and one that reported
// on time (neither fires); none fires for a KPI that switches the
// report_overdue tier off. Each ends with a failed scrape the alerts ride
// out.
func CompletenessTests(cat *catalogue.Catalogue, groups []RuleGroup) ([]UnitTest, error) {
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
		dim, reporters, tracked := model.Reporters(cat, k)
		if !tracked {
			continue
		}
		// The series of the first unit that reports it: labelled with the
		// KPI's owner and the unit's block.
		labels := map[string]string{c.LabelKPI: k.ID, c.LabelOwner: k.Owner, c.LabelBlock: k.Block}
		if dim != "" {
			labels[dim] = reporters[0]
		}
		if dim == catalogue.DimMinistry {
			labels[c.LabelBlock] = cat.Owners[slices.IndexFunc(cat.Owners, func(o catalogue.Owner) bool { return o.ID == reporters[0] })].Block
		}
		// The unit owing the report, as the descriptions name it.
		who := nameOf(cat, cmp.Or(dim, c.LabelOwner), labels[cmp.Or(dim, c.LabelOwner)])
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
				{Series: seriesText(c.KPIInfo, infoOf(k)), Values: values(1)},
				{Series: seriesText(c.ReportExpected, labels), Values: values(1)},
				{Series: seriesText(c.ReportReceived, labels), Values: values(sc.received)},
				{Series: seriesText(c.ReportOnTime, labels), Values: values(sc.onTime)},
			}}
			if who.metric != "" {
				t.InputSeries = append(t.InputSeries, InputSeries{Series: seriesText(who.metric, who.labels), Values: values(1)})
			}
			for _, name := range []string{AlertReportMissing, AlertReportLate} {
				at := AlertTest{EvalTime: evalAt, Alertname: name, ExpAlerts: []ExpAlert{}}
				r, enabled := kpiRule(rules, name, k.ID)
				fires := name == AlertReportMissing && sc.received == 0 || name == AlertReportLate && sc.received == 1 && sc.onTime == 0
				if enabled && fires {
					l := maps.Clone(labels)
					maps.Copy(l, r.Labels)
					l[c.LabelName] = k.Name
					if k.NameVI != "" {
						l[c.LabelNameVI] = k.NameVI
					}
					ann, err := expand(namingOf(cat), r.Annotations, l, firing{where: who.where})
					if err != nil {
						return nil, fmt.Errorf("kpi %s: %s: %w", k.ID, name, err)
					}
					at.ExpAlerts = append(at.ExpAlerts, ExpAlert{ExpLabels: l, ExpAnnotations: ann})
				}
				t.AlertTests = append(t.AlertTests, at)
			}
			tests = append(tests, t)
		}
	}
	return tests, nil
}
