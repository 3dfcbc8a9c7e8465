package exporter

import (
	"math"
	"slices"
	"time"

	"github.com/kpiwatch/kpiwatch/catalogue"
	"github.com/kpiwatch/kpiwatch/conventions"
	"github.com/kpiwatch/kpiwatch/kpi"
)

// verdict is the exporter's one judgement of a series at a render: status,
// why it is at risk, the gap to plan, the forecast and the plausibility
// checks its latest report fails. It is computed once per render and written
// into every family that shows part of it; alerts, boards and pages read
// those families and never judge again. Kept small (a million of them live
// through a render): status and reason are indexes into their name lists.
type verdict struct {
	gap      float64 // behind plan, in the KPI's unit; 0 when on or ahead
	forecast float64 // NaN when no forecast is served
	status   uint8   // index into conventions.Statuses
	reason   uint8   // index into reasons
	suspect  uint8   // bit i set when checks[i] fails
}

// reasons are the values of the reason label, "" for a series not at risk.
var reasons = []string{"", conventions.ReasonBehindPlan, conventions.ReasonForecastMiss}

// checks are the plausibility checks, in the order of verdict.suspect's bits.
var checks = []string{conventions.CheckFell, conventions.CheckRatio, conventions.CheckJump}

func (v verdict) statusName() string { return conventions.Statuses[v.status] }
func (v verdict) reasonName() string { return reasons[v.reason] }

// judgeSeries judges s against plan at now.
func judgeSeries(k *catalogue.KPI, plan kpi.Plan, s *Series, now time.Time) verdict {
	return newVerdict(k, judge(k, plan, s, now), now, suspectChecks(k, s))
}

// judge is kpi.Judge on a series' latest report and the earlier one its
// trend is measured from.
func judge(k *catalogue.KPI, plan kpi.Plan, s *Series, now time.Time) kpi.Judgement {
	latest := s.Latest()
	obs := kpi.Observation{Period: latest.Period, Value: latest.Value}
	if e, ok := s.Earlier(k.Cadence.Period); ok {
		obs.EarlierPeriod, obs.EarlierValue = e.Period, e.Value
	}
	return kpi.Judge(k, plan, &obs, now)
}

func newVerdict(k *catalogue.KPI, j kpi.Judgement, now time.Time, suspect uint8) verdict {
	v := verdict{
		gap:      j.Gap,
		forecast: math.NaN(),
		status:   uint8(slices.Index(conventions.Statuses, j.Status)),
		reason:   uint8(slices.Index(reasons, j.Reason)),
		suspect:  suspect,
	}
	if j.HasForecast(k, now) {
		v.forecast = j.Forecast
	}
	if j.Status == conventions.StatusStale {
		v.gap = 0 // the figure is out of date: its lateness is the news
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
