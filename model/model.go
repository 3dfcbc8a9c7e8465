// Package model is kpiwatch's one judged model: from a catalogue, the
// observed series of its KPIs and an instant, it judges every series, rolls
// the units of every KPI up to each level (the whole, province, block,
// ministry, declared dimensions) and judges each roll-up against the target
// of its own level, and works out the reports expected. The exporter renders
// it, the pages, the briefing and backfill show it; nothing else computes a
// figure. Everything here is a pure function of its arguments: the model as
// of any day is Build on the data as it stood then (AsOf).
//
// It imports no collector, exporter or SQL driver, so that the generators
// and the pages can use it without linking a source's dependencies.
package model

import (
	"math"
	"slices"
	"strings"
	"time"

	"github.com/kpiwatch/kpiwatch/catalogue"
	"github.com/kpiwatch/kpiwatch/conventions"
	"github.com/kpiwatch/kpiwatch/internal/parallel"
	"github.com/kpiwatch/kpiwatch/kpi"
)

// Model is the judgement of a catalogue's data at Now. It is shared and
// read-only: nothing in it may be modified.
type Model struct {
	Catalogue *catalogue.Catalogue
	Now       time.Time
	KPIs      []KPI // in catalogue order
	// Reports are the reports expected on each KPI's last due period: the
	// compliance table of who has not reported, or reported late.
	Reports []Report
}

// KPI is one KPI with each of its series and roll-ups judged.
type KPI struct {
	KPI *catalogue.KPI
	// Series holds the observed series ordered by labels, then the expected
	// units that never reported (History nil, status no_data).
	Series []Judged
	// Rollups are the KPI's roll-ups: the whole first, then each level in
	// the order of Levels, by the level's value.
	Rollups []Rollup
}

// Judged is a series (or a roll-up's figure) with its judgement.
type Judged struct {
	Labels  []string  // in the order of the KPI's dimensions; nil for a roll-up
	History []Point   // oldest first; nil for a unit that never reported
	Plan    *kpi.Plan // the plan that governs it; shared, read-only
	Verdict
}

// Rollup is the KPI's units rolled up within one value of a level, judged
// against the target of that level.
type Rollup struct {
	// Level is conventions.LevelWhole or a dimension's name; Name is the
	// level's value ("" for the whole).
	Level, Name string
	// History is the roll-up's figure period by period: at each period a
	// unit reported, every unit's latest report by then rolled up (a unit
	// that has not reported again counts with its last figure).
	Judged
	// Units counts the units within in each status, by index in
	// conventions.Statuses.
	Units []int
	// Worst names its worst parts in each of NamedStatuses some part is in.
	Worst []Worst
}

// Latest is the series' latest point; ok is false for a unit that never
// reported.
func (s *Judged) Latest() (Point, bool) {
	if len(s.History) == 0 {
		return Point{}, false
	}
	return s.History[len(s.History)-1], true
}

// Value is the latest figure, NaN without a report.
func (s *Judged) Value() float64 {
	if p, ok := s.Latest(); ok {
		return p.Value
	}
	return math.NaN()
}

// Target is the milestone that governs at now; ok is false where no target
// holds at the series' level (the units of a count whose targets are for
// the whole, the roll-ups of a count whose targets are for each unit).
func (s *Judged) Target(now time.Time) (kpi.Milestone, bool) {
	if !s.Plan.HasTarget() {
		return kpi.Milestone{}, false
	}
	return s.Plan.Governing(now)
}

// PlanNow is what the plan expects at now (NaN without a target).
func (s *Judged) PlanNow(now time.Time) float64 {
	if !s.Plan.HasTarget() {
		return math.NaN()
	}
	return s.Plan.ValueAt(now)
}

// Attainment is how far the latest figure has come from the baseline to
// the target at now (1 on target); NaN without a report or a target.
func (s *Judged) Attainment(now time.Time) float64 {
	m, ok := s.Target(now)
	p, reported := s.Latest()
	if !ok || !reported || math.IsNaN(p.Value) {
		return math.NaN()
	}
	return kpi.Attainment(s.Plan.Direction, s.Plan.BaselineValue, m.Value, p.Value)
}

// Whole is the KPI's roll-up of every unit: its national figure.
func (k *KPI) Whole() *Rollup { return &k.Rollups[0] }

// Label is the series' value of dimension d, "" when the KPI has no such
// dimension.
func (k *KPI) Label(s *Judged, d string) string {
	if i := slices.Index(k.KPI.Dimensions, d); i >= 0 {
		return s.Labels[i]
	}
	return ""
}

// Rollup finds the roll-up of level's value name.
func (k *KPI) Rollup(level, name string) (*Rollup, bool) {
	for i := range k.Rollups {
		if r := &k.Rollups[i]; r.Level == level && r.Name == name {
			return r, true
		}
	}
	return nil, false
}

// Build judges the observed series (grouped any way, by source for the
// exporter; a KPI's series in one group, ordered by labels) of cat at now.
func Build(cat *catalogue.Catalogue, series [][]Series, now time.Time) *Model {
	return Prepare(cat, series).At(now)
}

// Prepared is what the model takes from the reports alone, whatever the
// instant: each KPI's series with the plausibility checks of their latest
// reports, the expected units that never reported, and the roll-ups'
// members and histories. At judges it at an instant, so that backfill
// prepares once per set of reports in force and judges every step. It is
// read-only and may be judged at several instants at once.
type Prepared struct {
	cat    *catalogue.Catalogue
	series [][]Series
	kpis   []preparedKPI
}

type preparedKPI struct {
	// series are the observed series, then the expected units that never
	// reported; Plan and the verdict but the checks are set by At.
	series []Judged
	groups []group // the roll-ups, in the order of KPI.Rollups
}

// Prepare takes from the observed series of cat (grouped as for Build)
// what does not depend on the instant.
func Prepare(cat *catalogue.Catalogue, series [][]Series) *Prepared {
	p := &Prepared{cat: cat, series: series, kpis: make([]preparedKPI, len(cat.KPIs))}
	byKPI := make([][]*Series, len(cat.KPIs))
	for _, src := range series {
		for i := range src {
			byKPI[src[i].KPI] = append(byKPI[src[i].KPI], &src[i])
		}
	}
	parallel.ForEach(len(cat.KPIs), func() func(i int) {
		return func(i int) { p.kpis[i] = prepareKPI(cat, &cat.KPIs[i], byKPI[i]) }
	})
	return p
}

func prepareKPI(cat *catalogue.Catalogue, k *catalogue.KPI, series []*Series) preparedKPI {
	out := preparedKPI{series: make([]Judged, len(series))}
	for i, s := range series {
		out.series[i] = Judged{Labels: s.Labels, History: s.History, Verdict: Verdict{suspect: suspectChecks(k, s)}}
	}
	for _, labels := range unreported(cat, k, series) {
		out.series = append(out.series, Judged{Labels: labels})
	}
	out.groups = groupsOf(cat, k, out.series)
	return out
}

// At is the model as of now.
func (p *Prepared) At(now time.Time) *Model {
	m := &Model{Catalogue: p.cat, Now: now, KPIs: make([]KPI, len(p.cat.KPIs)), Reports: completeness(p.cat, p.series, now)}
	parallel.ForEach(len(p.cat.KPIs), func() func(i int) {
		return func(i int) { m.KPIs[i] = p.kpis[i].at(p.cat, &p.cat.KPIs[i], now) }
	})
	return m
}

// at judges one KPI's series and roll-ups at now.
func (pk *preparedKPI) at(cat *catalogue.Catalogue, k *catalogue.KPI, now time.Time) KPI {
	plans := newPlans(k, now)
	out := KPI{KPI: k, Series: make([]Judged, len(pk.series))}
	for i := range pk.series {
		s := &pk.series[i]
		plan := plans.unit(s.Labels)
		v := judge(k, plan, &Series{History: s.History}, now)
		v.suspect = s.suspect
		out.Series[i] = Judged{Labels: s.Labels, History: s.History, Plan: plan, Verdict: v}
	}
	out.Rollups = judgeRollups(k, pk.groups, out.Series, plans, now)
	nameWorst(cat, &out, pk.groups)
	return out
}

// plans holds a KPI's plans in force at one instant, shared by the series
// and roll-ups they govern.
type plans struct {
	k     *catalogue.KPI
	whole kpi.Plan
	each  kpi.Plan
	none  kpi.Plan             // no target: a count's roll-up below the whole
	own   map[string]*kpi.Plan // by kpi.UnitKey, units with targets of their own
}

func newPlans(k *catalogue.KPI, now time.Time) *plans {
	p := &plans{k: k, whole: kpi.WholePlan(k, now), each: kpi.EachPlan(k, now), own: map[string]*kpi.Plan{}}
	p.none = kpi.Plan{BaselineAt: p.whole.BaselineAt, BaselineValue: p.whole.BaselineValue, Direction: k.Direction}
	for _, u := range kpi.UnitKeys(k) {
		plan := kpi.PlanFor(k, u, now)
		p.own[u] = &plan
	}
	return p
}

// unit is the plan of an observed series: its unit's own, or the one each
// unit follows; the whole's for a KPI without dimensions.
func (p *plans) unit(labels []string) *kpi.Plan {
	if len(p.k.Dimensions) == 0 {
		return &p.whole
	}
	if len(p.own) > 0 {
		if u := kpi.SeriesUnitKey(p.k, labels); u != "" {
			return p.own[u]
		}
	}
	return &p.each
}

// rollup is the plan of a roll-up below the whole: a target the catalogue
// sets for that unit (province=Ha Noi), or the one each unit follows but
// for a count, whose units' sum is not held to what each must reach; a
// roll-up of one unit follows that unit's plan.
func (p *plans) rollup(level, name string) *kpi.Plan {
	if len(p.k.Dimensions) == 1 && level == p.k.Dimensions[0] {
		// A KPI's only dimension: each roll-up is one unit (its former
		// units merged in), judged as that unit is.
		return p.unit([]string{name})
	}
	if plan, ok := p.own[level+"="+name]; ok {
		return plan
	}
	if p.k.Kind == catalogue.KindCount {
		return &p.none
	}
	return &p.each
}

// unreported lists the labels of each expected unit of k that has never
// reported: every unit in force of the listed level a KPI is broken down
// by alone (the 34 provinces, a province's communes), the KPI itself for a
// national one.
func unreported(cat *catalogue.Catalogue, k *catalogue.KPI, series []*Series) [][]string {
	var expected [][]string
	if len(k.Dimensions) == 0 {
		expected = [][]string{{}}
	}
	for _, name := range listedUnits(cat, k) {
		expected = append(expected, []string{name})
	}
	if expected == nil {
		return nil
	}
	reported := map[string]bool{}
	for _, s := range series {
		reported[strings.Join(s.Labels, "\xff")] = true
	}
	var missing [][]string
	for _, labels := range expected {
		if !reported[strings.Join(labels, "\xff")] {
			missing = append(missing, labels)
		}
	}
	return missing
}

// statusIndex is a status's index in conventions.Statuses.
func statusIndex(status string) int { return slices.Index(conventions.Statuses, status) }
