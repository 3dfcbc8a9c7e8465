package exporter

import (
	"bytes"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/kpiwatch/kpiwatch/catalogue"
	"github.com/kpiwatch/kpiwatch/collectors"
	"github.com/kpiwatch/kpiwatch/conventions"
	"github.com/kpiwatch/kpiwatch/kpi"
	"github.com/kpiwatch/kpiwatch/units"
)

// view is what one rendering reads: the catalogue and every source's last
// good data.
type view struct {
	cat    *catalogue.Catalogue
	series [][]Series // per source, in catalogue order
	tasks  []collectors.Task
	now    time.Time
}

// judged is a series with its status, computed once per rendering.
type judged struct {
	s      *Series
	j      kpi.Judgement
	noData bool
}

// writer appends exposition lines; it writes text directly rather than
// building metric objects, because at a million series that is the
// difference between a second and a tenth of one.
type writer struct {
	b       *bytes.Buffer
	scratch []byte
}

func (w *writer) family(name, help string) {
	w.b.WriteString("# HELP ")
	w.b.WriteString(name)
	w.b.WriteByte(' ')
	w.b.WriteString(help)
	w.b.WriteString("\n# TYPE ")
	w.b.WriteString(name)
	w.b.WriteString(" gauge\n")
}

// sample writes name{k1="v1",...} value. pairs alternates label names and
// values; empty values are left out.
func (w *writer) sample(name string, v float64, pairs ...string) {
	w.b.WriteString(name)
	open := false
	for i := 0; i+1 < len(pairs); i += 2 {
		if pairs[i+1] == "" {
			continue
		}
		if open {
			w.b.WriteByte(',')
		} else {
			w.b.WriteByte('{')
			open = true
		}
		w.b.WriteString(pairs[i])
		w.b.WriteString(`="`)
		writeEscaped(w.b, pairs[i+1])
		w.b.WriteByte('"')
	}
	if open {
		w.b.WriteByte('}')
	}
	w.b.WriteByte(' ')
	w.scratch = appendFloat(w.scratch[:0], v)
	w.b.Write(w.scratch)
	w.b.WriteByte('\n')
}

func appendFloat(b []byte, v float64) []byte {
	switch {
	case math.IsNaN(v):
		return append(b, "NaN"...)
	case math.IsInf(v, 1):
		return append(b, "+Inf"...)
	case math.IsInf(v, -1):
		return append(b, "-Inf"...)
	}
	return strconv.AppendFloat(b, v, 'g', -1, 64)
}

func writeEscaped(b *bytes.Buffer, s string) {
	if !strings.ContainsAny(s, "\\\"\n") {
		b.WriteString(s)
		return
	}
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '\\':
			b.WriteString(`\\`)
		case '"':
			b.WriteString(`\"`)
		case '\n':
			b.WriteString(`\n`)
		default:
			b.WriteByte(c)
		}
	}
}

// seriesPairs is the label pairs of a series: kpi, then its dimensions.
func seriesPairs(k *catalogue.KPI, labels []string, extra ...string) []string {
	p := make([]string, 0, 2+2*len(labels)+len(extra))
	p = append(p, conventions.LabelKPI, k.ID)
	for i, d := range k.Dimensions {
		p = append(p, d, labels[i])
	}
	return append(p, extra...)
}

// kpiPlans holds, per KPI, its KPI-wide plan and the plans of units that have
// targets of their own.
type kpiPlans struct {
	wide  kpi.Plan
	units map[string]kpi.Plan // by kpi.UnitKey
	dims  [][]string          // the dimension sets unit selectors use
}

func plansFor(k *catalogue.KPI, now time.Time) kpiPlans {
	p := kpiPlans{wide: kpi.PlanFor(k, "", now), units: map[string]kpi.Plan{}}
	seen := map[string]bool{}
	for _, t := range k.Targets {
		u := kpi.UnitKey(t.Unit)
		if u == "" {
			continue
		}
		p.units[u] = kpi.PlanFor(k, u, now)
		dims := make([]string, 0, len(t.Unit))
		for _, d := range k.Dimensions {
			if _, ok := t.Unit[d]; ok {
				dims = append(dims, d)
			}
		}
		if key := strings.Join(dims, ","); !seen[key] {
			seen[key] = true
			p.dims = append(p.dims, dims)
		}
	}
	return p
}

// planOf finds the plan governing a series: its unit's own, or the KPI's.
func (p kpiPlans) planOf(k *catalogue.KPI, labels []string) kpi.Plan {
	for _, dims := range p.dims {
		sel := map[string]string{}
		for _, d := range dims {
			sel[d] = labels[indexOf(k.Dimensions, d)]
		}
		if plan, ok := p.units[kpi.UnitKey(sel)]; ok {
			return plan
		}
	}
	return p.wide
}

func indexOf(xs []string, x string) int {
	for i, v := range xs {
		if v == x {
			return i
		}
	}
	return -1
}

// render writes the KPI exposition of v into b.
func render(b *bytes.Buffer, v view) {
	w := &writer{b: b}
	cat := v.cat
	plans := make([]kpiPlans, len(cat.KPIs))
	for i := range cat.KPIs {
		plans[i] = plansFor(&cat.KPIs[i], v.now)
	}
	renderMetadata(w, cat)
	renderTargets(w, cat, plans, v.now)
	renderSeries(w, cat, judgeAll(v, plans))
	renderTasks(w, collectors.SummariseTasks(v.tasks, v.now))
}

func renderMetadata(w *writer, cat *catalogue.Catalogue) {
	w.family(conventions.KPIInfo, conventions.Help[conventions.KPIInfo])
	for i := range cat.KPIs {
		k := &cat.KPIs[i]
		w.sample(conventions.KPIInfo, 1,
			conventions.LabelKPI, k.ID, conventions.LabelName, k.Name, conventions.LabelNameVI, k.NameVI,
			conventions.LabelUnit, k.Unit, conventions.LabelKind, string(k.Kind), conventions.LabelDirection, string(k.Direction),
			conventions.LabelOwner, k.Owner, conventions.LabelBlock, k.Block, conventions.LabelCadence, string(k.Cadence.Period),
			conventions.LabelSource, k.Source)
	}
	w.family(conventions.OwnerInfo, conventions.Help[conventions.OwnerInfo])
	for _, o := range cat.Owners {
		w.sample(conventions.OwnerInfo, 1, conventions.LabelOwner, o.ID, conventions.LabelName, o.Name, conventions.LabelNameVI, o.NameVI, conventions.LabelBlock, o.Block)
	}
	w.family(conventions.ProvinceInfo, conventions.Help[conventions.ProvinceInfo])
	for _, p := range units.All() {
		w.sample(conventions.ProvinceInfo, 1, conventions.LabelProvince, p.Name, conventions.LabelCode, p.Code, conventions.LabelNameVI, p.NameVI)
	}
}

// renderTargets writes the per-KPI plan figures, and the same per unit for
// units with targets of their own.
func renderTargets(w *writer, cat *catalogue.Catalogue, plans []kpiPlans, now time.Time) {
	type fig struct {
		name  string
		value func(k *catalogue.KPI, p kpi.Plan) float64
	}
	figs := []fig{
		{conventions.KPIBaseline, func(_ *catalogue.KPI, p kpi.Plan) float64 { return p.BaselineValue }},
		{conventions.KPITarget, func(_ *catalogue.KPI, p kpi.Plan) float64 { m, _ := p.Governing(now); return m.Value }},
		{conventions.KPITargetDeadline, func(_ *catalogue.KPI, p kpi.Plan) float64 {
			m, _ := p.Governing(now)
			return float64(m.Deadline().Unix())
		}},
		{conventions.KPIPlan, func(_ *catalogue.KPI, p kpi.Plan) float64 { return p.ValueAt(now) }},
		{conventions.KPITolerance, func(k *catalogue.KPI, _ kpi.Plan) float64 { return k.Tolerance }},
	}
	for _, f := range figs {
		w.family(f.name, conventions.Help[f.name])
		for i := range cat.KPIs {
			k := &cat.KPIs[i]
			w.sample(f.name, f.value(k, plans[i].wide), conventions.LabelKPI, k.ID)
			for _, u := range kpi.UnitKeys(k) {
				pairs := []string{conventions.LabelKPI, k.ID}
				for _, kv := range strings.Split(u, ",") {
					d, val, _ := strings.Cut(kv, "=")
					pairs = append(pairs, d, val)
				}
				w.sample(f.name, f.value(k, plans[i].units[u]), pairs...)
			}
		}
	}
}

// judgeAll judges every series, and adds a no_data entry for each expected
// unit that has never reported: every province for a KPI broken down by
// province alone, the KPI itself for a national one.
func judgeAll(v view, plans []kpiPlans) []judged {
	var out []judged
	reported := make([]map[string]bool, len(v.cat.KPIs))
	for _, src := range v.series {
		for i := range src {
			s := &src[i]
			k := &v.cat.KPIs[s.KPI]
			latest := s.Latest()
			obs := kpi.Observation{Period: latest.Period, Value: latest.Value}
			if e, ok := s.Earlier(k.Cadence.Period); ok {
				obs.EarlierPeriod, obs.EarlierValue = e.Period, e.Value
			}
			out = append(out, judged{s: s, j: kpi.Judge(k, plans[s.KPI].planOf(k, s.Labels), &obs, v.now)})
			if reported[s.KPI] == nil {
				reported[s.KPI] = map[string]bool{}
			}
			reported[s.KPI][strings.Join(s.Labels, "\xff")] = true
		}
	}
	for i := range v.cat.KPIs {
		k := &v.cat.KPIs[i]
		var expected [][]string
		switch {
		case len(k.Dimensions) == 0:
			expected = [][]string{{}}
		case len(k.Dimensions) == 1 && k.Dimensions[0] == catalogue.DimProvince:
			for _, p := range units.All() {
				expected = append(expected, []string{p.Name})
			}
		}
		for _, labels := range expected {
			if reported[i][strings.Join(labels, "\xff")] {
				continue
			}
			s := &Series{KPI: i, Labels: labels}
			out = append(out, judged{s: s, j: kpi.Judge(k, plans[i].planOf(k, labels), nil, v.now), noData: true})
		}
	}
	return out
}

func renderSeries(w *writer, cat *catalogue.Catalogue, js []judged) {
	type fig struct {
		name   string
		ratios bool // served for ratio KPIs only
		value  func(p Point) float64
	}
	figs := []fig{
		{conventions.KPIValue, false, func(p Point) float64 { return p.Value }},
		{conventions.KPINumerator, true, func(p Point) float64 { return p.Num }},
		{conventions.KPIDenominator, true, func(p Point) float64 { return p.Den }},
		{conventions.KPIReportPeriod, false, func(p Point) float64 { return float64(p.Period.Unix()) }},
	}
	for _, f := range figs {
		w.family(f.name, conventions.Help[f.name])
		for _, j := range js {
			k := &cat.KPIs[j.s.KPI]
			if j.noData || (f.ratios && k.Kind != catalogue.KindRatio) {
				continue
			}
			w.sample(f.name, f.value(j.s.Latest()), seriesPairs(k, j.s.Labels)...)
		}
	}
	w.family(conventions.KPIStatus, conventions.Help[conventions.KPIStatus])
	for _, j := range js {
		k := &cat.KPIs[j.s.KPI]
		w.sample(conventions.KPIStatus, 1, seriesPairs(k, j.s.Labels, conventions.LabelStatus, j.j.Status)...)
	}
}

func renderTasks(w *writer, sum collectors.TaskSummary) {
	counts := []struct {
		name string
		rows []collectors.TaskCount
	}{
		{conventions.Tasks, sum.ByStatus},
		{conventions.TasksOverdue, sum.Overdue},
		{conventions.TasksDoneLate, sum.DoneLate},
	}
	for _, c := range counts {
		w.family(c.name, conventions.Help[c.name])
		for _, r := range c.rows {
			w.sample(c.name, float64(r.Count), conventions.LabelOwner, r.Owner, conventions.LabelBlock, r.Block, conventions.LabelTaskStatus, r.Status)
		}
	}
	w.family(conventions.TaskOverdueDays, conventions.Help[conventions.TaskOverdueDays])
	for _, t := range sum.Tasks {
		w.sample(conventions.TaskOverdueDays, float64(t.Days), conventions.LabelTask, t.Task, conventions.LabelOwner, t.Owner, conventions.LabelBlock, t.Block)
	}
}
