package exporter

import (
	"bytes"
	"compress/gzip"
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

// writer appends exposition lines; it writes text directly rather than
// building metric objects, because at a million series that is the
// difference between a second and a tenth of one.
type writer struct {
	buf []byte
	// The last value written and its text: a KPI's report period is the
	// same for all its units, so it is formatted once rather than per unit.
	lastBits uint64
	lastText []byte
}

func (w *writer) family(name, help string) {
	w.buf = append(w.buf, "# HELP "...)
	w.buf = append(w.buf, name...)
	w.buf = append(w.buf, ' ')
	w.buf = append(w.buf, help...)
	w.buf = append(w.buf, "\n# TYPE "...)
	w.buf = append(w.buf, name...)
	w.buf = append(w.buf, " gauge\n"...)
}

// sample writes name{k1="v1",...} value. pairs alternates label names and
// values; empty values are left out.
func (w *writer) sample(name string, v float64, pairs ...string) {
	w.buf = append(w.buf, name...)
	open := false
	for i := 0; i+1 < len(pairs); i += 2 {
		open = w.label(open, pairs[i], pairs[i+1])
	}
	w.end(open, v)
}

// seriesSample writes a sample of an observed series: labels kpi, then its
// dimensions, then the extra pairs, as sample does but without gathering
// the pairs first.
func (w *writer) seriesSample(name string, v float64, k *catalogue.KPI, labels []string, extra ...string) {
	w.buf = append(w.buf, name...)
	open := w.label(false, conventions.LabelKPI, k.ID)
	for i, d := range k.Dimensions {
		open = w.label(open, d, labels[i])
	}
	for i := 0; i+1 < len(extra); i += 2 {
		open = w.label(open, extra[i], extra[i+1])
	}
	w.end(open, v)
}

// label writes one label pair unless value is empty; open says whether the
// braces are open already, and the result whether they are now.
func (w *writer) label(open bool, name, value string) bool {
	if value == "" {
		return open
	}
	if open {
		w.buf = append(w.buf, ',')
	} else {
		w.buf = append(w.buf, '{')
	}
	w.buf = append(w.buf, name...)
	w.buf = append(w.buf, '=', '"')
	w.buf = appendEscaped(w.buf, value)
	w.buf = append(w.buf, '"')
	return true
}

func (w *writer) end(open bool, v float64) {
	if open {
		w.buf = append(w.buf, '}')
	}
	w.buf = append(w.buf, ' ')
	if bits := math.Float64bits(v); bits != w.lastBits || w.lastText == nil {
		w.lastBits, w.lastText = bits, appendFloat(w.lastText[:0], v)
	}
	w.buf = append(w.buf, w.lastText...)
	w.buf = append(w.buf, '\n')
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

func appendEscaped(b []byte, s string) []byte {
	i := 0
	for i < len(s) && s[i] != '\\' && s[i] != '"' && s[i] != '\n' {
		i++
	}
	b = append(b, s[:i]...)
	for ; i < len(s); i++ {
		switch c := s[i]; c {
		case '\\':
			b = append(b, `\\`...)
		case '"':
			b = append(b, `\"`...)
		case '\n':
			b = append(b, `\n`...)
		default:
			b = append(b, c)
		}
	}
	return b
}

// kpiPlans holds, per KPI, its KPI-wide plan and the plans of units that have
// targets of their own.
type kpiPlans struct {
	wide  kpi.Plan
	units map[string]kpi.Plan // by kpi.UnitKey
}

func plansFor(k *catalogue.KPI, now time.Time) kpiPlans {
	p := kpiPlans{wide: kpi.PlanFor(k, "", now), units: map[string]kpi.Plan{}}
	for _, u := range kpi.UnitKeys(k) {
		p.units[u] = kpi.PlanFor(k, u, now)
	}
	return p
}

// planOf finds the plan governing a series: its unit's own, or the KPI's.
func (p kpiPlans) planOf(k *catalogue.KPI, labels []string) kpi.Plan {
	if len(p.units) == 0 {
		return p.wide
	}
	if plan, ok := p.units[kpi.SeriesUnitKey(k, labels)]; ok {
		return plan
	}
	return p.wide
}

// shardSeries is how many series one segment of a family holds: a few
// megabytes, enough segments at a million series to keep every core busy
// rendering and compressing.
const shardSeries = 1 << 14

// render writes the KPI exposition of v in segments, each rendered and
// gzipped in parallel: the per-KPI metrics, then each per-series family
// shard by shard.
func render(v view) *rendered {
	cat := v.cat
	plans := make([]kpiPlans, len(cat.KPIs))
	for i := range cat.KPIs {
		plans[i] = plansFor(&cat.KPIs[i], v.now)
	}
	var shards [][]Series
	for _, src := range v.series {
		for len(src) > 0 {
			n := min(len(src), shardSeries)
			shards = append(shards, src[:n])
			src = src[n:]
		}
	}
	jobs := []func(w *writer){func(w *writer) {
		renderMetadata(w, cat)
		renderTargets(w, cat, plans, v.now)
	}}
	family := func(name string) {
		jobs = append(jobs, func(w *writer) { w.family(name, conventions.Help[name]) })
	}
	for _, f := range seriesFigures {
		family(f.name)
		for _, shard := range shards {
			jobs = append(jobs, func(w *writer) { renderFigure(w, cat, f, shard) })
		}
	}
	// Judge every series once, on every core; each family below writes
	// its part of the same verdicts.
	verdicts := make([][]verdict, len(shards))
	forEach(len(shards), func() func(i int) {
		return func(i int) {
			shard, vs := shards[i], make([]verdict, len(shards[i]))
			for j := range shard {
				s := &shard[j]
				k := &cat.KPIs[s.KPI]
				vs[j] = judgeSeries(k, plans[s.KPI].planOf(k, s.Labels), s, v.now)
			}
			verdicts[i] = vs
		}
	})
	for _, f := range verdictFigures {
		family(f.name)
		for i, shard := range shards {
			jobs = append(jobs, func(w *writer) { renderVerdicts(w, cat, f, shard, verdicts[i]) })
		}
		if f.name == conventions.KPIStatus {
			// Units that never reported are judged no_data in the same family.
			jobs = append(jobs, func(w *writer) { renderNoData(w, v, plans) })
		}
	}
	jobs = append(jobs, func(w *writer) { renderTasks(w, collectors.SummariseTasks(v.tasks, v.now)) })
	jobs = append(jobs, func(w *writer) { renderCompleteness(w, v) })
	return renderSegments(jobs)
}

// renderSegments runs the jobs on every core, each into a segment of its
// own, plain and as a gzip member; concatenated in order they are the
// exposition and one valid gzip stream (RFC 1952).
func renderSegments(jobs []func(w *writer)) *rendered {
	r := &rendered{plain: make([][]byte, len(jobs)), gzipped: make([][]byte, len(jobs))}
	forEach(len(jobs), func() func(i int) {
		w := &writer{}
		var gz bytes.Buffer
		var zw *gzip.Writer
		return func(i int) {
			w.buf = w.buf[:0]
			jobs[i](w)
			// Each segment is copied out at its exact size: the scratch
			// buffers grow once, the exposition holds no slack.
			r.plain[i] = bytes.Clone(w.buf)
			gz.Reset()
			zw = compress(&gz, zw, w.buf)
			r.gzipped[i] = bytes.Clone(gz.Bytes())
		}
	})
	for i := range jobs {
		r.plainSize += len(r.plain[i])
		r.gzippedSize += len(r.gzipped[i])
	}
	return r
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

// seriesFigure is a per-series metric taken from the latest point.
type seriesFigure struct {
	name   string
	ratios bool // served for ratio KPIs only
	value  func(p Point) float64
}

var seriesFigures = []seriesFigure{
	{conventions.KPIValue, false, func(p Point) float64 { return p.Value }},
	{conventions.KPINumerator, true, func(p Point) float64 { return p.Num }},
	{conventions.KPIDenominator, true, func(p Point) float64 { return p.Den }},
	{conventions.KPIReportPeriod, false, func(p Point) float64 { return float64(p.Period.Unix()) }},
}

func renderFigure(w *writer, cat *catalogue.Catalogue, f seriesFigure, shard []Series) {
	for i := range shard {
		s := &shard[i]
		k := &cat.KPIs[s.KPI]
		if f.ratios && k.Kind != catalogue.KindRatio {
			continue
		}
		w.seriesSample(f.name, f.value(s.Latest()), k, s.Labels)
	}
}

// verdictFigure is a per-series family written from the series' verdict.
type verdictFigure struct {
	name  string
	write func(w *writer, k *catalogue.KPI, labels []string, v verdict)
}

var verdictFigures = []verdictFigure{
	{conventions.KPIStatus, func(w *writer, k *catalogue.KPI, labels []string, v verdict) {
		w.seriesSample(conventions.KPIStatus, 1, k, labels, conventions.LabelStatus, v.statusName(), conventions.LabelReason, v.reasonName())
	}},
	{conventions.KPIForecast, func(w *writer, k *catalogue.KPI, labels []string, v verdict) {
		if !math.IsNaN(v.forecast) {
			w.seriesSample(conventions.KPIForecast, v.forecast, k, labels)
		}
	}},
	{conventions.KPIPlanGap, func(w *writer, k *catalogue.KPI, labels []string, v verdict) {
		if v.gap > 0 {
			w.seriesSample(conventions.KPIPlanGap, v.gap, k, labels)
		}
	}},
	{conventions.KPIDataSuspect, func(w *writer, k *catalogue.KPI, labels []string, v verdict) {
		for i, check := range checks {
			if v.suspect&(1<<i) != 0 {
				w.seriesSample(conventions.KPIDataSuspect, 1, k, labels, conventions.LabelCheck, check)
			}
		}
	}},
}

func renderVerdicts(w *writer, cat *catalogue.Catalogue, f verdictFigure, shard []Series, vs []verdict) {
	for i := range shard {
		f.write(w, &cat.KPIs[shard[i].KPI], shard[i].Labels, vs[i])
	}
}

// renderNoData writes a no_data status for each expected unit that has
// never reported.
func renderNoData(w *writer, v view, plans []kpiPlans) {
	for i, missing := range unreported(v) {
		k := &v.cat.KPIs[i]
		for _, labels := range missing {
			j := kpi.Judge(k, plans[i].planOf(k, labels), nil, v.now)
			w.seriesSample(conventions.KPIStatus, 1, k, labels, conventions.LabelStatus, j.Status)
		}
	}
}

// unreported lists, per KPI, the labels of each expected unit that has never
// reported: every province for a KPI broken down by province alone, the KPI
// itself for a national one.
func unreported(v view) [][][]string {
	expected := make([][][]string, len(v.cat.KPIs))
	for i := range v.cat.KPIs {
		k := &v.cat.KPIs[i]
		switch {
		case len(k.Dimensions) == 0:
			expected[i] = [][]string{{}}
		case len(k.Dimensions) == 1 && k.Dimensions[0] == catalogue.DimProvince:
			for _, p := range units.All() {
				expected[i] = append(expected[i], []string{p.Name})
			}
		}
	}
	reported := make([]map[string]bool, len(v.cat.KPIs))
	for _, src := range v.series {
		for i := range src {
			s := &src[i]
			if expected[s.KPI] == nil {
				continue
			}
			if reported[s.KPI] == nil {
				reported[s.KPI] = map[string]bool{}
			}
			reported[s.KPI][strings.Join(s.Labels, "\xff")] = true
		}
	}
	missing := make([][][]string, len(v.cat.KPIs))
	for i := range v.cat.KPIs {
		for _, labels := range expected[i] {
			if !reported[i][strings.Join(labels, "\xff")] {
				missing[i] = append(missing[i], labels)
			}
		}
	}
	return missing
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
	w.family(conventions.TaskDue, conventions.Help[conventions.TaskDue])
	for _, t := range sum.Tasks {
		w.sample(conventions.TaskDue, float64(t.Due.Unix()), conventions.LabelTask, t.Task, conventions.LabelOwner, t.Owner, conventions.LabelBlock, t.Block)
	}
}
