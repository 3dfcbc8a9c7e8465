package exporter

import (
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/kpiwatch/kpiwatch/catalogue"
	"github.com/kpiwatch/kpiwatch/collectors"
	"github.com/kpiwatch/kpiwatch/kpi"
)

// Snapshot is what the exporter judged at its latest render, for pages that
// show the same judgement as /metrics: it is built from the same data, at the
// same instant, by the same functions. It is shared and read-only: nothing
// in it may be modified.
type Snapshot struct {
	Catalogue *catalogue.Catalogue
	Now       time.Time
	KPIs      []JudgedKPI // in catalogue order
	Tasks     []collectors.Task
	TaskSum   collectors.TaskSummary
	Sources   []SourceHealth // in catalogue order
	// Reports are the reports expected on each KPI's last due period, as
	// kpi_report_expected, kpi_report_received and kpi_report_on_time serve
	// them: the compliance table of who has not reported, or reported late.
	Reports []Report

	v view
}

// JudgedKPI is one KPI with each of its series judged.
type JudgedKPI struct {
	KPI  *catalogue.KPI
	Plan kpi.Plan // the KPI-wide plan in force at Now
	// Series holds the observed series ordered by labels, then the expected
	// units that never reported (History nil, status no_data).
	Series []JudgedSeries
}

// JudgedSeries is one series with its judgement, as /metrics serves it.
type JudgedSeries struct {
	Labels    []string // in the order of the KPI's dimensions
	History   []Point  // oldest first; nil for a unit that never reported
	Plan      kpi.Plan // the plan that governs it: its unit's own or the KPI's
	Judgement kpi.Judgement
	// Forecast and Gap are as served (kpi_forecast, kpi_plan_gap): NaN and 0
	// where the family has no sample for the series.
	Forecast, Gap float64
	Suspect       []string // the plausibility checks its latest report fails
}

// Latest is the series' latest point; ok is false for a unit that never
// reported.
func (s *JudgedSeries) Latest() (Point, bool) {
	if len(s.History) == 0 {
		return Point{}, false
	}
	return s.History[len(s.History)-1], true
}

// Label is the series' value of dimension d, "" when the KPI has no such
// dimension.
func (k *JudgedKPI) Label(s *JudgedSeries, d string) string {
	if i := slices.Index(k.KPI.Dimensions, d); i >= 0 {
		return s.Labels[i]
	}
	return ""
}

// SourceHealth is a source's refresh record, as the collector self-metrics
// serve it.
type SourceHealth struct {
	ID, Collector string
	Attempted     bool // refreshed at least once
	Success       bool
	Failures      int // refreshes failed in a row
	// FailuresByReason counts every failed refresh by its reason (a
	// conventions.Failure* value).
	FailuresByReason map[string]int
	LastSuccess      time.Time
	Duration         time.Duration
	Series           int // observed series or tasks held
	Rejected         int // rows the last refresh rejected
	// Files are the files the last refresh read and rejected, for a
	// source whose path is a folder or a glob (Files is nil otherwise).
	Files *[2]int
}

// judged is the view a render read; its snapshot is built on first use.
type judged struct {
	v    view
	once sync.Once
	snap *Snapshot
}

// Snapshot returns the judgement behind the exposition /metrics serves now.
// Snapshots of one render are built once and shared.
func (e *Exporter) Snapshot() *Snapshot {
	j := e.judged.Load()
	j.once.Do(func() { j.snap = snapshotOf(j.v) })
	out := *j.snap
	out.Sources = e.sourceHealth()
	return &out
}

// AsOf judges the same data as it stood at t: each series cut to the reports
// in force by then (a report is in force from the end of its period, as the
// backfill has it), the plans and tasks as of t.
func (s *Snapshot) AsOf(t time.Time) *Snapshot {
	v := view{cat: s.v.cat, tasks: s.v.tasks, now: t}
	for _, src := range s.v.series {
		var cut []Series
		for _, sr := range src {
			k := &v.cat.KPIs[sr.KPI]
			n := len(sr.History)
			for n > 0 && kpi.PeriodEnd(k.Cadence.Period, sr.History[n-1].Period).After(t) {
				n--
			}
			if n > 0 {
				cut = append(cut, Series{KPI: sr.KPI, Labels: sr.Labels, History: sr.History[:n:n]})
			}
		}
		v.series = append(v.series, cut)
	}
	out := snapshotOf(v)
	out.Sources = s.Sources
	return out
}

// snapshotOf judges every series of v as render does.
func snapshotOf(v view) *Snapshot {
	cat := v.cat
	out := &Snapshot{Catalogue: cat, Now: v.now, Tasks: v.tasks, TaskSum: collectors.SummariseTasks(v.tasks, v.now), Reports: completeness(v), v: v}
	out.KPIs = make([]JudgedKPI, len(cat.KPIs))
	plans := make([]kpiPlans, len(cat.KPIs))
	for i := range cat.KPIs {
		plans[i] = plansFor(&cat.KPIs[i], v.now)
		out.KPIs[i] = JudgedKPI{KPI: &cat.KPIs[i], Plan: plans[i].wide}
	}
	for _, src := range v.series {
		for i := range src {
			s := &src[i]
			k := &cat.KPIs[s.KPI]
			plan := plans[s.KPI].planOf(k, s.Labels)
			j := judge(k, plan, s, v.now)
			vd := newVerdict(k, j, v.now, suspectChecks(k, s))
			js := JudgedSeries{Labels: s.Labels, History: s.History, Plan: plan, Judgement: j, Forecast: vd.forecast, Gap: vd.gap}
			for b, check := range checks {
				if vd.suspect&(1<<b) != 0 {
					js.Suspect = append(js.Suspect, check)
				}
			}
			out.KPIs[s.KPI].Series = append(out.KPIs[s.KPI].Series, js)
		}
	}
	for i, missing := range unreported(v) {
		k := &cat.KPIs[i]
		for _, labels := range missing {
			plan := plans[i].planOf(k, labels)
			j := kpi.Judge(k, plan, nil, v.now)
			out.KPIs[i].Series = append(out.KPIs[i].Series, JudgedSeries{Labels: labels, Plan: plan, Judgement: j, Forecast: newVerdict(k, j, v.now, 0).forecast})
		}
	}
	return out
}

// sourceHealth reads each source's refresh record.
// fileCounts are a collector's counts of files read and rejected, when it
// reads a folder or a glob.
func fileCounts(c collectors.Collector) *[2]int {
	if fc, ok := c.(collectors.FileCounter); ok {
		if read, rejected, ok := fc.Files(); ok {
			return &[2]int{read, rejected}
		}
	}
	return nil
}

func (e *Exporter) sourceHealth() []SourceHealth {
	e.mu.Lock()
	rt := e.rt
	e.mu.Unlock()
	out := make([]SourceHealth, 0, len(rt.sources))
	for _, s := range rt.sources {
		s.mu.Lock()
		out = append(out, SourceHealth{
			ID: s.cfg.ID, Collector: s.cfg.Collector, Attempted: s.attempted, Success: s.success, Failures: s.inARow, FailuresByReason: maps.Clone(s.failures),
			LastSuccess: s.lastSuccess, Duration: s.duration, Series: len(s.series) + len(s.tasks), Rejected: s.rejected,
			Files: fileCounts(s.collector),
		})
		s.mu.Unlock()
	}
	return out
}
