package kpi

import (
	"math"
	"testing"
	"time"

	"github.com/kpiwatch/kpiwatch/catalogue"
	"github.com/kpiwatch/kpiwatch/conventions"
)

func date(s string) time.Time {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		panic(err)
	}
	return t
}

func cdate(s string) catalogue.Date { return catalogue.Date{Time: date(s)} }

// servicesKPI mirrors the essential online services: 25 by end 2022, then 53
// by end 2025, revised in 2024 to 76 by end 2025.
func servicesKPI() *catalogue.KPI {
	return &catalogue.KPI{
		ID: "services", Kind: catalogue.KindCount, Direction: catalogue.HigherIsBetter, Tolerance: 0.1,
		Cadence:  catalogue.Cadence{Period: catalogue.Monthly, DueDay: 15, Grace: catalogue.Duration(5 * 24 * time.Hour)},
		Baseline: catalogue.Baseline{Date: cdate("2022-01-01"), Value: 0},
		Targets: []catalogue.Target{
			{By: cdate("2022-12-31"), Value: 25, Effective: cdate("2022-01-06"), Decision: "06/QD-TTg"},
			{By: cdate("2025-12-31"), Value: 53, Effective: cdate("2022-04-04"), Decision: "422/QD-TTg"},
			{By: cdate("2025-12-31"), Value: 76, Effective: cdate("2024-02-28"), Decision: "206/QD-TTg"},
		},
	}
}

func TestPlanValueAt(t *testing.T) {
	k := servicesKPI()
	cases := []struct {
		name   string
		planAt string // which revision is in force
		at     string
		want   float64
	}{
		{"before the baseline is the baseline", "2023-01-01", "2021-06-01", 0},
		{"on the baseline date", "2023-01-01", "2022-01-01", 0},
		{"half way to the first milestone", "2023-01-01", "2022-07-02", 12.5},
		{"on a deadline is the milestone value", "2023-01-01", "2022-12-31", 25},
		{"between milestones under the first revision", "2023-01-01", "2024-06-30", 25 + 28*float64(date("2024-06-30").Sub(date("2022-12-31")))/float64(date("2025-12-31").Sub(date("2022-12-31")))},
		{"after the last milestone stays flat", "2023-01-01", "2027-01-01", 53},
		{"revised mid-way: later plan heads to 76", "2024-03-01", "2025-12-31", 76},
		{"revised mid-way keeps the past milestone", "2024-03-01", "2022-12-31", 25},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := PlanFor(k, "", date(c.planAt)).ValueAt(date(c.at))
			if math.Abs(got-c.want) > 1e-9 {
				t.Errorf("plan at %s (revision in force %s) = %v, want %v", c.at, c.planAt, got, c.want)
			}
		})
	}
}

func TestRevisionNotYetEffectiveIsIgnored(t *testing.T) {
	p := PlanFor(servicesKPI(), "", date("2024-02-27"))
	if m, _ := p.Governing(date("2024-02-27")); m.Value != 53 || m.Decision != "422/QD-TTg" {
		t.Fatalf("the day before Decision 206 took effect, governing = %+v, want 53 by 422/QD-TTg", m)
	}
	p = PlanFor(servicesKPI(), "", date("2024-02-28"))
	if m, _ := p.Governing(date("2024-02-28")); m.Value != 76 || m.Decision != "206/QD-TTg" {
		t.Fatalf("from 2024-02-28, governing = %+v, want 76 by 206/QD-TTg", m)
	}
}

func TestUnitOwnTargets(t *testing.T) {
	k := servicesKPI()
	k.Targets = append(k.Targets, catalogue.Target{By: cdate("2025-12-31"), Value: 90, Effective: cdate("2022-01-06"), Unit: map[string]string{"province": "Ha Noi"}})
	if got := PlanFor(k, "province=Ha Noi", date("2026-01-01")).ValueAt(date("2026-01-01")); got != 90 {
		t.Errorf("Ha Noi's own plan = %v, want 90", got)
	}
	if got := PlanFor(k, "province=Hue", date("2026-01-01")).ValueAt(date("2026-01-01")); got != 76 {
		t.Errorf("a unit without own targets follows the KPI plan: got %v, want 76", got)
	}
	k.UnitBaselines = []catalogue.UnitBaseline{{Unit: map[string]string{"province": "Ha Noi"}, Date: cdate("2023-01-01"), Value: 30}}
	hn := PlanFor(k, "province=Ha Noi", date("2026-01-01"))
	if hn.BaselineValue != 30 || !hn.BaselineAt.Equal(date("2023-01-01")) || hn.ValueAt(date("2022-06-01")) != 30 {
		t.Errorf("Ha Noi's plan starts from its own baseline: %+v", hn)
	}
	if got := PlanFor(k, "", date("2026-01-01")).BaselineValue; got != 0 {
		t.Errorf("the KPI-wide plan keeps the KPI's baseline: %v", got)
	}
	if got := UnitKeys(k); len(got) != 1 || got[0] != "province=Ha Noi" {
		t.Errorf("UnitKeys = %v", got)
	}
	k.Dimensions = []string{"province", "commune"}
	if got := SeriesUnitKey(k, []string{"Ha Noi", "Phuc Xa"}); got != "province=Ha Noi" {
		t.Errorf("a Ha Noi commune falls under Ha Noi's own targets: %q", got)
	}
	if got := SeriesUnitKey(k, []string{"Hue", "Phu Hoi"}); got != "" {
		t.Errorf("a Hue commune follows the KPI-wide plan: %q", got)
	}
}

func TestGoverningMilestone(t *testing.T) {
	p := PlanFor(servicesKPI(), "", date("2023-01-01"))
	cases := []struct {
		at   string
		want float64
	}{
		{"2022-06-01", 25},
		{"2022-12-31", 25}, // the deadline day still belongs to its milestone
		{"2023-01-01", 53},
		{"2030-01-01", 53}, // after the last, the last governs
	}
	for _, c := range cases {
		if m, ok := p.Governing(date(c.at)); !ok || m.Value != c.want {
			t.Errorf("governing at %s = %v, want %v", c.at, m.Value, c.want)
		}
	}
	if _, ok := (Plan{}).Governing(date("2022-01-01")); ok {
		t.Error("a plan without milestones has no governing milestone")
	}
}

func TestAttainmentAndShortfall(t *testing.T) {
	cases := []struct {
		name                     string
		dir                      catalogue.Direction
		baseline, target, value  float64
		wantAttain, wantShortfal float64
	}{
		{"higher half way", catalogue.HigherIsBetter, 0, 100, 50, 0.5, 50},
		{"higher beyond target", catalogue.HigherIsBetter, 0, 100, 120, 1.2, 0},
		{"lower half way down", catalogue.LowerIsBetter, 75, 0, 37.5, 0.5, 37.5},
		{"lower got worse", catalogue.LowerIsBetter, 75, 0, 90, -0.2, 90},
		{"target equals baseline, met", catalogue.LowerIsBetter, 0, 0, 0, 1, 0},
		{"target equals baseline, not met", catalogue.LowerIsBetter, 0, 0, 3, 0, 3},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := Attainment(c.dir, c.baseline, c.target, c.value); math.Abs(got-c.wantAttain) > 1e-9 {
				t.Errorf("Attainment = %v, want %v", got, c.wantAttain)
			}
			if got := Shortfall(c.dir, c.value, c.target); math.Abs(got-c.wantShortfal) > 1e-9 {
				t.Errorf("Shortfall = %v, want %v", got, c.wantShortfal)
			}
		})
	}
}

func TestRatioRollsUpFromNumeratorsAndDenominators(t *testing.T) {
	// Bac Giang and the former Bac Ninh became one Bac Ninh: 90 of 100 and 10
	// of 100 is 50%, not the 50% average by luck: with unequal sizes the
	// average of percentages would be wrong.
	bigGood := Ratio{Num: 900, Den: 1000}
	smallBad := Ratio{Num: 1, Den: 100}
	merged := bigGood.Add(smallBad)
	if got, want := merged.Value(), 901.0/1100; math.Abs(got-want) > 1e-12 {
		t.Fatalf("merged ratio = %v, want %v", got, want)
	}
	if avg := (bigGood.Value() + smallBad.Value()) / 2; math.Abs(merged.Value()-avg) < 0.1 {
		t.Fatalf("roll-up %v is near the average of percentages %v", merged.Value(), avg)
	}
	if !math.IsNaN((Ratio{}).Value()) {
		t.Error("0/0 must be NaN, not 0")
	}
}

func TestReportDueAndStale(t *testing.T) {
	c := catalogue.Cadence{Period: catalogue.Monthly, DueDay: 15, Grace: catalogue.Duration(5 * 24 * time.Hour)}
	oct := date("2026-10-01")
	if got := ReportDue(c, oct); !got.Equal(date("2026-11-16")) {
		t.Errorf("October's report is due by the end of 15 November: got %v", got)
	}
	// November's report is due by 15 December; five days' grace.
	if got := StaleAfter(c, oct); !got.Equal(date("2026-12-21")) {
		t.Errorf("StaleAfter = %v, want 2026-12-21", got)
	}
	if got := PeriodStart(catalogue.Weekly, date("2026-11-22")); !got.Equal(date("2026-11-16")) {
		t.Errorf("weeks start on Monday: got %v", got)
	}
	if got := PeriodStart(catalogue.Quarterly, date("2026-11-22")); !got.Equal(date("2026-10-01")) {
		t.Errorf("quarter start = %v", got)
	}
}

func TestJudge(t *testing.T) {
	now := date("2026-11-22")
	higher := func() *catalogue.KPI {
		return &catalogue.KPI{
			Kind: catalogue.KindRatio, Direction: catalogue.HigherIsBetter, Tolerance: 0.1,
			Cadence:  catalogue.Cadence{Period: catalogue.Monthly, DueDay: 15, Grace: catalogue.Duration(5 * 24 * time.Hour)},
			Baseline: catalogue.Baseline{Date: cdate("2025-01-01"), Value: 0},
			Targets:  []catalogue.Target{{By: cdate("2026-12-31"), Value: 1, Effective: cdate("2025-01-01")}},
		}
	}
	lower := func() *catalogue.KPI {
		k := higher()
		k.Kind, k.Direction = catalogue.KindCount, catalogue.LowerIsBetter
		k.Baseline.Value = 80
		k.Targets[0].Value = 0
		return k
	}
	milestone := func() *catalogue.KPI {
		k := higher()
		k.Kind = catalogue.KindMilestone
		k.Targets[0].By = cdate("2026-06-30")
		return k
	}
	level := func() *catalogue.KPI {
		k := higher()
		k.Kind = catalogue.KindLevel
		k.Baseline.Value = 0.4
		k.Targets[0].Value = 0.7
		return k
	}
	oct := date("2026-10-01")
	jul := date("2026-07-01")
	obs := func(v float64) *Observation { return &Observation{Period: oct, Value: v} }
	trend := func(v, earlier float64) *Observation {
		return &Observation{Period: oct, Value: v, EarlierPeriod: jul, EarlierValue: earlier}
	}
	// Plan for a series reporting October (as of 1 November) on the path from
	// 0 on 2025-01-01 to 1 on 2026-12-31.
	planNov := float64(date("2026-11-01").Sub(date("2025-01-01"))) / float64(date("2026-12-31").Sub(date("2025-01-01")))
	atRiskBehind := conventions.StatusAtRisk + "/" + conventions.ReasonBehindPlan
	atRiskForecast := conventions.StatusAtRisk + "/" + conventions.ReasonForecastMiss
	cases := []struct {
		name string
		k    *catalogue.KPI
		obs  *Observation
		now  time.Time
		want string // status, and /reason when at risk
	}{
		{"no report at all", higher(), nil, now, conventions.StatusNoData},
		{"on plan", higher(), obs(planNov), now, conventions.StatusOnTrack},
		{"a little behind, within tolerance", higher(), obs(planNov - 0.05), now, conventions.StatusOnTrack},
		{"behind plan beyond tolerance", higher(), obs(planNov - 0.2), now, atRiskBehind},
		{"behind plan and the trend falls short: behind plan wins", higher(), trend(planNov-0.2, planNov-0.21), now, atRiskBehind},
		{"on plan but the trend falls short", higher(), trend(planNov, planNov-0.01), now, atRiskForecast},
		{"on plan and the trend gets there", higher(), trend(planNov, planNov-0.25), now, conventions.StatusOnTrack},
		{"target met early", higher(), obs(1), now, conventions.StatusAchieved},
		{"deadline passed, not met", higher(), &Observation{Period: date("2027-01-01"), Value: 0.97}, date("2027-02-10"), conventions.StatusMissed},
		{"on the deadline day it is not yet missed", higher(), &Observation{Period: date("2026-12-01"), Value: 0.97}, date("2026-12-31").Add(12 * time.Hour), conventions.StatusOnTrack},
		{"last report older than cadence plus grace", higher(), &Observation{Period: date("2026-09-01"), Value: 1}, now, conventions.StatusStale},
		{"late but within grace", higher(), &Observation{Period: date("2026-09-01"), Value: planNov}, date("2026-11-20"), conventions.StatusOnTrack},
		{"lower is better, falling on plan", lower(), trend(80*(1-planNov), 80*(1-planNov)+20), now, conventions.StatusOnTrack},
		{"lower is better, rising is behind", lower(), obs(80), now, atRiskBehind},
		{"lower is better, at zero is achieved", lower(), obs(0), now, conventions.StatusAchieved},
		{"lower is better, deadline passed above target", lower(), &Observation{Period: date("2027-01-01"), Value: 4}, date("2027-02-10"), conventions.StatusMissed},
		{"milestone done", milestone(), &Observation{Period: date("2026-05-01"), Value: 1}, date("2026-06-10"), conventions.StatusAchieved},
		{"milestone not yet done before its date", milestone(), &Observation{Period: date("2026-04-01"), Value: 0}, date("2026-05-10"), conventions.StatusOnTrack},
		{"milestone done needs no more reports", milestone(), &Observation{Period: date("2026-01-01"), Value: 1}, date("2026-11-22"), conventions.StatusAchieved},
		{"milestone not done after its date", milestone(), &Observation{Period: date("2026-06-01"), Value: 0}, date("2026-07-10"), conventions.StatusMissed},
		{"level behind", level(), obs(0.45), now, atRiskBehind},
		{"level reached", level(), obs(0.7), now, conventions.StatusAchieved},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := Judge(c.k, PlanFor(c.k, "", c.now), c.obs, c.now)
			status := got.Status
			if got.Reason != "" {
				status += "/" + got.Reason
			}
			if status != c.want {
				t.Errorf("status = %s, want %s (plan %v, forecast %v, governing %+v)", status, c.want, got.Plan, got.Forecast, got.Governing)
			}
			// The gap is the shortfall from the plan whenever the target is
			// not met, and it is what made a series behind plan at risk.
			wantGap := 0.0
			if c.obs != nil && c.k.Kind != catalogue.KindMilestone && !Met(c.k.Direction, c.obs.Value, got.Governing.Value) {
				wantGap = Shortfall(c.k.Direction, c.obs.Value, got.Plan)
			}
			if math.Abs(got.Gap-wantGap) > 1e-12 {
				t.Errorf("gap = %v, want %v", got.Gap, wantGap)
			}
			if got.Reason == conventions.ReasonBehindPlan && !(got.Gap > c.k.Tolerance*math.Abs(got.Governing.Value-c.k.Baseline.Value)) {
				t.Errorf("behind plan with a gap of %v, within tolerance", got.Gap)
			}
		})
	}
}

func TestRevisionMovesADeadline(t *testing.T) {
	k := servicesKPI()
	k.Targets = append(k.Targets, catalogue.Target{By: cdate("2026-06-30"), Value: 76, Effective: cdate("2025-10-01"), Decision: "extension", Replaces: cdate("2025-12-31")})
	before := PlanFor(k, "", date("2025-09-30"))
	if m, _ := before.Governing(date("2025-09-30")); !m.By.Equal(date("2025-12-31")) {
		t.Fatalf("before the extension the deadline is 2025-12-31, got %v", m.By)
	}
	after := PlanFor(k, "", date("2026-01-15"))
	if m, _ := after.Governing(date("2026-01-15")); !m.By.Equal(date("2026-06-30")) || m.Decision != "extension" {
		t.Fatalf("after the extension the governing milestone is 2026-06-30, got %+v", m)
	}
	if len(after.Milestones) != 2 {
		t.Fatalf("the extension replaces the 2025 milestone and keeps 2022's: %+v", after.Milestones)
	}
}

func TestJudgementGapAndForecast(t *testing.T) {
	now := date("2026-11-22")
	k := &catalogue.KPI{
		Kind: catalogue.KindCount, Direction: catalogue.LowerIsBetter, Tolerance: 0.1,
		Cadence:  catalogue.Cadence{Period: catalogue.Monthly, DueDay: 15, Grace: catalogue.Duration(5 * 24 * time.Hour)},
		Baseline: catalogue.Baseline{Date: cdate("2026-01-01"), Value: 100},
		Targets:  []catalogue.Target{{By: cdate("2026-12-31"), Value: 0, Effective: cdate("2026-01-01")}},
	}
	// October's report stands for 1 November; the path runs to the start of 2026-12-31.
	plan := 100 - 100*float64(date("2026-11-01").Sub(date("2026-01-01")))/float64(date("2026-12-31").Sub(date("2026-01-01")))
	j := Judge(k, PlanFor(k, "", now), &Observation{Period: date("2026-10-01"), Value: 40, EarlierPeriod: date("2026-07-01"), EarlierValue: 70}, now)
	if math.Abs(j.Gap-(40-plan)) > 1e-9 || !(j.Gap > 0) {
		t.Errorf("lower is better, 40 against a plan of %.2f: gap %v, want %v", plan, j.Gap, 40-plan)
	}
	// 30 down in 92 days; 61 days from 1 November to the end of 2026-12-31.
	wantForecast := 40 - 30*float64(date("2027-01-01").Sub(date("2026-11-01")))/float64(date("2026-10-01").Sub(date("2026-07-01")))
	if math.Abs(j.Forecast-wantForecast) > 1e-9 || !j.HasForecast(k, now) {
		t.Errorf("forecast %v (served %v), want %v", j.Forecast, j.HasForecast(k, now), wantForecast)
	}
	if j.HasForecast(k, date("2027-01-02")) {
		t.Error("a forecast for a deadline already passed is served")
	}
	ahead := Judge(k, PlanFor(k, "", now), &Observation{Period: date("2026-10-01"), Value: 5}, now)
	if ahead.Gap != 0 {
		t.Errorf("ahead of plan: gap %v, want 0", ahead.Gap)
	}
	if ahead.HasForecast(k, now) {
		t.Error("a forecast without a trend is served")
	}
}

func TestImpossible(t *testing.T) {
	count := &catalogue.KPI{ID: "c", Kind: catalogue.KindCount}
	ratio := &catalogue.KPI{ID: "r", Kind: catalogue.KindRatio}
	level := &catalogue.KPI{ID: "l", Kind: catalogue.KindLevel, MaxValue: 10}
	done := &catalogue.KPI{ID: "m", Kind: catalogue.KindMilestone}
	for _, c := range []struct {
		k    *catalogue.KPI
		v    float64
		want string
	}{
		{count, 0, ""}, {count, 1e15, ""}, {ratio, 0, ""}, {level, -10, ""}, {done, 0, ""}, {done, 1, ""}, {done, 0.5, ""},
		{count, -1, `-1 is below zero, and kpi "c" is a count`},
		{ratio, -0.5, `-0.5 is below zero, and kpi "r" is a ratio of counts`},
		{count, 1.5e15, `1.5e+15 is beyond 1e+15, the largest figure kpi "c" may have (its max_value)`},
		{level, -11, `-11 is beyond 10, the largest figure kpi "l" may have (its max_value)`},
		{count, math.Inf(1), "+Inf is not a finite number"},
		{level, math.NaN(), "NaN is not a finite number"},
		{done, 2, "2 is not a milestone's 0 (not done) to 1 (done)"},
		{done, -1, "-1 is not a milestone's 0 (not done) to 1 (done)"},
	} {
		err := Impossible(c.k, c.v)
		if (err == nil) != (c.want == "") || err != nil && err.Error() != c.want {
			t.Errorf("Impossible(%s, %g) = %v, want %q", c.k.ID, c.v, err, c.want)
		}
	}
}

func TestInWindow(t *testing.T) {
	now := time.Date(2026, 12, 3, 13, 0, 0, 0, time.UTC)
	monthly := &catalogue.KPI{Cadence: catalogue.Cadence{Period: catalogue.Monthly}}
	old := &catalogue.KPI{Cadence: catalogue.Cadence{Period: catalogue.Yearly}, Baseline: catalogue.Baseline{Date: catalogue.Date{Time: time.Date(2010, 6, 1, 0, 0, 0, 0, time.UTC)}}}
	day := func(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, time.UTC) }
	for _, c := range []struct {
		k    *catalogue.KPI
		t    time.Time
		want string
	}{
		{monthly, day(2015, 1, 1), ""}, {monthly, day(2027, 1, 3), ""}, {old, day(2010, 1, 1), ""}, {old, day(2027, 12, 3), ""},
		{monthly, day(2014, 12, 31), "2014-12-31 is before 2015-01-01, the earliest date a report may be for"},
		{monthly, day(2027, 1, 4), "2027-01-04 is after 2027-01-03, a monthly period from today"},
		{old, day(2009, 12, 31), "2009-12-31 is before 2010-01-01, the earliest date a report may be for"},
	} {
		err := InWindow(c.k, c.t, now)
		if (err == nil) != (c.want == "") || err != nil && err.Error() != c.want {
			t.Errorf("InWindow(%s) = %v, want %q", c.t.Format(time.DateOnly), err, c.want)
		}
	}
}
