package exporter

import (
	"maps"
	"time"

	"github.com/kpiwatch/kpiwatch/collectors"
	"github.com/kpiwatch/kpiwatch/model"
)

// Snapshot is what the exporter served at its latest render, for pages that
// show the same judgement as /metrics: the one judged model it rendered,
// with the tasks and the sources' health. It is shared and read-only:
// nothing in it may be modified.
type Snapshot struct {
	*model.Model
	Tasks   []collectors.Task
	TaskSum collectors.TaskSummary
	Sources []SourceHealth // in catalogue order

	series [][]model.Series // what the model was built from, for AsOf
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

// judged is the view a render read and the model it rendered.
type judged struct {
	v view
	m *model.Model
}

// Snapshot returns the judgement behind the exposition /metrics serves now.
func (e *Exporter) Snapshot() *Snapshot {
	j := e.judged.Load()
	out := snapshotOf(j.v, j.m)
	out.Sources = e.sourceHealth()
	return out
}

func snapshotOf(v view, m *model.Model) *Snapshot {
	return &Snapshot{Model: m, Tasks: v.tasks, TaskSum: collectors.SummariseTasks(v.tasks, v.now), series: v.series}
}

// AsOf judges the same data as it stood at t: each series cut to the reports
// in force by then (model.AsOf), the plans and tasks as of t.
func (s *Snapshot) AsOf(t time.Time) *Snapshot {
	v := view{cat: s.Catalogue, series: model.AsOf(s.Catalogue, s.series, t), tasks: s.Tasks, now: t}
	out := snapshotOf(v, model.Build(v.cat, v.series, t))
	out.Sources = s.Sources
	return out
}

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

// sourceHealth reads each source's refresh record.
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
