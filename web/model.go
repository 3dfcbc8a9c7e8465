package web

import (
	"math"
	"slices"
	"sort"
	"time"

	"github.com/kpiwatch/kpiwatch/conventions"
	"github.com/kpiwatch/kpiwatch/kpi"
	"github.com/kpiwatch/kpiwatch/model"
)

// figure is a KPI's figure for one period.
type figure struct {
	at    time.Time // start of the period
	value float64
}

// kpiSummary is one KPI as the scorecard shows it: its whole as the model
// judged it (figure, status, plan, target, gap) and its units by status.
// Nothing here is computed: the pages show the model's figures.
type kpiSummary struct {
	jk       *model.KPI
	whole    *model.Rollup
	status   string
	counts   map[string]int
	value    float64   // NaN without any report
	last     time.Time // latest period reported
	history  []figure
	plan     float64 // what the whole's plan expects now (kpi_rollup_plan); NaN without a target
	target   kpi.Milestone
	deadline time.Time // zero without a target
	gap      float64   // the whole behind plan, in the KPI's unit
}

// summarise reads a KPI's whole from the model.
func summarise(jk *model.KPI, now time.Time) kpiSummary {
	w := jk.Whole()
	s := kpiSummary{jk: jk, whole: w, status: w.Status(), counts: map[string]int{}, value: w.Value(), plan: w.PlanNow(now), gap: w.Gap}
	if t, ok := w.Target(now); ok {
		s.target, s.deadline = t, t.Deadline()
	}
	for i, st := range conventions.Statuses {
		if w.Units[i] > 0 {
			s.counts[st] = w.Units[i]
		}
	}
	for _, p := range w.History {
		s.history = append(s.history, figure{p.Period, p.Value})
	}
	if p, ok := w.Latest(); ok {
		s.last = p.Period
	}
	return s
}

// daysLeft is the whole days from now to a deadline, negative once past.
func daysLeft(deadline, now time.Time) int {
	return int(math.Ceil(deadline.Sub(now).Hours() / 24))
}

// ranked orders a KPI's figures of its units best first: by attainment,
// those without a report or a target last.
func ranked(figs []unitFigure, now time.Time) []unitFigure {
	out := slices.Clone(figs)
	att := make(map[*model.Judged]float64, len(figs))
	for _, f := range figs {
		att[f.Judged] = f.Attainment(now)
	}
	sort.SliceStable(out, func(i, j int) bool {
		a, b := att[out[i].Judged], att[out[j].Judged]
		if math.IsNaN(a) || math.IsNaN(b) {
			return !math.IsNaN(a) && math.IsNaN(b)
		}
		return a > b
	})
	return out
}
