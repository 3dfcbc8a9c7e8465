package web

import (
	"math"
	"slices"
	"sort"
	"time"

	"github.com/kpiwatch/kpiwatch/catalogue"
	"github.com/kpiwatch/kpiwatch/exporter"
	"github.com/kpiwatch/kpiwatch/kpi"
)

// figure is a KPI's national figure for one period.
type figure struct {
	at    time.Time // start of the period
	value float64
}

// kpiSummary is one KPI as the scorecard shows it: its series' worst status,
// the national figure (the one series of a national KPI, or its units rolled
// up), the plan and the target.
type kpiSummary struct {
	jk       *exporter.JudgedKPI
	status   string
	counts   map[string]int
	national *exporter.JudgedSeries // the series of a KPI without dimensions
	value    float64                // NaN without any report
	last     time.Time              // latest period reported
	history  []figure
	plan     float64 // what the plan expects now (kpi_plan)
	target   kpi.Milestone
	deadline time.Time
	gap      float64 // the national figure behind plan, in the KPI's unit
}

// summarise judges a KPI as a whole from its judged series.
func summarise(jk *exporter.JudgedKPI, now time.Time) kpiSummary {
	k := jk.KPI
	s := kpiSummary{jk: jk, counts: map[string]int{}, value: math.NaN(), plan: jk.Plan.ValueAt(now)}
	s.target, _ = jk.Plan.Governing(now)
	if len(jk.Plan.Milestones) > 0 {
		s.deadline = s.target.Deadline()
	}
	s.status = worst(jk.Series)
	for i := range jk.Series {
		s.counts[jk.Series[i].Judgement.Status]++
	}
	if len(k.Dimensions) == 0 && len(jk.Series) == 1 {
		s.national = &jk.Series[0]
	}
	s.history = nationalHistory(k, jk.Series)
	if n := len(s.history); n > 0 {
		s.value, s.last = s.history[n-1].value, s.history[n-1].at
	}
	switch {
	case s.national != nil:
		s.gap = s.national.Gap
	case !math.IsNaN(s.value) && k.Kind != catalogue.KindMilestone:
		s.gap = kpi.Shortfall(k.Direction, s.value, jk.Plan.ValueAt(kpi.PeriodEnd(k.Cadence.Period, s.last)))
	}
	return s
}

// worst is the worst status among series that reported, as the dashboards
// count a KPI; no_data only when none reported.
func worst(series []exporter.JudgedSeries) string {
	best := ""
	for i := range series {
		st := series[i].Judgement.Status
		if best == "" || rank(st) < rank(best) {
			best = st
		}
	}
	return best
}

// nationalHistory is the national figure period by period: each unit's
// latest report at that period rolled up (a unit that has not reported again
// counts with its last figure).
func nationalHistory(k *catalogue.KPI, series []exporter.JudgedSeries) []figure {
	var periods []time.Time
	for i := range series {
		for _, p := range series[i].History {
			periods = append(periods, p.Period)
		}
	}
	sort.Slice(periods, func(i, j int) bool { return periods[i].Before(periods[j]) })
	periods = slices.CompactFunc(periods, func(a, b time.Time) bool { return a.Equal(b) })
	cursor := make([]int, len(series))
	out := make([]figure, 0, len(periods))
	var pts []exporter.Point
	for _, at := range periods {
		pts = pts[:0]
		for i := range series {
			h := series[i].History
			for cursor[i] < len(h) && !h[cursor[i]].Period.After(at) {
				cursor[i]++
			}
			if cursor[i] > 0 {
				pts = append(pts, h[cursor[i]-1])
			}
		}
		if v, ok := rollUp(k.Kind, pts); ok {
			out = append(out, figure{at, v})
		}
	}
	return out
}

// rollUp is the national figure of the units' points: counts add, ratios
// are the sum of numerators over the sum of denominators, and levels and
// milestones, which cannot be summed, take the median.
func rollUp(kind catalogue.KPIKind, pts []exporter.Point) (float64, bool) {
	if len(pts) == 0 {
		return 0, false
	}
	switch kind {
	case catalogue.KindCount:
		sum := 0.0
		for _, p := range pts {
			sum += p.Value
		}
		return sum, true
	case catalogue.KindRatio:
		var r kpi.Ratio
		for _, p := range pts {
			r = r.Add(kpi.Ratio{Num: p.Num, Den: p.Den})
		}
		return r.Value(), r.Den != 0
	}
	vs := make([]float64, len(pts))
	for i, p := range pts {
		vs[i] = p.Value
	}
	return median(vs), true
}

func median(vs []float64) float64 {
	slices.Sort(vs)
	n := len(vs)
	if n%2 == 1 {
		return vs[n/2]
	}
	return (vs[n/2-1] + vs[n/2]) / 2
}

// daysLeft is the whole days from now to a deadline, negative once past.
func daysLeft(deadline, now time.Time) int {
	return int(math.Ceil(deadline.Sub(now).Hours() / 24))
}

// attainment is how far a series has come from its baseline to its target
// (1 on target); NaN without a report.
func attainment(s *exporter.JudgedSeries, now time.Time) float64 {
	p, ok := s.Latest()
	if !ok {
		return math.NaN()
	}
	m, _ := s.Plan.Governing(now)
	return kpi.Attainment(s.Plan.Direction, s.Plan.BaselineValue, m.Value, p.Value)
}

// ranked orders a KPI's series best first: by attainment, units without a
// report last.
func ranked(jk *exporter.JudgedKPI, now time.Time) []*exporter.JudgedSeries {
	out := make([]*exporter.JudgedSeries, len(jk.Series))
	att := make(map[*exporter.JudgedSeries]float64, len(jk.Series))
	for i := range jk.Series {
		out[i] = &jk.Series[i]
		att[out[i]] = attainment(out[i], now)
	}
	sort.SliceStable(out, func(i, j int) bool {
		a, b := att[out[i]], att[out[j]]
		if math.IsNaN(a) || math.IsNaN(b) {
			return !math.IsNaN(a) && math.IsNaN(b)
		}
		return a > b
	})
	return out
}
