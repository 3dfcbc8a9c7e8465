package web

import (
	"testing"
	"time"

	"github.com/kpiwatch/kpiwatch/catalogue"
	"github.com/kpiwatch/kpiwatch/conventions"
	"github.com/kpiwatch/kpiwatch/exporter"
	"github.com/kpiwatch/kpiwatch/kpi"
)

func month(m int) time.Time { return time.Date(2026, time.Month(m), 1, 0, 0, 0, 0, time.UTC) }

// TestNationalHistory rolls a ratio up period by period: a unit that has not
// reported again counts with its last figure, and ratios add numerators and
// denominators, never percentages.
func TestNationalHistory(t *testing.T) {
	k := &catalogue.KPI{Kind: catalogue.KindRatio}
	series := []exporter.JudgedSeries{
		{History: []exporter.Point{{Period: month(1), Num: 1, Den: 10, Value: 0.1}, {Period: month(3), Num: 5, Den: 10, Value: 0.5}}},
		{History: []exporter.Point{{Period: month(2), Num: 90, Den: 100, Value: 0.9}}},
		{}, // never reported
	}
	got := nationalHistory(k, series)
	want := []figure{{month(1), 0.1}, {month(2), 91.0 / 110}, {month(3), 95.0 / 110}}
	if len(got) != len(want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	for i := range want {
		if !got[i].at.Equal(want[i].at) || got[i].value != want[i].value {
			t.Errorf("period %d: %v, want %v", i, got[i], want[i])
		}
	}
	if v, _ := rollUp(catalogue.KindLevel, []exporter.Point{{Value: 3}, {Value: 1}, {Value: 2}, {Value: 10}}); v != 2.5 {
		t.Errorf("a level's national figure is the median: %v", v)
	}
}

// TestSummariseWorstStatus: a KPI counts under its worst reporting unit, a
// unit with no data only when none reported.
func TestSummariseWorstStatus(t *testing.T) {
	k := &catalogue.KPI{Kind: catalogue.KindCount, Dimensions: []string{catalogue.DimProvince}, Cadence: catalogue.Cadence{Period: catalogue.Monthly}}
	judged := func(statuses ...string) *exporter.JudgedKPI {
		jk := &exporter.JudgedKPI{KPI: k, Plan: kpi.Plan{}}
		for _, s := range statuses {
			jk.Series = append(jk.Series, exporter.JudgedSeries{Judgement: kpi.Judgement{Status: s}})
		}
		return jk
	}
	for _, c := range []struct {
		in   []string
		want string
	}{
		{[]string{conventions.StatusAchieved, conventions.StatusAtRisk, conventions.StatusNoData, conventions.StatusStale}, conventions.StatusAtRisk},
		{[]string{conventions.StatusAchieved, conventions.StatusStale}, conventions.StatusAchieved},
		{[]string{conventions.StatusNoData, conventions.StatusNoData}, conventions.StatusNoData},
		{[]string{conventions.StatusOnTrack, conventions.StatusMissed}, conventions.StatusMissed},
	} {
		if got := summarise(judged(c.in...), month(6)).status; got != c.want {
			t.Errorf("%v: %s, want %s", c.in, got, c.want)
		}
	}
}
