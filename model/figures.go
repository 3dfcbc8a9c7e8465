package model

import (
	"math"
	"strings"
	"time"

	"github.com/kpiwatch/kpiwatch/catalogue"
	"github.com/kpiwatch/kpiwatch/conventions"
)

// Emit takes one sample of a family: its value and the label pairs it
// carries beyond those of its series or roll-up.
type Emit func(v float64, extra ...string)

// RollupFigure is a kpi_rollup_* family: what one roll-up serves of it.
type RollupFigure struct {
	Name  string
	Write func(now time.Time, k *catalogue.KPI, r *Rollup, emit Emit)
}

// RollupFigures are the roll-up families, as the exporter serves them and
// backfill writes them, each only where it has a value: units for the
// statuses some unit is in, a target, plan and attainment where the
// roll-up's level has a target, a gap while behind plan, a forecast where
// one says something, the worst units' names in the statuses some are in.
var RollupFigures = []RollupFigure{
	{conventions.RollupValue, func(_ time.Time, _ *catalogue.KPI, r *Rollup, emit Emit) {
		if p, ok := r.Latest(); ok {
			emit(p.Value)
		}
	}},
	{conventions.RollupNumerator, func(_ time.Time, k *catalogue.KPI, r *Rollup, emit Emit) {
		if p, ok := r.Latest(); ok && k.Kind == catalogue.KindRatio {
			emit(p.Num)
		}
	}},
	{conventions.RollupDenominator, func(_ time.Time, k *catalogue.KPI, r *Rollup, emit Emit) {
		if p, ok := r.Latest(); ok && k.Kind == catalogue.KindRatio {
			emit(p.Den)
		}
	}},
	{conventions.RollupStatus, func(_ time.Time, _ *catalogue.KPI, r *Rollup, emit Emit) {
		emit(1, conventions.LabelStatus, r.Status(), conventions.LabelReason, r.Reason())
	}},
	{conventions.RollupUnits, func(_ time.Time, _ *catalogue.KPI, r *Rollup, emit Emit) {
		for i, st := range conventions.Statuses {
			if r.Units[i] > 0 {
				emit(float64(r.Units[i]), conventions.LabelStatus, st)
			}
		}
	}},
	{conventions.RollupTarget, func(now time.Time, _ *catalogue.KPI, r *Rollup, emit Emit) {
		if t, ok := r.Target(now); ok {
			emit(t.Value)
		}
	}},
	{conventions.RollupPlan, func(now time.Time, _ *catalogue.KPI, r *Rollup, emit Emit) {
		if _, ok := r.Target(now); ok {
			emit(r.PlanNow(now))
		}
	}},
	{conventions.RollupTargetDeadline, func(now time.Time, _ *catalogue.KPI, r *Rollup, emit Emit) {
		if t, ok := r.Target(now); ok {
			emit(float64(t.Deadline().Unix()))
		}
	}},
	{conventions.RollupAttainment, func(now time.Time, _ *catalogue.KPI, r *Rollup, emit Emit) {
		if a := r.Attainment(now); !math.IsNaN(a) {
			emit(a)
		}
	}},
	{conventions.RollupReportPeriod, func(_ time.Time, _ *catalogue.KPI, r *Rollup, emit Emit) {
		if p, ok := r.Latest(); ok {
			emit(float64(p.Period.Unix()))
		}
	}},
	{conventions.RollupPlanGap, func(_ time.Time, _ *catalogue.KPI, r *Rollup, emit Emit) {
		if r.Gap > 0 {
			emit(r.Gap)
		}
	}},
	{conventions.RollupForecast, func(_ time.Time, _ *catalogue.KPI, r *Rollup, emit Emit) {
		if !math.IsNaN(r.Forecast) {
			emit(r.Forecast)
		}
	}},
	{conventions.RollupWorstUnits, func(_ time.Time, _ *catalogue.KPI, r *Rollup, emit Emit) {
		for _, w := range r.Worst {
			emit(1, conventions.LabelStatus, w.Status, conventions.LabelUnits, strings.Join(w.Names, ", "))
		}
	}},
}

// RollupLabels are a roll-up's label pairs: kpi, level and, but for the
// whole, the level's dimension.
func RollupLabels(k *catalogue.KPI, r *Rollup) []string {
	if r.Level == conventions.LevelWhole {
		return []string{conventions.LabelKPI, k.ID, conventions.LabelLevel, r.Level}
	}
	return []string{conventions.LabelKPI, k.ID, conventions.LabelLevel, r.Level, r.Level, r.Name}
}

// UnitFigure is a family of the observed series: what one series serves of
// it (labels kpi and its dimensions, then the pairs emitted).
type UnitFigure struct {
	Name  string
	Write func(k *catalogue.KPI, s *Judged, emit Emit)
}

// UnitFigures are the families of the observed series: the latest report
// of each and its judgement (a unit that never reported has only its
// no_data status). A unit's numerator, denominator and gap to plan are
// not served: no board or rule reads them (the alerts name the worst units
// from the roll-ups' kpi_rollup_worst_units_info), and they were 1.6 of the
// 4.6 series per observed series that Prometheus kept in its head; the
// roll-ups serve theirs, and the pages show a unit's from the model.
var UnitFigures = []UnitFigure{
	{conventions.KPIValue, func(_ *catalogue.KPI, s *Judged, emit Emit) {
		if p, ok := s.Latest(); ok {
			emit(p.Value)
		}
	}},
	{conventions.KPIReportPeriod, func(_ *catalogue.KPI, s *Judged, emit Emit) {
		if p, ok := s.Latest(); ok {
			emit(float64(p.Period.Unix()))
		}
	}},
	{conventions.KPIStatus, func(_ *catalogue.KPI, s *Judged, emit Emit) {
		emit(1, conventions.LabelStatus, s.Status(), conventions.LabelReason, s.Reason())
	}},
	{conventions.KPIForecast, func(_ *catalogue.KPI, s *Judged, emit Emit) {
		if !math.IsNaN(s.Forecast) {
			emit(s.Forecast)
		}
	}},
	{conventions.KPIDataSuspect, func(_ *catalogue.KPI, s *Judged, emit Emit) {
		for i, check := range Checks {
			if s.Fails(i) {
				emit(1, conventions.LabelCheck, check)
			}
		}
	}},
}
