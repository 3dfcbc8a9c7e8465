// Package kpi holds the semantics every other part of kpiwatch rests on: the
// plan a KPI should be at on a given day, how far a series has come, and the
// status of a series. Everything here is a pure function of its arguments and
// the time passed in; nothing reads a clock.
package kpi

import (
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/kpiwatch/kpiwatch/catalogue"
	"github.com/kpiwatch/kpiwatch/conventions"
)

const day = 24 * time.Hour

// Milestone is a target value to be reached by the end of day By.
type Milestone struct {
	By        time.Time
	Value     float64
	Decision  string
	Effective time.Time
}

// Deadline is the instant the milestone is due: the end of its day.
func (m Milestone) Deadline() time.Time { return m.By.Add(day) }

// Plan is the path a series should follow: from its baseline, linearly
// through its milestones, flat after the last one.
type Plan struct {
	BaselineAt    time.Time
	BaselineValue float64
	Milestones    []Milestone // sorted by By
	Direction     catalogue.Direction
}

// UnitKey identifies a unit's own targets: its selector as
// "province=Ha Noi" ("" for the KPI-wide targets).
var UnitKey = catalogue.UnitKeyOf

// SeriesUnitKey is the key of the unit with targets of its own that a
// series (labels in the order of the KPI's dimensions) belongs to, or "" when
// it follows the KPI-wide plan.
func SeriesUnitKey(k *catalogue.KPI, labels []string) string {
	for _, u := range UnitKeys(k) {
		match := true
		for _, kv := range strings.Split(u, ",") {
			d, v, _ := strings.Cut(kv, "=")
			if i := slices.Index(k.Dimensions, d); i < 0 || labels[i] != v {
				match = false
				break
			}
		}
		if match {
			return u
		}
	}
	return ""
}

// UnitKeys lists the units of a KPI that have targets of their own.
func UnitKeys(k *catalogue.KPI) []string {
	seen := map[string]bool{}
	var out []string
	for _, t := range k.Targets {
		if u := UnitKey(t.Unit); u != "" && !seen[u] {
			seen[u] = true
			out = append(out, u)
		}
	}
	sort.Strings(out)
	return out
}

// PlanFor builds the plan in force at time at for the unit identified by
// unitKey: the unit's own targets, or for a unit without targets of its own
// the targets that hold for each unit (EachPlan); unitKey "" is the whole
// (WholePlan). Targets apply in order of their effective date; each
// replaces the earlier milestone due on the same day (or the day it names in
// replaces), so a revision changes what it revises and the past keeps the
// targets set then. A target not yet effective at at is ignored, except that
// before any decision the first one is taken as the plan.
func PlanFor(k *catalogue.KPI, unitKey string, at time.Time) Plan {
	if unitKey == "" {
		return WholePlan(k, at)
	}
	var own []catalogue.Target
	for _, t := range k.Targets {
		if UnitKey(t.Unit) == unitKey {
			own = append(own, t)
		}
	}
	if len(own) == 0 {
		return EachPlan(k, at)
	}
	base := k.Baseline
	for _, b := range k.UnitBaselines {
		if UnitKey(b.Unit) == unitKey {
			base = catalogue.Baseline{Date: b.Date, Value: b.Value}
		}
	}
	return planOf(k, own, base, at)
}

// WholePlan is the plan of the deployment's whole: the KPI's targets of
// scope whole, or failing any those of scope each but for a count broken
// down by units (the sum of its units is not held to what each must
// reach). A KPI without dimensions has only the whole: every target of the
// KPI holds for it.
func WholePlan(k *catalogue.KPI, at time.Time) Plan {
	whole, each := scoped(k)
	if len(whole) == 0 && (k.Kind != catalogue.KindCount || len(k.Dimensions) == 0) {
		whole = each
	}
	return planOf(k, whole, k.Baseline, at)
}

// EachPlan is the plan each unit without targets of its own follows: the
// KPI's targets of scope each. For a KPI without dimensions it is the
// whole's. It has no milestones when every target is for the whole.
func EachPlan(k *catalogue.KPI, at time.Time) Plan {
	if len(k.Dimensions) == 0 {
		return WholePlan(k, at)
	}
	_, each := scoped(k)
	return planOf(k, each, k.Baseline, at)
}

// scoped splits the KPI's targets without a unit by scope.
func scoped(k *catalogue.KPI) (whole, each []catalogue.Target) {
	for _, t := range k.Targets {
		switch {
		case len(t.Unit) > 0:
		case k.ScopeOf(t) == catalogue.ScopeWhole:
			whole = append(whole, t)
		default:
			each = append(each, t)
		}
	}
	return whole, each
}

func planOf(k *catalogue.KPI, targets []catalogue.Target, base catalogue.Baseline, at time.Time) Plan {
	own := slices.Clone(targets)
	sort.SliceStable(own, func(i, j int) bool { return own[i].Effective.Before(own[j].Effective.Time) })
	var ms []Milestone
	for i, t := range own {
		if i > 0 && t.Effective.After(at) && !t.Effective.Equal(own[0].Effective.Time) {
			break
		}
		replaced := t.By.Time
		if !t.Replaces.IsZero() {
			replaced = t.Replaces.Time
		}
		ms = slices.DeleteFunc(ms, func(m Milestone) bool { return m.By.Equal(replaced) || m.By.Equal(t.By.Time) })
		ms = append(ms, Milestone{By: t.By.Time, Value: t.Value, Decision: t.Decision, Effective: t.Effective.Time})
	}
	sort.Slice(ms, func(i, j int) bool { return ms[i].By.Before(ms[j].By) })
	return Plan{BaselineAt: base.Date.Time, BaselineValue: base.Value, Milestones: ms, Direction: k.Direction}
}

// HasTarget reports whether the plan has a target to judge against.
func (p Plan) HasTarget() bool { return len(p.Milestones) > 0 }

// ValueAt is the planned value at t: the baseline before the baseline date,
// linear between points, the last milestone's value after it.
func (p Plan) ValueAt(t time.Time) float64 {
	prevAt, prev := p.BaselineAt, p.BaselineValue
	if !t.After(prevAt) {
		return prev
	}
	for _, m := range p.Milestones {
		if !t.After(m.By) {
			span := m.By.Sub(prevAt)
			if span <= 0 {
				return m.Value
			}
			f := float64(t.Sub(prevAt)) / float64(span)
			return prev + f*(m.Value-prev)
		}
		prevAt, prev = m.By, m.Value
	}
	return prev
}

// Governing is the milestone that governs at t: the first whose deadline has
// not passed, or the last one when all have. ok is false for a plan without
// milestones.
func (p Plan) Governing(t time.Time) (Milestone, bool) {
	for _, m := range p.Milestones {
		if t.Before(m.Deadline()) {
			return m, true
		}
	}
	if len(p.Milestones) == 0 {
		return Milestone{}, false
	}
	return p.Milestones[len(p.Milestones)-1], true
}

// lastPassed is the latest milestone whose deadline is at or before t.
func (p Plan) lastPassed(t time.Time) (Milestone, bool) {
	var out Milestone
	found := false
	for _, m := range p.Milestones {
		if !t.Before(m.Deadline()) {
			out, found = m, true
		}
	}
	return out, found
}

// Met reports whether value meets target in the given direction.
func Met(dir catalogue.Direction, value, target float64) bool {
	if dir == catalogue.LowerIsBetter {
		return value <= target
	}
	return value >= target
}

// Shortfall is how far value is from target in the bad direction (0 when
// met), in the KPI's unit.
func Shortfall(dir catalogue.Direction, value, target float64) float64 {
	gap := target - value
	if dir == catalogue.LowerIsBetter {
		gap = -gap
	}
	return math.Max(gap, 0)
}

// Attainment is the share of the way from baseline to target that value has
// come: 0 at the baseline, 1 on target, above 1 beyond it. Direction is built
// in: for a lower-is-better KPI, falling values attain. When the target equals
// the baseline, it is 1 if met and 0 if not.
func Attainment(dir catalogue.Direction, baseline, target, value float64) float64 {
	if target == baseline {
		if Met(dir, value, target) {
			return 1
		}
		return 0
	}
	return (value - baseline) / (target - baseline)
}

// Ratio is a numerator over a denominator, kept apart so that ratios roll up
// as sums of numerators over sums of denominators, never as an average of
// percentages.
type Ratio struct{ Num, Den float64 }

// Add rolls r and o up into one ratio.
func (r Ratio) Add(o Ratio) Ratio { return Ratio{r.Num + o.Num, r.Den + o.Den} }

// Value is Num/Den, NaN when the denominator is zero.
func (r Ratio) Value() float64 {
	if r.Den == 0 {
		return math.NaN()
	}
	return r.Num / r.Den
}

// Observation is what a status is judged on: the latest reported value and,
// for the trend, an earlier one.
type Observation struct {
	Period time.Time // start of the period the value reports on
	Value  float64
	// Earlier is an earlier report of the same series, zero when there is none.
	EarlierPeriod time.Time
	EarlierValue  float64
}

// PeriodStart is the start of the cadence period containing t.
func PeriodStart(p catalogue.Period, t time.Time) time.Time {
	y, m, d := t.Date()
	switch p {
	case catalogue.Weekly:
		wd := (int(t.Weekday()) + 6) % 7 // Monday starts the week
		return time.Date(y, m, d-wd, 0, 0, 0, 0, time.UTC)
	case catalogue.Quarterly:
		return time.Date(y, m-(m-1)%3, 1, 0, 0, 0, 0, time.UTC)
	case catalogue.Yearly:
		return time.Date(y, 1, 1, 0, 0, 0, 0, time.UTC)
	}
	return time.Date(y, m, 1, 0, 0, 0, 0, time.UTC)
}

// nextPeriod is the start of the period after the one starting at start.
func nextPeriod(p catalogue.Period, start time.Time) time.Time {
	switch p {
	case catalogue.Weekly:
		return start.AddDate(0, 0, 7)
	case catalogue.Quarterly:
		return start.AddDate(0, 3, 0)
	case catalogue.Yearly:
		return start.AddDate(1, 0, 0)
	}
	return start.AddDate(0, 1, 0)
}

// PeriodEnd is the end of the period starting at start: the instant the
// reported value stands for.
func PeriodEnd(p catalogue.Period, start time.Time) time.Time { return nextPeriod(p, start) }

// ReportDue is when the report on the period starting at start is due: the
// end of the due day in the following period (the 15th for monthly reports).
func ReportDue(c catalogue.Cadence, start time.Time) time.Time {
	return nextPeriod(c.Period, start).AddDate(0, 0, c.DueDay)
}

// StaleAfter is when a series whose latest report covers the period starting
// at start becomes stale: the next report's due time plus the grace period.
func StaleAfter(c catalogue.Cadence, start time.Time) time.Time {
	return ReportDue(c, nextPeriod(c.Period, start)).Add(c.Grace.Std())
}

// Judgement is a series' status with the figures that explain it.
type Judgement struct {
	Status    string
	Reason    string  // why an at_risk series is at risk: conventions.ReasonBehindPlan or ReasonForecastMiss
	Plan      float64 // planned value at the end of the reported period
	Gap       float64 // how far the value is behind Plan, in the KPI's unit (0 when on or ahead)
	Governing Milestone
	Forecast  float64 // value the trend reaches by the governing deadline; NaN without a trend
}

// HasForecast reports whether the forecast says something a reader can act
// on: there is a trend, the series still has a target to reach, and the
// governing deadline is ahead of now. A milestone is done or not and has no
// trend; a stale series' trend is out of date.
func (j Judgement) HasForecast(k *catalogue.KPI, now time.Time) bool {
	switch {
	case math.IsNaN(j.Forecast), k.Kind == catalogue.KindMilestone, !j.Governing.Deadline().After(now):
		return false
	}
	return j.Status == conventions.StatusOnTrack || j.Status == conventions.StatusAtRisk || j.Status == conventions.StatusMissed
}

// Judge gives the status of a series at now. obs is nil for a unit with no
// report at all. A plan without a target (a unit of a count whose targets
// are for the whole) judges only whether reports come in: on track while
// they do, stale or no data otherwise, with no plan, gap or forecast.
func Judge(k *catalogue.KPI, plan Plan, obs *Observation, now time.Time) Judgement {
	j := Judgement{Status: conventions.StatusOnTrack, Forecast: math.NaN(), Plan: math.NaN()}
	j.Governing, _ = plan.Governing(now)
	switch {
	case obs == nil:
		j.Status = conventions.StatusNoData
		if plan.HasTarget() {
			j.Plan = plan.ValueAt(now)
		}
		return j
	case !plan.HasTarget():
		if now.After(StaleAfter(k.Cadence, obs.Period)) {
			j.Status = conventions.StatusStale
		}
		return j
	}
	asOf := PeriodEnd(k.Cadence.Period, obs.Period)
	j.Plan = plan.ValueAt(asOf)
	if !obs.EarlierPeriod.IsZero() && obs.Period.After(obs.EarlierPeriod) {
		slope := (obs.Value - obs.EarlierValue) / float64(obs.Period.Sub(obs.EarlierPeriod))
		j.Forecast = obs.Value + slope*float64(j.Governing.Deadline().Sub(asOf))
	}
	dir := plan.Direction
	span := math.Abs(j.Governing.Value - plan.BaselineValue)
	met := Met(dir, obs.Value, j.Governing.Value)
	// A milestone is done or not: there is no path to be behind on before
	// its date, and once done it needs no further reports.
	gradual := k.Kind != catalogue.KindMilestone
	if gradual && !met {
		j.Gap = Shortfall(dir, obs.Value, j.Plan)
	}
	switch passed, hasPassed := plan.lastPassed(now); {
	case met && !gradual:
		j.Status = conventions.StatusAchieved
	case now.After(StaleAfter(k.Cadence, obs.Period)):
		j.Status = conventions.StatusStale
	case met:
		j.Status = conventions.StatusAchieved
	case hasPassed && !Met(dir, obs.Value, passed.Value):
		j.Status = conventions.StatusMissed
	case j.Gap > k.Tolerance*span:
		j.Status, j.Reason = conventions.StatusAtRisk, conventions.ReasonBehindPlan
	case gradual && !math.IsNaN(j.Forecast) && !Met(dir, j.Forecast, j.Governing.Value):
		j.Status, j.Reason = conventions.StatusAtRisk, conventions.ReasonForecastMiss
	}
	return j
}

// Earliest is the first day a report of k may be for: 2015-01-01, well
// before Project 06 (2022) and the national e-government figures it builds
// on, or the first day of the year of k's baseline when that is earlier. A
// date before it (1969, year 1, an Excel serial read as 1905) is a misread,
// not a report.
func Earliest(k *catalogue.KPI) time.Time {
	floor := time.Date(2015, 1, 1, 0, 0, 0, 0, time.UTC)
	if b := k.Baseline.Date.Time; !b.IsZero() && b.Year() < floor.Year() {
		return time.Date(b.Year(), 1, 1, 0, 0, 0, 0, time.UTC)
	}
	return floor
}

// Latest is the last instant a report of k may be for at now: one period
// of its cadence after now (a report may run a little ahead, never a year).
func Latest(k *catalogue.KPI, now time.Time) time.Time {
	return nextPeriod(k.Cadence.Period, now)
}

// InWindow says why a report of k for t cannot be one at now, or nil:
// before Earliest, or after Latest.
func InWindow(k *catalogue.KPI, t, now time.Time) error {
	switch {
	case t.Before(Earliest(k)):
		return fmt.Errorf("%s is before %s, the earliest date a report may be for", t.Format(time.DateOnly), Earliest(k).Format(time.DateOnly))
	case t.After(Latest(k, now)):
		return fmt.Errorf("%s is after %s, a %s period from today", t.Format(time.DateOnly), Latest(k, now).Format(time.DateOnly), k.Cadence.Period)
	}
	return nil
}

// Impossible says why a figure a report of k gives (a value, or a ratio's
// numerator or denominator) cannot be right, or nil: not a finite number,
// beyond k's max_value, a count or a ratio's part below zero, a milestone
// outside 0 (not done) to 1 (done). A numerator above its denominator is
// not impossible here: it is served, flagged as suspect data.
func Impossible(k *catalogue.KPI, v float64) error {
	bound := k.MaxValue
	if bound == 0 {
		bound = catalogue.DefaultMaxValue
	}
	switch {
	case math.IsNaN(v) || math.IsInf(v, 0):
		return fmt.Errorf("%g is not a finite number", v)
	case math.Abs(v) > bound:
		return fmt.Errorf("%g is beyond %g, the largest figure kpi %q may have (its max_value)", v, bound, k.ID)
	case v < 0 && k.Kind == catalogue.KindCount:
		return fmt.Errorf("%g is below zero, and kpi %q is a count", v, k.ID)
	case v < 0 && k.Kind == catalogue.KindRatio:
		return fmt.Errorf("%g is below zero, and kpi %q is a ratio of counts", v, k.ID)
	case (v < 0 || v > 1) && k.Kind == catalogue.KindMilestone:
		return fmt.Errorf("%g is not a milestone's 0 (not done) to 1 (done)", v)
	}
	return nil
}
