package exporter

import (
	"fmt"
	"slices"
	"strconv"
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
// At a million observations the allocations are what costs: the key is built
// in one reused buffer, and every series' history is a window of one shared
// slice of points.
func Aggregate(cat *catalogue.Catalogue, obs []collectors.Observation) ([]Series, []error) {
	index := make(map[string]int, len(obs))
	seriesOf := make([]int, len(obs))
	var key []byte
	for i := range obs {
		o := &obs[i]
		key = strconv.AppendInt(key[:0], int64(o.KPI), 10)
		for _, l := range o.Labels {
			key = append(key, 0xff)
			key = append(key, l...)
		}
		s, ok := index[string(key)]
		if !ok {
			s = len(index)
			index[string(key)] = s
		}
		seriesOf[i] = s
	}
	// Series are numbered in order of first report.
	series := make([]Series, 0, len(index))
	for i, s := range seriesOf {
		if s == len(series) {
			series = append(series, Series{KPI: obs[i].KPI, Labels: obs[i].Labels})
		}
	}
	// Lay the observations out series by series, in their order of
	// arrival, and roll each series up in place.
	start := make([]int, len(series)+1)
	for _, s := range seriesOf {
		start[s+1]++
	}
	for s := range series {
		start[s+1] += start[s]
	}
	byseries := make([]int, len(obs))
	next := slices.Clone(start[:len(series)])
	for i, s := range seriesOf {
		byseries[next[s]] = i
		next[s]++
	}
	points := make([]Point, len(obs))
	var rejected []error
	kept := 0
	for s := range series {
		pts, errs := rollUp(&cat.KPIs[series[s].KPI], obs, byseries[start[s]:start[s+1]], points[kept:kept])
		series[s].History = pts[:len(pts):len(pts)]
		kept += len(pts)
		rejected = append(rejected, errs...)
	}
	slices.SortFunc(series, func(a, b Series) int {
		if a.KPI != b.KPI {
			return a.KPI - b.KPI
		}
		return slices.Compare(a.Labels, b.Labels)
	})
	return series, rejected
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
			out = append(out, Point{Period: o.Period, Value: o.Value, Num: o.Num, Den: o.Den})
			continue
		}
		last := &out[len(out)-1]
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
