package exporter

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/kpiwatch/kpiwatch/catalogue"
	"github.com/kpiwatch/kpiwatch/collectors"
	"github.com/kpiwatch/kpiwatch/model"
)

// Sourced is one source's last good read: its series and, for the KPIs
// read from several sources, where each of their points came from.
type Sourced struct {
	ID     string
	Series []model.Series
	Places Places
}

// Places are where the points of KPIs read from several sources came
// from, by KPI, labels and period: kept only for those KPIs, so that a
// period two sources give is reported naming both places.
type Places map[placeKey]collectors.Location

type placeKey struct {
	kpi    int
	labels string
	period int64
}

func keyOf(ki int, labels []string, period time.Time) placeKey {
	return placeKey{ki, strings.Join(labels, "\xff"), period.Unix()}
}

// PlacesOf keeps the location of each observation of a KPI with several
// sources: the first, where former provinces rolled into one point.
func PlacesOf(cat *catalogue.Catalogue, obs []collectors.Observation) Places {
	var p Places
	for i := range obs {
		o := &obs[i]
		if len(cat.KPIs[o.KPI].Sources) < 2 {
			continue
		}
		if p == nil {
			p = Places{}
		}
		if k := keyOf(o.KPI, o.Labels, o.Period); p[k] == (collectors.Location{}) {
			p[k] = o.Loc
		}
	}
	return p
}

// Overlap is a period of a series that two sources of its KPI both give:
// the figure from Kept is served, the one from Dropped is not.
type Overlap struct {
	Series        string // kpi{labels}
	Period        time.Time
	Kept, Dropped collectors.Location
	KeptValue     float64
	DroppedValue  float64
}

func (o Overlap) String() string {
	return fmt.Sprintf("%s %s: served %s from %s over %s from %s (the later of the KPI's sources wins)",
		o.Series, o.Period.Format(time.DateOnly), strconv.FormatFloat(o.KeptValue, 'g', -1, 64), o.Kept, strconv.FormatFloat(o.DroppedValue, 'g', -1, 64), o.Dropped)
}

// Combine applies the catalogue's rule for KPIs read from several sources
// (catalogue.KPI.SourceIDs) to the sources' reads: each such series is
// merged from every source that gives it, period by period, the source
// listed later winning a period both give; each figure not served is an
// Overlap. The other series pass through as their source read them. The
// result is grouped as model.Build takes it.
func Combine(cat *catalogue.Catalogue, reads []Sourced) ([][]model.Series, []Overlap) {
	out := make([][]model.Series, 0, len(reads)+1)
	type given struct {
		rank   int // the source's place in the KPI's sources
		read   int
		series *model.Series
	}
	shared := map[string]bool{} // the sources of KPIs with several
	for _, k := range cat.KPIs {
		for _, id := range k.Sources {
			shared[id] = true
		}
	}
	groups := map[string][]given{} // by KPI and labels
	var order []string
	for r, read := range reads {
		if !shared[read.ID] { // most sources, passed through unscanned
			out = append(out, read.Series)
			continue
		}
		// The other series pass as runs of the read's own slice: a render
		// copies none of them.
		run := 0
		for i := range read.Series {
			s := &read.Series[i]
			k := &cat.KPIs[s.KPI]
			if len(k.Sources) < 2 {
				continue
			}
			if run < i {
				out = append(out, read.Series[run:i])
			}
			run = i + 1
			key := fmt.Sprint(s.KPI, "\xff", strings.Join(s.Labels, "\xff"))
			if _, ok := groups[key]; !ok {
				order = append(order, key)
			}
			groups[key] = append(groups[key], given{slices.Index(k.Sources, read.ID), r, s})
		}
		if run < len(read.Series) {
			out = append(out, read.Series[run:])
		}
	}
	var merged []model.Series
	var overlaps []Overlap
	for _, key := range order {
		g := groups[key]
		slices.SortStableFunc(g, func(a, b given) int { return a.rank - b.rank })
		first := g[0].series
		k := &cat.KPIs[first.KPI]
		byPeriod := map[int64]int{} // index into history
		var history []model.Point
		var from []int // per point, the index in g of the source served
		type loss struct {
			given int // index in g
			value float64
		}
		var lost [][]loss // per point, the figures not served
		for gi, gv := range g {
			for _, p := range gv.series.History {
				i, seen := byPeriod[p.Period.Unix()]
				if !seen {
					byPeriod[p.Period.Unix()] = len(history)
					history, from, lost = append(history, p), append(from, gi), append(lost, nil)
					continue
				}
				lost[i] = append(lost[i], loss{from[i], history[i].Value})
				history[i], from[i] = p, gi
			}
		}
		place := func(gi int, period time.Time) collectors.Location {
			return reads[g[gi].read].place(first.KPI, first.Labels, period)
		}
		for i, ls := range lost {
			for _, l := range ls {
				overlaps = append(overlaps, Overlap{Series: SeriesName(k, first.Labels), Period: history[i].Period,
					Kept: place(from[i], history[i].Period), Dropped: place(l.given, history[i].Period), KeptValue: history[i].Value, DroppedValue: l.value})
			}
		}
		slices.SortFunc(history, func(a, b model.Point) int { return a.Period.Compare(b.Period) })
		merged = append(merged, model.Series{KPI: first.KPI, Labels: first.Labels, History: history})
	}
	if merged != nil {
		slices.SortFunc(merged, func(a, b model.Series) int {
			if a.KPI != b.KPI {
				return a.KPI - b.KPI
			}
			return slices.Compare(a.Labels, b.Labels)
		})
		out = append(out, merged)
	}
	return out, overlaps
}

// place is where a point of the read came from, or at least its source.
func (s Sourced) place(ki int, labels []string, period time.Time) collectors.Location {
	if l, ok := s.Places[keyOf(ki, labels, period)]; ok {
		return l
	}
	return collectors.Location{Source: s.ID}
}

// SeriesName writes a series as kpi{dimension="value",...}.
func SeriesName(k *catalogue.KPI, labels []string) string {
	if len(labels) == 0 {
		return k.ID
	}
	pairs := make([]string, len(labels))
	for i, l := range labels {
		pairs[i] = fmt.Sprintf("%s=%q", k.Dimensions[i], l)
	}
	return k.ID + "{" + strings.Join(pairs, ",") + "}"
}
