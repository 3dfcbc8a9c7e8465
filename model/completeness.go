package model

import (
	"slices"
	"strings"
	"time"

	"github.com/kpiwatch/kpiwatch/catalogue"
	"github.com/kpiwatch/kpiwatch/kpi"
)

// Report is one expected report on a KPI's last due period: who owes it,
// whether it is in, and whether it was sent by the due day. The exporter
// serves these as kpi_report_expected, kpi_report_received and
// kpi_report_on_time; pages list them from Model.Reports.
type Report struct {
	KPI   string
	Owner string // the KPI's owner, who answers for the figure
	Block string // the block of the unit that reports (a ministry's own block)
	// Dimension and Unit name who reports: "province" and "Ha Noi",
	// "ministry" and an owner id, "block" and a block; both empty for a
	// national KPI, reported by its owner.
	Dimension, Unit string
	// Period is the start of the last period whose report is due; Due is
	// the end of its due day.
	Period, Due time.Time
	Received    bool
	// SentAt is when the report was sent, where the source says
	// (mapping.reported_at); zero otherwise.
	SentAt time.Time
	// OnTimeKnown says whether the source says when reports were sent;
	// only then does OnTime mean anything.
	OnTimeKnown, OnTime bool
}

// DuePeriod is the start of the last period of cadence c whose report is
// due by now: at 2026-11-22, October 2026 for monthly reports due by the
// 15th; at 2026-11-10, September.
func DuePeriod(c catalogue.Cadence, now time.Time) time.Time {
	p := kpi.PeriodStart(c.Period, now)
	for kpi.ReportDue(c, p).After(now) {
		p = kpi.PeriodStart(c.Period, p.Add(-time.Nanosecond))
	}
	return p
}

// Reporters are the units a KPI's reports are expected from, as the
// values of its one dimension: the units in force of a listed level (the
// 34 provinces, a province's communes), every ministry (owner) but the
// KPI's own owner, who compiles them, or the blocks; a national KPI's one
// report comes from its owner. A KPI broken down by a dimension without a
// list (commune by default) or by several dimensions has no list of
// reporters: ok is false.
func Reporters(cat *catalogue.Catalogue, k *catalogue.KPI) (dim string, unitsOf []string, ok bool) {
	switch {
	case len(k.Dimensions) == 0:
		return "", []string{""}, true
	case len(k.Dimensions) > 1:
		return "", nil, false
	}
	if listed := listedUnits(cat, k); listed != nil {
		return k.Dimensions[0], listed, true
	}
	switch d := k.Dimensions[0]; d {
	case catalogue.DimMinistry:
		for _, o := range cat.Owners {
			if o.ID != k.Owner {
				unitsOf = append(unitsOf, o.ID)
			}
		}
		return d, unitsOf, true
	case catalogue.DimBlock:
		return d, cat.BlockIDs(), true
	}
	return "", nil, false
}

// listedUnits are the names of the units in force of the listed level k
// is broken down by alone, nil for any other KPI.
func listedUnits(cat *catalogue.Catalogue, k *catalogue.KPI) []string {
	if len(k.Dimensions) != 1 {
		return nil
	}
	l := cat.UnitLevel(k.Dimensions[0])
	if l == nil {
		return nil
	}
	var names []string
	for _, u := range l.Current() {
		names = append(names, u.Name)
	}
	return names
}

// SendsDates says whether a source's mapping names the column with the day
// each report was sent.
func SendsDates(src catalogue.Source) bool {
	var cfg struct {
		Mapping struct {
			ReportedAt string `yaml:"reported_at"`
		} `yaml:"mapping"`
	}
	return src.Config.Decode(&cfg) == nil && cfg.Mapping.ReportedAt != ""
}

// completeness works out the reports of cat expected at now, from the
// observed series (grouped as Build takes them).
func completeness(cat *catalogue.Catalogue, series [][]Series, now time.Time) []Report {
	dated := map[string]bool{}
	for _, src := range cat.Sources {
		dated[src.ID] = SendsDates(src)
	}
	// The point of each series on its KPI's due period, by KPI and unit.
	periods := make([]time.Time, len(cat.KPIs))
	for i := range cat.KPIs {
		periods[i] = DuePeriod(cat.KPIs[i].Cadence, now)
	}
	points := make([]map[string]Point, len(cat.KPIs))
	for _, src := range series {
		for i := range src {
			s := &src[i]
			if len(s.Labels) > 1 {
				continue
			}
			j, ok := slices.BinarySearchFunc(s.History, periods[s.KPI], func(p Point, t time.Time) int { return p.Period.Compare(t) })
			if !ok {
				continue
			}
			if points[s.KPI] == nil {
				points[s.KPI] = map[string]Point{}
			}
			points[s.KPI][strings.Join(s.Labels, "")] = s.History[j]
		}
	}
	var out []Report
	for i := range cat.KPIs {
		k := &cat.KPIs[i]
		dim, unitsOf, ok := Reporters(cat, k)
		if !ok {
			continue
		}
		for _, u := range unitsOf {
			r := Report{KPI: k.ID, Owner: k.Owner, Block: k.Block, Dimension: dim, Unit: u,
				Period: periods[i], Due: kpi.ReportDue(k.Cadence, periods[i]), OnTimeKnown: dated[k.MainSource()]}
			switch dim {
			case catalogue.DimMinistry:
				if o, ok := cat.Owner(u); ok {
					r.Block = o.Block
				}
			case catalogue.DimBlock:
				r.Block = u
			}
			p, in := points[i][u]
			r.Received, r.SentAt = in, p.ReportedAt
			r.OnTime = in && r.OnTimeKnown && !p.ReportedAt.IsZero() && p.ReportedAt.Before(r.Due)
			out = append(out, r)
		}
	}
	return out
}
