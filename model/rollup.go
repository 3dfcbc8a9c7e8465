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
	units                  []int       // by status index
	members                int
	reason                 uint8 // of the first unit at risk
}

func newAccumulator(periods int, keepValues bool) *accumulator {
	a := &accumulator{has: make([]bool, periods), sum: make([]float64, periods), num: make([]float64, periods),
		den: make([]float64, periods), n: make([]float64, periods), done: make([]float64, periods), units: make([]int, len(conventions.Statuses))}
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

// rollUp rolls the judged series of k up to the whole and every level,
// each judged against the plan of its level.
func rollUp(cat *catalogue.Catalogue, k *catalogue.KPI, series []Judged, plans *plans, now time.Time) []Rollup {
	if len(k.Dimensions) == 0 {
		// The KPI's one series is its whole.
		r := Rollup{Level: conventions.LevelWhole, Units: make([]int, len(conventions.Statuses))}
		if len(series) > 0 {
			r.Judged = series[0]
			r.Labels = nil
			r.Units[r.status]++
		}
		return []Rollup{r}
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
	type group struct{ level, name string }
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
				groups = append(groups, group{lv.name, name})
				accs = append(accs, newAccumulator(len(periods), keep))
			}
			member[l+1] = g
		}
		for _, g := range member {
			accs[g].members++
			accs[g].units[s.status]++
			if accs[g].reason == 0 {
				accs[g].reason = s.reason
			}
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
	out := make([]Rollup, len(groups))
	for g, gr := range groups {
		acc := accs[g]
		var hist []Point
		for p, at := range periods {
			if acc.has[p] {
				if pt, ok := acc.point(k, p, at); ok {
					hist = append(hist, pt)
				}
			}
		}
		plan := &plans.whole
		if gr.level != conventions.LevelWhole {
			plan = plans.rollup(gr.level, gr.name)
		}
		syn := Series{History: hist}
		r := Rollup{Level: gr.level, Name: gr.name, Units: acc.units, Judged: Judged{History: hist, Plan: plan, Verdict: judge(k, plan, &syn, now)}}
		if !plan.HasTarget() {
			r.status, r.reason = worstOf(acc)
		}
		out[g] = r
	}
	// The whole first, then each level in order, by value.
	order := map[string]int{conventions.LevelWhole: -1}
	for l, lv := range levels {
		order[lv.name] = l
	}
	slices.SortStableFunc(out, func(a, b Rollup) int {
		if c := order[a.Level] - order[b.Level]; c != 0 {
			return c
		}
		return strings.Compare(a.Name, b.Name)
	})
	return out
}

// worstOf is the status of a roll-up with no target of its own: the worst
// of its units', with the reason of its first unit at risk when that is it;
// no_data only when none reported.
func worstOf(acc *accumulator) (status, reason uint8) {
	for _, st := range worstFirst {
		if i := statusIndex(st); acc.units[i] > 0 {
			if st == conventions.StatusAtRisk {
				return uint8(i), acc.reason
			}
			return uint8(i), 0
		}
	}
	return uint8(statusIndex(conventions.StatusNoData)), 0
}
