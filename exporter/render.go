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
	"github.com/kpiwatch/kpiwatch/internal/parallel"
	"github.com/kpiwatch/kpiwatch/kpi"
	"github.com/kpiwatch/kpiwatch/model"
)

// view is what one rendering reads: the catalogue and every source's last
// good data.
type view struct {
	cat    *catalogue.Catalogue
	series [][]model.Series // as Combine groups the sources' reads
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

// AppendLabelPairs appends alternating label names and values as the
// inside of a text-format label set (a="1",b="2"), empty values left out,
// as the exporter writes them: backfill writes the same label sets.
func AppendLabelPairs(b []byte, pairs []string) []byte {
	first := true
	for i := 0; i+1 < len(pairs); i += 2 {
		if pairs[i+1] == "" {
			continue
		}
		if !first {
			b = append(b, ',')
		}
		first = false
		b = appendEscaped(append(append(b, pairs[i]...), `="`...), pairs[i+1])
		b = append(b, '"')
	}
	return b
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

// shardSeries is how many series one segment of a family holds: a few
// megabytes, enough segments at a million series to keep every core busy
// rendering and compressing.
const shardSeries = 1 << 14

// run is a run of one KPI's judged series; a shard is a few runs, up to
// shardSeries series in all.
type run struct {
	k      *catalogue.KPI
	series []model.Judged
}

// render judges v once (model.Build) and writes the two expositions of the
// model, each in segments rendered and gzipped in parallel: the main one
// (metadata, plans, roll-ups, tasks, completeness) and the units' (every
// observed series, family by family, shard by shard).
func render(v view) (main, unitsPage *rendered, m *model.Model) {
	m = model.Build(v.cat, v.series, v.now)
	jobs := []func(w *writer){func(w *writer) {
		KPISamples(m, func(name string) { w.family(name, conventions.Help[name]) }, w.sample)
	}}
	rollups := rollupsOf(m)
	for _, f := range model.RollupFigures {
		jobs = append(jobs, func(w *writer) { renderRollups(w, m.Now, f, rollups) })
	}
	jobs = append(jobs, func(w *writer) { renderTasks(w, collectors.SummariseTasks(v.tasks, v.now)) },
		func(w *writer) { renderCompleteness(w, m) })
	main = renderSegments(jobs)
	var shards [][]run
	free := 0 // room left in the last shard
	for i := range m.KPIs {
		for src := m.KPIs[i].Series; len(src) > 0; {
			if free == 0 {
				shards, free = append(shards, nil), shardSeries
			}
			n := min(len(src), free)
			shards[len(shards)-1] = append(shards[len(shards)-1], run{m.KPIs[i].KPI, src[:n]})
			src, free = src[n:], free-n
		}
	}
	jobs = nil
	for _, f := range model.UnitFigures {
		jobs = append(jobs, func(w *writer) { w.family(f.Name, conventions.Help[f.Name]) })
		for _, sh := range shards {
			jobs = append(jobs, func(w *writer) {
				var k *catalogue.KPI
				var s *model.Judged
				emit := func(v float64, extra ...string) { w.seriesSample(f.Name, v, k, s.Labels, extra...) }
				for _, r := range sh {
					k = r.k
					for i := range r.series {
						s = &r.series[i]
						f.Write(k, s, emit)
					}
				}
			})
		}
	}
	return main, renderSegments(jobs), m
}

// renderSegments runs the jobs on every core, each into a segment of its
// own, plain and as a gzip member; concatenated in order they are the
// exposition and one valid gzip stream (RFC 1952).
func renderSegments(jobs []func(w *writer)) *rendered {
	r := &rendered{plain: make([][]byte, len(jobs)), gzipped: make([][]byte, len(jobs))}
	parallel.ForEach(len(jobs), func() func(i int) {
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

// KPISamples hands over the per-KPI families of m, the metadata and the
// plans, family by family: family names each before its samples, sample
// gives each sample (label pairs alternate names and values, empty values
// left out). The exporter writes them on /metrics; backfill takes them at
// each day.
func KPISamples(m *model.Model, family func(name string), sample func(name string, v float64, pairs ...string)) {
	cat := m.Catalogue
	family(conventions.KPIInfo)
	for i := range cat.KPIs {
		k := &cat.KPIs[i]
		sample(conventions.KPIInfo, 1,
			conventions.LabelKPI, k.ID, conventions.LabelName, k.Name, conventions.LabelNameVI, k.NameVI,
			conventions.LabelUnit, k.Unit, conventions.LabelKind, string(k.Kind), conventions.LabelDirection, string(k.Direction),
			conventions.LabelOwner, k.Owner, conventions.LabelBlock, k.Block, conventions.LabelCadence, string(k.Cadence.Period),
			conventions.LabelSource, k.MainSource())
	}
	family(conventions.OwnerInfo)
	for _, o := range cat.Owners {
		sample(conventions.OwnerInfo, 1, conventions.LabelOwner, o.ID, conventions.LabelName, o.Name, conventions.LabelNameVI, o.NameVI, conventions.LabelBlock, o.Block)
	}
	family(conventions.ProvinceInfo)
	if l := cat.UnitLevel(catalogue.DimProvince); l != nil {
		for _, p := range l.Current() {
			sample(conventions.ProvinceInfo, 1, conventions.LabelProvince, p.Name, conventions.LabelCode, p.Code, conventions.LabelNameVI, p.NameVI)
		}
	}
	family(conventions.UnitInfo)
	for _, l := range cat.UnitSet().Levels {
		for _, u := range l.Current() {
			sample(conventions.UnitInfo, 1, conventions.LabelLevel, l.Name, conventions.LabelUnit, u.Name, conventions.LabelNameVI, u.NameVI, conventions.LabelParent, u.Parent)
		}
	}
	planSamples(m, family, sample)
}

// kpiPlan is the plan kpi_target and its kin serve without unit labels:
// the whole's, or where only each unit has a target (a count of scope each)
// the one each unit follows.
func kpiPlan(k *model.KPI, now time.Time) *kpi.Plan {
	if whole := k.Whole().Plan; whole.HasTarget() {
		return whole
	}
	plan := kpi.EachPlan(k.KPI, now)
	return &plan
}

// planSamples hands over the plan figures of each KPI (kpiPlan), and the
// same per unit for units with targets of their own.
func planSamples(m *model.Model, family func(name string), sample func(name string, v float64, pairs ...string)) {
	now := m.Now
	figs := []struct {
		name  string
		value func(k *catalogue.KPI, p *kpi.Plan) float64
	}{
		{conventions.KPIBaseline, func(_ *catalogue.KPI, p *kpi.Plan) float64 { return p.BaselineValue }},
		{conventions.KPITarget, func(_ *catalogue.KPI, p *kpi.Plan) float64 { m, _ := p.Governing(now); return m.Value }},
		{conventions.KPITargetDeadline, func(_ *catalogue.KPI, p *kpi.Plan) float64 {
			m, _ := p.Governing(now)
			return float64(m.Deadline().Unix())
		}},
		{conventions.KPIPlan, func(_ *catalogue.KPI, p *kpi.Plan) float64 { return p.ValueAt(now) }},
		{conventions.KPITolerance, func(k *catalogue.KPI, _ *kpi.Plan) float64 { return k.Tolerance }},
	}
	for _, f := range figs {
		family(f.name)
		for i := range m.KPIs {
			k := m.KPIs[i].KPI
			if plan := kpiPlan(&m.KPIs[i], m.Now); plan.HasTarget() {
				sample(f.name, f.value(k, plan), conventions.LabelKPI, k.ID)
			}
			for _, u := range kpi.UnitKeys(k) {
				pairs := []string{conventions.LabelKPI, k.ID}
				for _, kv := range strings.Split(u, ",") {
					d, val, _ := strings.Cut(kv, "=")
					pairs = append(pairs, d, val)
				}
				plan := kpi.PlanFor(k, u, now)
				sample(f.name, f.value(k, &plan), pairs...)
			}
		}
	}
}

// rollup is a roll-up with its KPI and labels, as rendered.
type rollup struct {
	k      *catalogue.KPI
	r      *model.Rollup
	labels []string
}

// rollupsOf lists every roll-up of m with its labels, built once a render.
func rollupsOf(m *model.Model) []rollup {
	var all []rollup
	for i := range m.KPIs {
		for j := range m.KPIs[i].Rollups {
			k, r := m.KPIs[i].KPI, &m.KPIs[i].Rollups[j]
			all = append(all, rollup{k, r, model.RollupLabels(k, r)})
		}
	}
	return all
}

// renderRollups writes one roll-up family of every roll-up.
func renderRollups(w *writer, now time.Time, f model.RollupFigure, all []rollup) {
	w.family(f.Name, conventions.Help[f.Name])
	var labels, pairs []string
	emit := func(v float64, extra ...string) {
		pairs = append(append(pairs[:0], labels...), extra...)
		w.sample(f.Name, v, pairs...)
	}
	for _, r := range all {
		labels = r.labels
		f.Write(now, r.k, r.r, emit)
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
	w.family(conventions.TaskDue, conventions.Help[conventions.TaskDue])
	for _, t := range sum.Tasks {
		w.sample(conventions.TaskDue, float64(t.Due.Unix()), conventions.LabelTask, t.Task, conventions.LabelOwner, t.Owner, conventions.LabelBlock, t.Block)
	}
}
