package alerts

import (
	"slices"
	"testing"

	"github.com/kpiwatch/kpiwatch/catalogue"
	c "github.com/kpiwatch/kpiwatch/conventions"
)

// alertsByKPI lists, per KPI, the alerts of the completeness group.
func alertsByKPI(groups []RuleGroup) map[string][]string {
	out := map[string][]string{}
	for _, r := range groups[0].Rules {
		if r.Alert != "" {
			out[r.Labels[c.LabelKPI]] = append(out[r.Labels[c.LabelKPI]], r.Alert)
		}
	}
	return out
}

func TestCompletenessRules(t *testing.T) {
	p06 := project06Catalogue(t)
	groups := CompletenessRules(p06)
	if len(groups) != 1 || groups[0].Name != CompletenessGroup {
		t.Fatalf("groups %+v, want one named %s", groups, CompletenessGroup)
	}
	var recorded []string
	for _, r := range groups[0].Rules {
		if r.Record != "" {
			recorded = append(recorded, r.Record)
		}
	}
	for _, name := range []string{c.RecBlockReportExpected, c.RecBlockReportReceived, c.RecBlockReportOnTime,
		c.RecOwnerReportExpected, c.RecOwnerReportReceived, c.RecOwnerReportOnTime} {
		if !slices.Contains(recorded, name) {
			t.Errorf("%s is not recorded", name)
		}
	}
	alerts := alertsByKPI(groups)
	for _, k := range p06.KPIs {
		want := []string{AlertReportMissing}
		// The provinces' monthly report says when each province sent it.
		if k.Source == "provinces_monthly_report" {
			want = append(want, AlertReportLate)
		}
		if !slices.Equal(alerts[k.ID], want) {
			t.Errorf("%s: alerts %v, want %v", k.ID, alerts[k.ID], want)
		}
	}
	for _, r := range groups[0].Rules {
		if r.Labels[c.LabelKPI] == "roadmap_tasks_overdue" {
			if b, ok := r.Labels[c.LabelBlock]; ok {
				t.Errorf("%s on a ministry KPI sets block %q over the reporting ministry's own", r.Alert, b)
			}
		}
		if r.Alert == AlertReportLate && r.Labels[c.LabelSeverity] != "info" {
			t.Errorf("%s of %s has severity %s, want info", r.Alert, r.Labels[c.LabelKPI], r.Labels[c.LabelSeverity])
		}
	}

	// The test catalogue switches report_overdue off for digital_readiness
	// and breaks it down by block.
	test := testCatalogue(t)
	k, _ := test.KPI("digital_readiness")
	if !k.Disabled(catalogue.TierReportOverdue) {
		t.Fatal("the test catalogue no longer disables report_overdue on digital_readiness")
	}
	if a := alertsByKPI(CompletenessRules(test)); len(a["digital_readiness"]) != 0 || len(a["tasks_behind_schedule"]) != 1 {
		t.Errorf("alerts %v: want none for digital_readiness, KPIReportMissing for tasks_behind_schedule", a)
	}
}

// Every alert of the group has a generated case where it fires and one
// where it must not, for every KPI it watches.
func TestCompletenessTestsCoverEveryAlert(t *testing.T) {
	for name, cat := range catalogues(t) {
		groups := CompletenessRules(cat)
		fires, silent := map[string]int{}, map[string]int{}
		for _, ut := range CompletenessTests(cat, groups) {
			for _, at := range ut.AlertTests {
				if len(at.ExpAlerts) > 0 {
					fires[at.Alertname]++
				} else {
					silent[at.Alertname]++
				}
			}
		}
		for kpiID, alerts := range alertsByKPI(groups) {
			for _, a := range alerts {
				if fires[a] == 0 || silent[a] == 0 {
					t.Errorf("%s: %s of %s: %d cases fire, %d must not", name, a, kpiID, fires[a], silent[a])
				}
			}
		}
	}
}
