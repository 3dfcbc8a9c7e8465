package model

import (
	"time"

	"github.com/kpiwatch/kpiwatch/catalogue"
	"github.com/kpiwatch/kpiwatch/kpi"
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

// Series is one observed series with its reported history, oldest first:
// KPI is its index in the catalogue, Labels its values of the KPI's
// dimensions, in their order.
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

// InForce is when a report on the period starting at p comes into force:
// the end of its period, the instant its value stands for.
func InForce(k *catalogue.KPI, p time.Time) time.Time { return kpi.PeriodEnd(k.Cadence.Period, p) }

// AsOf cuts each series to the reports in force at t, leaving out series
// with none: the data as it stood then. The cut series share their points
// with the originals.
func AsOf(cat *catalogue.Catalogue, series [][]Series, t time.Time) [][]Series {
	out := make([][]Series, 0, len(series))
	for _, src := range series {
		var cut []Series
		for _, s := range src {
			k := &cat.KPIs[s.KPI]
			n := len(s.History)
			for n > 0 && InForce(k, s.History[n-1].Period).After(t) {
				n--
			}
			if n > 0 {
				cut = append(cut, Series{KPI: s.KPI, Labels: s.Labels, History: s.History[:n:n]})
			}
		}
		out = append(out, cut)
	}
	return out
}
