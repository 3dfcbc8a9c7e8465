package exporter

import (
	"fmt"
	goruntime "runtime"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/kpiwatch/kpiwatch/catalogue"
	"github.com/kpiwatch/kpiwatch/collectors"
)

// Point is one period's value of a series, after rolling up the former
// provinces that reported it.
type Point struct {
	Period   time.Time
	Value    float64
	Num, Den float64 // ratios only
	// ReportedAt is when the period's report was sent, where the source
	// says: the latest of the reports rolled into the point. Zero otherwise.
	ReportedAt time.Time
}

// Series is one observed series with its reported history, oldest first.
type Series struct {
	KPI     int
	Labels  []string
	History []Point
}

// Latest is the most recent point.
func (s *Series) Latest() Point { return s.History[len(s.History)-1] }

// Earlier is the point the trend is measured from: the latest one at least
// trendPeriods periods before the latest, or failing that the oldest. ok is
// false for a series with a single report.
func (s *Series) Earlier(p catalogue.Period) (Point, bool) {
	if len(s.History) < 2 {
		return Point{}, false
	}
	cut := trendStart(p, s.Latest().Period)
	for i := len(s.History) - 2; i >= 0; i-- {
		if !s.History[i].Period.After(cut) {
			return s.History[i], true
		}
	}
	return s.History[0], true
}

// trendPeriods is how many periods back the trend looks: a quarter of
// monthly data smooths one odd month without hiding a change of pace.
const trendPeriods = 3

func trendStart(p catalogue.Period, latest time.Time) time.Time {
	switch p {
	case catalogue.Weekly:
		return latest.AddDate(0, 0, -7*trendPeriods)
	case catalogue.Quarterly:
		return latest.AddDate(0, -3*trendPeriods, 0)
	case catalogue.Yearly:
		return latest.AddDate(-trendPeriods, 0, 0)
	}
	return latest.AddDate(0, -trendPeriods, 0)
}

// Aggregate groups observations into series. Reports of the same series and
// period from different former provinces roll up (counts add; ratios add
// numerators and denominators); the same unit reported twice for one period is
// a rejected row, as is a level or milestone that would need summing.
// Series come out ordered by KPI and labels.
//
// At a million observations Aggregate works KPI by KPI, the KPIs spread over
// every core: no two KPIs share a series, and a KPI's index of series is
// small enough to stay in cache.
func Aggregate(cat *catalogue.Catalogue, obs []collectors.Observation) ([]Series, []error) {
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
		series   []Series
		rejected []error
	}
	results := make([]result, kpis)
	forEach(kpis, func() func(k int) {
		return func(k int) {
			results[k].series, results[k].rejected = aggregateKPI(&cat.KPIs[k], k, obs, byKPI[start[k]:start[k+1]])
		}
	})
	var series []Series
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
func aggregateKPI(k *catalogue.KPI, ki int, obs []collectors.Observation, members []int) ([]Series, []error) {
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
	series := make([]Series, 0, len(index))
	labels := make([]string, 0, len(index)*len(k.Dimensions))
	start := make([]int, len(index)+1)
	for m, s := range seriesOf {
		start[s+1]++
		if s == len(series) {
			n := len(labels)
			labels = append(labels, obs[members[m]].Labels...)
			series = append(series, Series{KPI: ki, Labels: labels[n:len(labels):len(labels)]})
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
	points := make([]Point, len(members))
	var rejected []error
	kept := 0
	for s := range series {
		pts, errs := rollUp(k, obs, byseries[start[s]:start[s+1]], points[kept:kept])
		series[s].History = pts[:len(pts):len(pts)]
		kept += len(pts)
		rejected = append(rejected, errs...)
	}
	slices.SortFunc(series, func(a, b Series) int { return slices.Compare(a.Labels, b.Labels) })
	return series, rejected
}

// forEach calls the function work returns for every i in [0, n), on as
// many goroutines as there are cores; work is called once per goroutine,
// to set up what that goroutine reuses from one i to the next.
func forEach(n int, work func() func(i int)) {
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(goruntime.GOMAXPROCS(0), n) {
		wg.Go(func() {
			do := work()
			for i := int(next.Add(1) - 1); i < n; i = int(next.Add(1) - 1) {
				do(i)
			}
		})
	}
	wg.Wait()
}

// rollUp appends to out the points of the observations of one series
// (indexes into obs), by period, merging the reports of one period.
func rollUp(k *catalogue.KPI, obs []collectors.Observation, members []int, out []Point) ([]Point, []error) {
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
			out = append(out, Point{Period: o.Period, Value: o.Value, Num: o.Num, Den: o.Den, ReportedAt: o.ReportedAt})
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
