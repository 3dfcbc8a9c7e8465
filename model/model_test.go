package model

import (
	"math"
	"slices"
	"testing"
	"time"

	"github.com/kpiwatch/kpiwatch/catalogue"
	"github.com/kpiwatch/kpiwatch/conventions"
)

func month(m int) time.Time { return time.Date(2026, time.Month(m), 1, 0, 0, 0, 0, time.UTC) }

// judgedAt is after the April reports are due and before the May ones are.
var judgedAt = time.Date(2026, 5, 20, 0, 0, 0, 0, time.UTC)

func date(t time.Time) catalogue.Date { return catalogue.Date{Time: t} }

// testKPI is a monthly KPI with a baseline of 0 at the start of 2026 and one
// target, by the end of 2026.
func testKPI(kind catalogue.KPIKind, dims []string, target float64, scope catalogue.Scope) catalogue.KPI {
	return catalogue.KPI{ID: "k", Kind: kind, Direction: catalogue.HigherIsBetter, Owner: "mps", Dimensions: dims, Tolerance: 0.1,
		Cadence:  catalogue.Cadence{Period: catalogue.Monthly, DueDay: 15, Grace: catalogue.Duration(5 * 24 * time.Hour)},
		Baseline: catalogue.Baseline{Date: date(month(1))},
		Targets:  []catalogue.Target{{By: date(time.Date(2026, 12, 31, 0, 0, 0, 0, time.UTC)), Value: target, Effective: date(month(1)), Scope: scope}},
	}
}

func build(t *testing.T, k catalogue.KPI, series ...Series) *KPI {
	t.Helper()
	cat := &catalogue.Catalogue{KPIs: []catalogue.KPI{k}, Owners: []catalogue.Owner{
		{ID: "mps", Block: catalogue.BlockGovernment}, {ID: "moh", Block: catalogue.BlockGovernment}, {ID: "party_office", Block: catalogue.BlockParty}}}
	return &Build(cat, [][]Series{series}, judgedAt).KPIs[0]
}

func at(labels ...string) func(points ...Point) Series {
	return func(points ...Point) Series { return Series{Labels: labels, History: points} }
}

func rollup(t *testing.T, k *KPI, level, name string) *Rollup {
	t.Helper()
	r, ok := k.Rollup(level, name)
	if !ok {
		t.Fatalf("no roll-up %s=%q among %d", level, name, len(k.Rollups))
	}
	return r
}

// A ratio rolls up period by period: a unit that has not reported again
// counts with its last figure, numerators and denominators add (never
// percentages), and the provinces that never reported count as no data.
func TestRatioRollsUpPeriodByPeriod(t *testing.T) {
	k := build(t, testKPI(catalogue.KindRatio, []string{catalogue.DimProvince}, 1, ""),
		at("Ha Noi")(Point{Period: month(2), Num: 1, Den: 10, Value: 0.1}, Point{Period: month(4), Num: 5, Den: 10, Value: 0.5}),
		at("Hue")(Point{Period: month(3), Num: 90, Den: 100, Value: 0.9}),
	)
	w := k.Whole()
	want := []Point{{Period: month(2), Num: 1, Den: 10}, {Period: month(3), Num: 91, Den: 110}, {Period: month(4), Num: 95, Den: 110}}
	if len(w.History) != len(want) {
		t.Fatalf("whole history %+v, want %+v", w.History, want)
	}
	for i, p := range want {
		if g := w.History[i]; !g.Period.Equal(p.Period) || g.Num != p.Num || g.Den != p.Den || g.Value != p.Num/p.Den {
			t.Errorf("period %d: %+v, want %+v", i, g, p)
		}
	}
	if n := w.Units[statusIndex(conventions.StatusNoData)]; n != 32 {
		t.Errorf("%d provinces without data, want 32", n)
	}
	// The whole is judged against the target like a unit: it reaches 1 from
	// 0 over 2026, so 95/110 at the end of April is well ahead of plan.
	if w.Status() != conventions.StatusOnTrack || w.Gap != 0 {
		t.Errorf("whole %s, gap %g: want on_track, no gap", w.Status(), w.Gap)
	}
	if a := w.Attainment(judgedAt); a != 95.0/110 {
		t.Errorf("attainment %g, want %g", a, 95.0/110)
	}
}

// A level rolls up by the catalogue's rollup, the mean by default.
func TestLevelRollsUpByItsRollup(t *testing.T) {
	for rollup, want := range map[string]float64{catalogue.RollupMean: 4, catalogue.RollupMedian: 2.5, catalogue.RollupMin: 1, catalogue.RollupMax: 10} {
		kpi := testKPI(catalogue.KindLevel, []string{catalogue.DimProvince}, 20, "")
		kpi.Rollup = rollup
		var series []Series
		for i, p := range []string{"Ha Noi", "Hue", "Ca Mau", "Lai Chau"} {
			series = append(series, at(p)(Point{Period: month(4), Value: []float64{3, 1, 2, 10}[i]}))
		}
		if got := build(t, kpi, series...).Whole().Value(); got != want {
			t.Errorf("%s: %g, want %g", rollup, got, want)
		}
	}
}

// A milestone's roll-up is the share of its units done, and done when all
// are; a ministry KPI rolls up to each ministry's block as well.
func TestMilestoneRollsUpToTheShareDone(t *testing.T) {
	kpi := testKPI(catalogue.KindMilestone, []string{catalogue.DimMinistry}, 1, "")
	done, notYet := Point{Period: month(4), Value: 1}, Point{Period: month(4), Value: 0}
	k := build(t, kpi, at("moh")(done), at("mps")(notYet), at("party_office")(done))
	if w := k.Whole(); w.Value() != 2.0/3 || w.Status() == conventions.StatusAchieved {
		t.Errorf("two of three done: %g, %s", w.Value(), w.Status())
	}
	if g := rollup(t, k, catalogue.DimBlock, catalogue.BlockGovernment); g.Value() != 0.5 || g.Units[statusIndex(conventions.StatusAchieved)] != 1 {
		t.Errorf("the government block: %g, units %v", g.Value(), g.Units)
	}
	if p := rollup(t, k, catalogue.DimBlock, catalogue.BlockParty); p.Value() != 1 || p.Status() != conventions.StatusAchieved {
		t.Errorf("the party block, all done: %g, %s", p.Value(), p.Status())
	}
}

// A count whose target holds for each commune judges each commune against
// it; its province and national roll-ups are sums with no target of their
// own, never the sum against the per-unit target, and stand as their
// worst unit.
func TestCountForEachUnit(t *testing.T) {
	kpi := testKPI(catalogue.KindCount, []string{catalogue.DimProvince, catalogue.DimCommune}, 500, catalogue.ScopeEach)
	k := build(t, kpi,
		at("Ha Noi", "Ba Dinh")(Point{Period: month(4), Value: 600}),
		at("Ha Noi", "Hoan Kiem")(Point{Period: month(4), Value: 10}),
		at("Hue", "Thuan Hoa")(Point{Period: month(4), Value: 500}),
	)
	for _, s := range k.Series {
		if m, ok := s.Target(judgedAt); !ok || m.Value != 500 {
			t.Errorf("%v judged against %+v (%v), want 500", s.Labels, m, ok)
		}
	}
	w := k.Whole()
	if _, ok := w.Target(judgedAt); ok || w.Value() != 1110 || !math.IsNaN(w.Attainment(judgedAt)) || !math.IsNaN(w.PlanNow(judgedAt)) {
		t.Errorf("whole: value %g, attainment %g, plan %g: want the sum, no target, attainment or plan", w.Value(), w.Attainment(judgedAt), w.PlanNow(judgedAt))
	}
	if w.Status() != conventions.StatusAtRisk || w.Reason() != conventions.ReasonBehindPlan || w.Units[statusIndex(conventions.StatusAchieved)] != 2 {
		t.Errorf("whole %s (%s), units %v: want at risk as Hoan Kiem is, two achieved", w.Status(), w.Reason(), w.Units)
	}
	if h := rollup(t, k, catalogue.DimProvince, "Hue"); h.Value() != 500 || h.Status() != conventions.StatusAchieved {
		t.Errorf("Hue: %g %s", h.Value(), h.Status())
	}
	// The same target for the whole (the default for a count) judges the
	// sum and leaves the communes with no target: only their reporting.
	k = build(t, testKPI(catalogue.KindCount, []string{catalogue.DimProvince, catalogue.DimCommune}, 500, ""), at("Hue", "Thuan Hoa")(Point{Period: month(4), Value: 10}))
	if m, ok := k.Whole().Target(judgedAt); !ok || m.Value != 500 || k.Whole().Status() != conventions.StatusAtRisk {
		t.Errorf("whole-scoped target: %+v %v, %s", m, ok, k.Whole().Status())
	}
	if s := k.Series[0]; s.Status() != conventions.StatusOnTrack || s.Gap != 0 {
		t.Errorf("a commune without a target of its own: %s, gap %g", s.Status(), s.Gap)
	}
}

// A target equal to the baseline attains 1 once met and 0 before: no
// division by zero.
func TestAttainmentOfATargetAtTheBaseline(t *testing.T) {
	kpi := testKPI(catalogue.KindCount, nil, 0, "")
	kpi.Direction = catalogue.LowerIsBetter
	for value, want := range map[float64]float64{0: 1, 3: 0} {
		if got := build(t, kpi, at()(Point{Period: month(4), Value: value})).Whole().Attainment(judgedAt); got != want {
			t.Errorf("%g overdue against 0: attainment %g, want %g", value, got, want)
		}
	}
}

// The levels below the whole: every dimension of a KPI but commune, the
// finest (a KPI by province alone is served per province too, so that its
// per-province alerts read the main endpoint); block for a KPI by ministry.
func TestLevels(t *testing.T) {
	cat := &catalogue.Catalogue{}
	for _, c := range []struct {
		dims, want []string
	}{
		{[]string{catalogue.DimProvince, catalogue.DimCommune}, []string{catalogue.DimProvince}},
		{[]string{catalogue.DimMinistry}, []string{catalogue.DimMinistry, catalogue.DimBlock}},
		{[]string{catalogue.DimProvince}, []string{catalogue.DimProvince}},
		{[]string{catalogue.DimCommune}, nil},
		{[]string{catalogue.DimProvince, "service"}, []string{catalogue.DimProvince, "service"}},
	} {
		k := catalogue.KPI{Dimensions: c.dims}
		if got := Levels(cat, &k); !slices.Equal(got, c.want) {
			t.Errorf("%v: levels %v, want %v", c.dims, got, c.want)
		}
	}
}
