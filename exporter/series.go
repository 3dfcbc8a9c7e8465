package exporter

import (
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
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
	units    []string
	loc      collectors.Location
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
func Aggregate(cat *catalogue.Catalogue, obs []collectors.Observation) ([]Series, []error) {
	index := make(map[string]int, len(obs)/4+1)
	var series []Series
	var key strings.Builder
	for _, o := range obs {
		key.Reset()
		key.WriteString(strconv.Itoa(o.KPI))
		for _, l := range o.Labels {
			key.WriteByte(0xff)
			key.WriteString(l)
		}
		i, ok := index[key.String()]
		if !ok {
			i = len(series)
			index[key.String()] = i
			series = append(series, Series{KPI: o.KPI, Labels: o.Labels})
		}
		series[i].History = append(series[i].History, Point{Period: o.Period, Value: o.Value, Num: o.Num, Den: o.Den, units: []string{o.Unit}, loc: o.Loc})
	}
	var rejected []error
	for i := range series {
		var errs []error
		series[i].History, errs = rollUp(&cat.KPIs[series[i].KPI], series[i].History)
		rejected = append(rejected, errs...)
	}
	sort.Slice(series, func(i, j int) bool {
		if series[i].KPI != series[j].KPI {
			return series[i].KPI < series[j].KPI
		}
		return slices.Compare(series[i].Labels, series[j].Labels) < 0
	})
	return series, rejected
}

// rollUp sorts a series' points by period and merges points of one period.
func rollUp(k *catalogue.KPI, pts []Point) ([]Point, []error) {
	if len(pts) == 1 {
		return pts, nil
	}
	sort.SliceStable(pts, func(i, j int) bool { return pts[i].Period.Before(pts[j].Period) })
	out := pts[:1]
	var errs []error
	for _, p := range pts[1:] {
		last := &out[len(out)-1]
		if !p.Period.Equal(last.Period) {
			out = append(out, p)
			continue
		}
		switch {
		case slices.Contains(last.units, p.units[0]):
			errs = append(errs, &collectors.RowError{Loc: p.loc, Err: fmt.Errorf("kpi %s reported twice for %s (first at row %d)", k.ID, p.Period.Format("2006-01-02"), last.loc.Row)})
		case k.Kind == catalogue.KindCount:
			last.Value += p.Value
			last.units = append(last.units, p.units[0])
		case k.Kind == catalogue.KindRatio:
			last.Num += p.Num
			last.Den += p.Den
			last.Value = last.Num / last.Den
			last.units = append(last.units, p.units[0])
		default:
			errs = append(errs, &collectors.RowError{Loc: p.loc, Err: fmt.Errorf("kpi %s is a %s and cannot be rolled up from several former units (first at row %d)", k.ID, k.Kind, last.loc.Row)})
		}
	}
	return out, errs
}
