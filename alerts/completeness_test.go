package alerts

import (
	"slices"
	"strings"
	"testing"

	"github.com/kpiwatch/kpiwatch/catalogue"
	c "github.com/kpiwatch/kpiwatch/conventions"
)

// alertsByKPI lists, per KPI, the alerts of the completeness group whose
// class holds it.
func alertsByKPI(g RuleGroup) map[string][]string {
	out := map[string][]string{}
	for _, r := range g.Rules {
		for _, id := range r.KPIs {
			out[id] = append(out[id], r.Alert)
		}
	}
	return out
}

func TestCompletenessRules(t *testing.T) {
	p06 := project06Catalogue(t)
	g := CompletenessRules(p06)
	if g.Name != CompletenessGroup {
		t.Fatalf("group %s, want %s", g.Name, CompletenessGroup)
	}
	alerts := alertsByKPI(g)
	for _, k := range p06.KPIs {
		// Every Project 06 KPI reports as a whole, by province or by ministry.
		if want := []string{AlertReportMissing, AlertReportLate}; !slices.Equal(alerts[k.ID], want) {
			t.Errorf("%s: alerts %v, want %v", k.ID, alerts[k.ID], want)
		}
	}
	for _, r := range g.Rules {
		if r.Record != "" {
			t.Errorf("the completeness group records %s: the boards sum the served figures", r.Record)
		}
		if r.Alert == AlertReportLate && r.Labels[c.LabelSeverity] != "info" {
			t.Errorf("%s of %v has severity %s, want info", r.Alert, r.KPIs, r.Labels[c.LabelSeverity])
		}
		// A ministry's report keeps the ministry's own block, which the
		// served series carries: no rule sets one.
		if b, ok := r.Labels[c.LabelBlock]; ok {
			t.Errorf("%s of %v sets block %q over the reporting unit's own", r.Alert, r.KPIs, b)
		}
	}

	// The test catalogue switches report_overdue off for digital_readiness
	// (broken down by block), and does not track reports broken down by two
	// dimensions.
	test := testCatalogue(t)
	k, _ := test.KPI("digital_readiness")
	if !k.Disabled(catalogue.TierReportOverdue) {
		t.Fatal("the test catalogue no longer disables report_overdue on digital_readiness")
	}
	a := alertsByKPI(CompletenessRules(test))
	if len(a["digital_readiness"]) != 0 || len(a["dossiers_by_channel"]) != 0 || len(a["tasks_behind_schedule"]) != 2 {
		t.Errorf("alerts %v: want none for digital_readiness and dossiers_by_channel, both for tasks_behind_schedule", a)
	}
}

// Every alert of the group has a generated case where it fires and one
// where it must not, for every KPI it watches.
func TestCompletenessTestsCoverEveryAlert(t *testing.T) {
	for name, cat := range catalogues(t) {
		g := CompletenessRules(cat)
		tests, err := CompletenessTests(cat, []RuleGroup{g})
		if err != nil {
			t.Fatal(err)
		}
		fires, silent := map[string]int{}, map[string]int{}
		for _, ut := range tests {
			for _, at := range ut.AlertTests {
				kpiID, _, _ := strings.Cut(ut.Name, ":")
				key := kpiID + "/" + at.Alertname
				if len(at.ExpAlerts) > 0 {
					fires[key]++
				} else {
					silent[key]++
				}
			}
		}
		for kpiID, alerts := range alertsByKPI(g) {
			for _, a := range alerts {
				if key := kpiID + "/" + a; fires[key] == 0 || silent[key] == 0 {
					t.Errorf("%s: %s of %s: %d cases fire, %d must not", name, a, kpiID, fires[key], silent[key])
				}
			}
		}
	}
}
