package exporter

import (
	"fmt"
	"slices"

	"github.com/kpiwatch/kpiwatch/catalogue"
	"github.com/kpiwatch/kpiwatch/collectors"
	"github.com/kpiwatch/kpiwatch/internal/parallel"
	"github.com/kpiwatch/kpiwatch/model"
)

// Aggregate groups observations into series. Reports of the same series and
// period from different former provinces roll up (counts add; ratios add
// numerators and denominators); the same unit reported twice for one period is
// a rejected row, as is a level or milestone that would need summing.
// Series come out ordered by KPI and labels.
//
// At a million observations Aggregate works KPI by KPI, the KPIs spread over
// every core: no two KPIs share a series, and a KPI's index of series is
// small enough to stay in cache.
func Aggregate(cat *catalogue.Catalogue, obs []collectors.Observation) ([]model.Series, []error) {
	kpis := len(cat.KPIs)
	start := make([]int, kpis+1)
	for i := range obs {
		start[obs[i].KPI+1]++
	}
	for k := range kpis {
		start[k+1] += start[k]
	}
	byKPI := make([]int, len(obs))
	next := slices.Clone(start[:kpis])
	for i := range obs {
		byKPI[next[obs[i].KPI]] = i
		next[obs[i].KPI]++
	}
	type result struct {
		series   []model.Series
		rejected []error
	}
	results := make([]result, kpis)
	parallel.ForEach(kpis, func() func(k int) {
		return func(k int) {
			results[k].series, results[k].rejected = aggregateKPI(&cat.KPIs[k], k, obs, byKPI[start[k]:start[k+1]])
		}
	})
	var series []model.Series
	var rejected []error
	for _, r := range results {
		series = append(series, r.series...)
		rejected = append(rejected, r.rejected...)
	}
	return series, rejected
}

// aggregateKPI groups the observations of KPI k (indexes into obs, in order
// of arrival) into its series, ordered by labels. The series share one
// slice of labels and one of points, which the garbage collector scans as
// two objects rather than a million.
func aggregateKPI(k *catalogue.KPI, ki int, obs []collectors.Observation, members []int) ([]model.Series, []error) {
	index := make(map[string]int, len(members))
	seriesOf := make([]int, len(members))
	var key []byte
	for m, i := range members {
		key = key[:0]
		for _, l := range obs[i].Labels {
			key = append(key, l...)
			key = append(key, 0xff)
		}
		s, ok := index[string(key)]
		if !ok {
			s = len(index)
			index[string(key)] = s
		}
		seriesOf[m] = s
	}
	// Series are numbered in order of first report; lay their
	// observations out series by series and roll each up in place.
	series := make([]model.Series, 0, len(index))
	labels := make([]string, 0, len(index)*len(k.Dimensions))
	start := make([]int, len(index)+1)
	for m, s := range seriesOf {
		start[s+1]++
		if s == len(series) {
			n := len(labels)
			labels = append(labels, obs[members[m]].Labels...)
			series = append(series, model.Series{KPI: ki, Labels: labels[n:len(labels):len(labels)]})
		}
	}
	for s := range series {
		start[s+1] += start[s]
	}
	byseries := make([]int, len(members))
	next := slices.Clone(start[:len(series)])
	for m, s := range seriesOf {
		byseries[next[s]] = members[m]
		next[s]++
	}
	points := make([]model.Point, len(members))
	var rejected []error
	kept := 0
	for s := range series {
		pts, errs := rollUp(k, obs, byseries[start[s]:start[s+1]], points[kept:kept])
		series[s].History = pts[:len(pts):len(pts)]
		kept += len(pts)
		rejected = append(rejected, errs...)
	}
	slices.SortFunc(series, func(a, b model.Series) int { return slices.Compare(a.Labels, b.Labels) })
	return series, rejected
}

// rollUp appends to out the points of the observations of one series
// (indexes into obs), by period, merging the reports of one period.
func rollUp(k *catalogue.KPI, obs []collectors.Observation, members []int, out []model.Point) ([]model.Point, []error) {
	if len(members) > 1 {
		slices.SortStableFunc(members, func(a, b int) int { return obs[a].Period.Compare(obs[b].Period) })
	}
	var errs []error
	var first *collectors.Observation // first report of the current period
	var units []string                // the units merged into the current period
	for _, i := range members {
		o := &obs[i]
		if first == nil || !o.Period.Equal(first.Period) {
			first, units = o, append(units[:0], o.Unit)
			out = append(out, model.Point{Period: o.Period, Value: o.Value, Num: o.Num, Den: o.Den, ReportedAt: o.ReportedAt})
			continue
		}
		last := &out[len(out)-1]
		if o.ReportedAt.After(last.ReportedAt) {
			last.ReportedAt = o.ReportedAt // a merged unit's report is in once its last part is
		}
		switch {
		case slices.Contains(units, o.Unit):
			errs = append(errs, &collectors.RowError{Loc: o.Loc, Err: fmt.Errorf("kpi %s reported twice for %s (first at row %d)", k.ID, o.Period.Format("2006-01-02"), first.Loc.Row)})
		case k.Kind == catalogue.KindCount:
			last.Value += o.Value
			units = append(units, o.Unit)
		case k.Kind == catalogue.KindRatio:
			last.Num += o.Num
			last.Den += o.Den
			last.Value = last.Num / last.Den
			units = append(units, o.Unit)
		default:
			errs = append(errs, &collectors.RowError{Loc: o.Loc, Err: fmt.Errorf("kpi %s is a %s and cannot be rolled up from several former units (first at row %d)", k.ID, k.Kind, first.Loc.Row)})
		}
	}
	return out, errs
}
