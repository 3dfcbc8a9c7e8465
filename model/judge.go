package model

import (
	"math"
	"slices"
	"time"

	"github.com/kpiwatch/kpiwatch/catalogue"
	"github.com/kpiwatch/kpiwatch/conventions"
	"github.com/kpiwatch/kpiwatch/kpi"
)

// Verdict is the one judgement of a series or a roll-up: status, why it is
// at risk, the plan it was judged against, the gap to it, the forecast and
// the plausibility checks its latest report fails. Kept small (a million
// of them live in a model): status, reason and checks are indexes.
type Verdict struct {
	// Plan is the planned value at the end of the period reported (NaN
	// without a report or a target).
	Plan     float64
	Gap      float64 // behind plan, in the KPI's unit; 0 when on or ahead, or stale
	Forecast float64 // NaN when no forecast is served
	status   uint8   // index into conventions.Statuses
	reason   uint8   // index into reasons
	suspect  uint8   // bit i set when Checks[i] fails
}

// reasons are the values of the reason label, "" for a series not at risk.
var reasons = []string{"", conventions.ReasonBehindPlan, conventions.ReasonForecastMiss}

// Checks are the plausibility checks, in the order of Verdict's bits.
var Checks = []string{conventions.CheckFell, conventions.CheckRatio, conventions.CheckJump}

// Status is one of conventions.Statuses.
func (v Verdict) Status() string { return conventions.Statuses[v.status] }

// Reason says why an at_risk series is at risk ("" otherwise).
func (v Verdict) Reason() string { return reasons[v.reason] }

// Fails reports whether the latest report fails Checks[i].
func (v Verdict) Fails(i int) bool { return v.suspect&(1<<i) != 0 }

// Suspect lists the checks the latest report fails.
func (v Verdict) Suspect() []string {
	var out []string
	for i, c := range Checks {
		if v.Fails(i) {
			out = append(out, c)
		}
	}
	return out
}

// judge is kpi.Judge on a series' latest report and the earlier one its
// trend is measured from (s nil or without history: no report).
func judge(k *catalogue.KPI, plan *kpi.Plan, s *Series, now time.Time) Verdict {
	if s == nil || len(s.History) == 0 {
		return verdictOf(k, kpi.Judge(k, *plan, nil, now), now, 0)
	}
	latest := s.Latest()
	obs := kpi.Observation{Period: latest.Period, Value: latest.Value}
	if e, ok := s.Earlier(k.Cadence.Period); ok {
		obs.EarlierPeriod, obs.EarlierValue = e.Period, e.Value
	}
	return verdictOf(k, kpi.Judge(k, *plan, &obs, now), now, 0)
}

func verdictOf(k *catalogue.KPI, j kpi.Judgement, now time.Time, suspect uint8) Verdict {
	v := Verdict{
		Plan:     j.Plan,
		Gap:      j.Gap,
		Forecast: math.NaN(),
		status:   uint8(slices.Index(conventions.Statuses, j.Status)),
		reason:   uint8(slices.Index(reasons, j.Reason)),
		suspect:  suspect,
	}
	if j.HasForecast(k, now) {
		v.Forecast = j.Forecast
	}
	if j.Status == conventions.StatusStale {
		v.Gap = 0 // the figure is out of date: its lateness is the news
	}
	return v
}

// suspectChecks runs the plausibility checks on a series' latest report: a
// cumulative count below an earlier report, a numerator above its
// denominator, a change from the previous period beyond alerts.max_jump.
func suspectChecks(k *catalogue.KPI, s *Series) uint8 {
	latest := s.Latest()
	var bits uint8
	if k.Cumulative {
		for _, p := range s.History[:len(s.History)-1] {
			if latest.Value < p.Value {
				bits |= 1 << 0
				break
			}
		}
	}
	if k.Kind == catalogue.KindRatio && latest.Num > latest.Den {
		bits |= 1 << 1
	}
	if k.Alerts.MaxJump > 0 && len(s.History) > 1 {
		prev := s.History[len(s.History)-2]
		if prev.Period.Equal(kpi.PeriodStart(k.Cadence.Period, latest.Period.Add(-time.Nanosecond))) &&
			math.Abs(latest.Value-prev.Value) > k.Alerts.MaxJump*math.Abs(prev.Value) {
			bits |= 1 << 2
		}
	}
	return bits
}

// worstFirst orders statuses as a roll-up without a target of its own
// takes its units': the worst standing first, a report overdue or missing
// last, shown apart rather than as the standing.
var worstFirst = []string{conventions.StatusMissed, conventions.StatusAtRisk, conventions.StatusOnTrack,
	conventions.StatusAchieved, conventions.StatusStale, conventions.StatusNoData}
