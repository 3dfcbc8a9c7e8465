package model

import (
	"slices"
	"strings"
	"time"

	"github.com/kpiwatch/kpiwatch/catalogue"
	"github.com/kpiwatch/kpiwatch/conventions"
)

// level is a roll-up level below the whole and how a series' value of it
// is read from its labels.
type level struct {
	name string
	of   func(labels []string) string
}

// Levels are the levels, below the whole, that a KPI's units roll up to:
// each of its dimensions but commune, the finest (province for a commune
// KPI; for a KPI by province alone, each province, its former provinces
// merged in, judged against its own target), and block for a KPI broken
// down by ministry (each ministry's block). Every level is served on the
// main endpoint, so that the alerts and boards about a province or a
// ministry read minute-fresh series of a few dozen, never the unit endpoint.
func Levels(cat *catalogue.Catalogue, k *catalogue.KPI) []string {
	var out []string
	for _, l := range levelsOf(cat, k) {
		out = append(out, l.name)
	}
	return out
}

func levelsOf(cat *catalogue.Catalogue, k *catalogue.KPI) []level {
	var out []level
	for i, d := range k.Dimensions {
		if d != catalogue.DimCommune {
			out = append(out, level{d, func(labels []string) string { return labels[i] }})
		}
	}
	if i := slices.Index(k.Dimensions, catalogue.DimMinistry); i >= 0 && !slices.Contains(k.Dimensions, catalogue.DimBlock) {
		out = append(out, level{catalogue.DimBlock, func(labels []string) string {
			o, _ := cat.Owner(labels[i])
			return o.Block
		}})
	}
	return out
}

// accumulator gathers a roll-up's units period by period: at each period,
// every unit's latest report by then.
type accumulator struct {
	has                    []bool // a unit reported on the period
	sum, num, den, n, done []float64
	values                 [][]float64 // for a median, minimum or maximum
	members                int
}

func newAccumulator(periods int, keepValues bool) *accumulator {
	a := &accumulator{has: make([]bool, periods), sum: make([]float64, periods), num: make([]float64, periods),
		den: make([]float64, periods), n: make([]float64, periods), done: make([]float64, periods)}
	if keepValues {
		a.values = make([][]float64, periods)
	}
	return a
}

func (a *accumulator) add(p int, pt *Point) {
	a.sum[p] += pt.Value
	a.num[p] += pt.Num
	a.den[p] += pt.Den
	a.n[p]++
	if pt.Value >= 1 {
		a.done[p]++
	}
	if a.values != nil {
		a.values[p] = append(a.values[p], pt.Value)
	}
}

// point is the roll-up's figure at period p: counts add, ratios are the sum
// of numerators over the sum of denominators, levels take the KPI's
// rollup, milestones the share of units done.
func (a *accumulator) point(k *catalogue.KPI, p int, at time.Time) (Point, bool) {
	pt := Point{Period: at}
	switch k.Kind {
	case catalogue.KindCount:
		pt.Value = a.sum[p]
	case catalogue.KindRatio:
		pt.Num, pt.Den = a.num[p], a.den[p]
		if pt.Den == 0 {
			return pt, false
		}
		pt.Value = pt.Num / pt.Den
	case catalogue.KindMilestone:
		pt.Num, pt.Den = a.done[p], float64(a.members)
		pt.Value = pt.Num / pt.Den
	case catalogue.KindLevel:
		switch vs := a.values; k.Rollup {
		case catalogue.RollupMedian:
			pt.Value = median(vs[p])
		case catalogue.RollupMin:
			pt.Value = slices.Min(vs[p])
		case catalogue.RollupMax:
			pt.Value = slices.Max(vs[p])
		default:
			pt.Value = a.sum[p] / a.n[p]
		}
	}
	return pt, true
}

func median(vs []float64) float64 {
	slices.Sort(vs)
	n := len(vs)
	if n%2 == 1 {
		return vs[n/2]
	}
	return (vs[n/2-1] + vs[n/2]) / 2
}

// group is a roll-up as far as the reports alone make it: its level and
// name, its units (indexes into the KPI's series) and its history.
type group struct {
	level, name string
	members     []int
	history     []Point
}

// groupsOf rolls the series of k up to the whole and every level, in the
// order of KPI.Rollups: the whole first, then each level in order, by
// value.
func groupsOf(cat *catalogue.Catalogue, k *catalogue.KPI, series []Judged) []group {
	if len(k.Dimensions) == 0 {
		// The KPI's one series is its whole.
		g := group{level: conventions.LevelWhole}
		if len(series) > 0 {
			g.members, g.history = []int{0}, series[0].History
		}
		return []group{g}
	}
	var periods []time.Time
	for i := range series {
		for _, p := range series[i].History {
			if j, found := slices.BinarySearchFunc(periods, p.Period, time.Time.Compare); !found {
				periods = slices.Insert(periods, j, p.Period)
			}
		}
	}
	keep := k.Kind == catalogue.KindLevel && k.Rollup != catalogue.RollupMean
	levels := levelsOf(cat, k)
	groups := []group{{level: conventions.LevelWhole}}
	accs := []*accumulator{newAccumulator(len(periods), keep)}
	index := make([]map[string]int, len(levels))
	for l := range levels {
		index[l] = map[string]int{}
	}
	member := make([]int, len(levels)+1)
	for i := range series {
		s := &series[i]
		member[0] = 0
		for l, lv := range levels {
			name := lv.of(s.Labels)
			g, ok := index[l][name]
			if !ok {
				g = len(groups)
				index[l][name] = g
				groups = append(groups, group{level: lv.name, name: name})
				accs = append(accs, newAccumulator(len(periods), keep))
			}
			member[l+1] = g
		}
		for _, g := range member {
			accs[g].members++
			groups[g].members = append(groups[g].members, i)
		}
		h := s.History
		for j := range h {
			a, _ := slices.BinarySearchFunc(periods, h[j].Period, time.Time.Compare)
			b := len(periods)
			if j+1 < len(h) {
				b, _ = slices.BinarySearchFunc(periods, h[j+1].Period, time.Time.Compare)
			}
			for _, g := range member {
				acc := accs[g]
				acc.has[a] = true
				for p := a; p < b; p++ {
					acc.add(p, &h[j])
				}
			}
		}
	}
	for g := range groups {
		acc := accs[g]
		for p, at := range periods {
			if acc.has[p] {
				if pt, ok := acc.point(k, p, at); ok {
					groups[g].history = append(groups[g].history, pt)
				}
			}
		}
	}
	order := map[string]int{conventions.LevelWhole: -1}
	for l, lv := range levels {
		order[lv.name] = l
	}
	slices.SortStableFunc(groups, func(a, b group) int {
		if c := order[a.level] - order[b.level]; c != 0 {
			return c
		}
		return strings.Compare(a.name, b.name)
	})
	return groups
}

// judgeRollups judges each roll-up of k at now against the plan of its
// level, counting its units (judged at now) in each status.
func judgeRollups(k *catalogue.KPI, groups []group, series []Judged, plans *plans, now time.Time) []Rollup {
	out := make([]Rollup, len(groups))
	for g, gr := range groups {
		units := make([]int, len(conventions.Statuses))
		var reason uint8 // of the first unit at risk
		for _, i := range gr.members {
			units[series[i].status]++
			if reason == 0 {
				reason = series[i].reason
			}
		}
		if len(k.Dimensions) == 0 {
			// The KPI's one series is its whole.
			r := Rollup{Level: gr.level, Units: units}
			if len(gr.members) > 0 {
				r.Judged = series[0]
				r.Labels = nil
			}
			out[g] = r
			continue
		}
		plan := &plans.whole
		if gr.level != conventions.LevelWhole {
			plan = plans.rollup(gr.level, gr.name)
		}
		r := Rollup{Level: gr.level, Name: gr.name, Units: units,
			Judged: Judged{History: gr.history, Plan: plan, Verdict: judge(k, plan, &Series{History: gr.history}, now)}}
		if !plan.HasTarget() {
			r.status, r.reason = worstOf(units, reason)
		}
		out[g] = r
	}
	return out
}

// worstOf is the status of a roll-up with no target of its own: the worst
// of its units', with the reason of its first unit at risk when that is it;
// no_data only when none reported.
func worstOf(units []int, firstReason uint8) (status, reason uint8) {
	for _, st := range worstFirst {
		if i := statusIndex(st); units[i] > 0 {
			if st == conventions.StatusAtRisk {
				return uint8(i), firstReason
			}
			return uint8(i), 0
		}
	}
	return uint8(statusIndex(conventions.StatusNoData)), 0
}
