// Package backfill turns the dated history in a catalogue's sources into the
// series the exporter would have served on every day of that history, so
// that Prometheus or VictoriaMetrics show years of history on their first
// day. The output is OpenMetrics for `promtool tsdb create-blocks-from
// openmetrics`, or a timestamped import into VictoriaMetrics.
//
// What "would have served" means: a report on a period is taken to be in
// force from the end of that period (the instant its value stands for, as
// kpi.Judge reads it) until the end of the next reported period, and
// sampled every Step (a day by default, at midnight UTC) up to End. At each
// sample time the one judged model is built on the reports in force then
// (model.Build on model.AsOf: prepared once for each set of reports in
// force, judged at each sample time), and its series, roll-ups and per-KPI
// figures are written as the exporter serves them (model.UnitFigures,
// model.RollupFigures, exporter.KPISamples), so they cannot drift. A step
// of a day, not one sample per report, is what keeps history visible:
// Prometheus looks back only 5 minutes from each query step, so a monthly
// sample would show as one dot a month.
//
// The output depends on the sources, the catalogue and the time range only,
// so a second run writes the same samples at the same timestamps.
package backfill

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/go-kit/log"
	"github.com/go-kit/log/level"

	"github.com/kpiwatch/kpiwatch/catalogue"
	"github.com/kpiwatch/kpiwatch/collectors"
	"github.com/kpiwatch/kpiwatch/conventions"
	"github.com/kpiwatch/kpiwatch/exporter"
	"github.com/kpiwatch/kpiwatch/model"
	"github.com/kpiwatch/kpiwatch/push"
)

// DefaultStep is one sample a day.
const DefaultStep = 24 * time.Hour

// Options bound and shape a backfill.
type Options struct {
	// Start is the first sample time; zero means the end of the earliest
	// reported period. End is the last sample time (required). Both are
	// rounded inwards to whole Steps (time.Truncate: a day starts at
	// midnight UTC, a week on Monday).
	Start, End time.Time
	Step       time.Duration
	// Labels are added to every series: the job and instance labels the
	// Prometheus scrape (or the push's extra labels) gives the live series,
	// so that history and live data are one series.
	Labels []push.Label
	Logger log.Logger
	// Progress, when set, is called after each sample time.
	Progress func(done, total int)
}

// Series is one backfilled time series.
type Series struct {
	Name   string
	Labels string // the label set's inside: a="1",b="2"
	Times  []int64
	Values []float64
}

// Result is a backfill's series, in output order (by metric family, then
// labels), with what was learnt along the way.
type Result struct {
	Series     []Series
	Start, End time.Time
	Step       time.Duration
	Samples    int
	// Rejected are the source rows that could not be used, each with its
	// file, row and column.
	Rejected []error
}

// perKPIFamilies are the exporter's series that do not depend on reports:
// metadata and the plan figures (exporter.KPISamples).
var perKPIFamilies = []string{
	conventions.KPIInfo, conventions.OwnerInfo, conventions.ProvinceInfo, conventions.UnitInfo,
	conventions.KPIBaseline, conventions.KPITarget, conventions.KPITargetDeadline,
	conventions.KPIPlan, conventions.KPITolerance,
}

// Families lists every metric a backfill writes, in output order: the
// per-KPI ones, the roll-ups, then the observed series' (the families of
// the model, model.RollupFigures and model.UnitFigures).
func Families() []string {
	out := slices.Clone(perKPIFamilies)
	for _, f := range model.RollupFigures {
		out = append(out, f.Name)
	}
	for _, f := range model.UnitFigures {
		out = append(out, f.Name)
	}
	return out
}

// Build reads every source of cat (relative paths resolve in dir) and builds
// the backfill. A source that cannot be read fails the backfill: partial
// history would pass for the whole.
func Build(ctx context.Context, cat *catalogue.Catalogue, dir fs.FS, opts Options) (*Result, error) {
	if opts.Step <= 0 {
		opts.Step = DefaultStep
	}
	if opts.Logger == nil {
		opts.Logger = log.NewNopLogger()
	}
	history, rejected, err := read(ctx, cat, dir, opts.Logger)
	if err != nil {
		return nil, err
	}
	start := opts.Start
	if start.IsZero() {
		start = firstInForce(cat, history)
	}
	first, last := ceilStep(start, opts.Step), opts.End.Truncate(opts.Step)
	if start.IsZero() || last.Before(first) {
		return nil, fmt.Errorf("nothing to backfill between %s and %s", fmtTime(start), fmtTime(opts.End))
	}
	b := newBuilder(opts)
	total := int(last.Sub(first)/opts.Step) + 1
	var prepared *model.Prepared
	inForce := -1 // reports in force at the prepared model's instants
	for i := range total {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		t := first.Add(time.Duration(i) * opts.Step)
		// Reports only come into force as time goes on: the same number
		// in force is the same reports, and the model prepared on them
		// only needs judging at t.
		cut := model.AsOf(cat, history, t)
		if n := points(cut); n != inForce {
			prepared, inForce = model.Prepare(cat, cut), n
			b.forget()
		}
		b.judged(prepared.At(t))
		if opts.Progress != nil {
			opts.Progress(i+1, total)
		}
	}
	r := b.result()
	r.Start, r.End, r.Step, r.Rejected = first, last, opts.Step, rejected
	return r, nil
}

// read collects every source once and groups its observations into series
// with their whole history, former provinces rolled up and a KPI's several
// sources combined, as the exporter does.
func read(ctx context.Context, cat *catalogue.Catalogue, dir fs.FS, logger log.Logger) ([][]model.Series, []error, error) {
	var reads []exporter.Sourced
	var rejected []error
	for _, src := range cat.Sources {
		c, errs := collectors.New(collectors.Env{Source: src, Dir: dir, Root: cat.Dir, Logger: log.With(logger, "source", src.ID)})
		if len(errs) > 0 {
			return nil, nil, fmt.Errorf("source %s: %w", src.ID, catalogue.Errors(errs))
		}
		sctx, cancel := context.WithTimeout(ctx, src.Timeout.Std())
		batch, err := collectors.Collect(sctx, c, collectors.NewMapper(cat, src.ID))
		cancel()
		if err != nil {
			return nil, nil, fmt.Errorf("source %s: %w", src.ID, err)
		}
		series, bad := exporter.Aggregate(cat, batch.Observations)
		reads = append(reads, exporter.Sourced{ID: src.ID, Series: series, Places: exporter.PlacesOf(cat, batch.Observations)})
		rejected = append(rejected, batch.Rejected...)
		rejected = append(rejected, bad...)
	}
	for i, err := range rejected {
		if i == 10 {
			level.Warn(logger).Log("msg", "more rows rejected", "count", len(rejected)-i)
			break
		}
		level.Warn(logger).Log("msg", "row rejected", "err", err)
	}
	all, overlaps := exporter.Combine(cat, reads)
	for _, o := range overlaps {
		level.Warn(logger).Log("msg", "a period given by two sources of a KPI: the later source's figure is written", "overlap", o)
	}
	return all, rejected, nil
}

// points counts the reports in series.
func points(series [][]model.Series) int {
	n := 0
	for _, src := range series {
		for _, s := range src {
			n += len(s.History)
		}
	}
	return n
}

func firstInForce(cat *catalogue.Catalogue, history [][]model.Series) time.Time {
	var first time.Time
	for _, src := range history {
		for _, s := range src {
			if t := model.InForce(&cat.KPIs[s.KPI], s.History[0].Period); first.IsZero() || t.Before(first) {
				first = t
			}
		}
	}
	return first
}

func ceilStep(t time.Time, step time.Duration) time.Time {
	if f := t.Truncate(step); f.Before(t) {
		return f.Add(step)
	}
	return t
}

func fmtTime(t time.Time) string {
	if t.IsZero() {
		return "the first report"
	}
	return t.UTC().Format(time.RFC3339)
}

// builder accumulates samples by series.
type builder struct {
	extra  string         // the extra labels, formatted, after a comma
	index  map[string]int // by name{labels}
	series []Series
	// cells find the series of a roll-up's or an observed series' sample
	// without formatting its labels: by KPI, then by position in the model
	// and family, then by the labels the family adds. Positions hold for
	// the models of one model.Prepared: forget clears them for another.
	cells [][][]slot
	key   []byte   // scratch for name{labels}
	pairs []string // scratch for a sample's label pairs
}

// slot is the series of one family's samples with the label pairs extra.
type slot struct {
	extra [4]string // status and reason at most
	i     int       // in builder.series
}

func newBuilder(opts Options) *builder {
	extra := push.FormatLabels(opts.Labels)
	if extra != "" {
		extra = "," + extra
	}
	return &builder{extra: extra, index: map[string]int{}}
}

// forget clears the cells: the next model is judged on other reports.
func (b *builder) forget() { b.cells = nil }

// find is the index of the series name with the label pairs given (empty
// values left out, as the exporter writes them) and the extra labels,
// added if new.
func (b *builder) find(name string, pairs []string) int {
	b.key = append(append(b.key[:0], name...), '{')
	b.key = exporter.AppendLabelPairs(b.key, pairs)
	b.key = append(append(b.key, b.extra...), '}')
	i, ok := b.index[string(b.key)]
	if !ok {
		i = len(b.series)
		key := string(b.key)
		b.index[key] = i
		b.series = append(b.series, Series{Name: name, Labels: key[len(name)+1 : len(key)-1]})
	}
	return i
}

func (b *builder) add(i int, t time.Time, v float64) {
	s := &b.series[i]
	s.Times = append(s.Times, t.UnixMilli())
	s.Values = append(s.Values, v)
}

// judged adds the model's samples at its instant: the per-KPI families
// (metadata and plans, as the exporter serves them), every roll-up, and
// each observed series with a report in force then (a unit that has not
// reported yet has no history to write).
func (b *builder) judged(m *model.Model) {
	t := m.Now
	exporter.KPISamples(m, func(string) {}, func(name string, v float64, pairs ...string) {
		b.add(b.find(name, pairs), t, v)
	})
	if b.cells == nil {
		b.cells = make([][][]slot, len(m.KPIs))
		for i := range m.KPIs {
			b.cells[i] = make([][]slot, len(m.KPIs[i].Rollups)*len(model.RollupFigures)+len(m.KPIs[i].Series)*len(model.UnitFigures))
		}
	}
	e := &emitter{b: b, t: t}
	emit := e.emit
	for i := range m.KPIs {
		k := &m.KPIs[i]
		e.kpi, e.cells, e.cell = k, b.cells[i], 0
		for j := range k.Rollups {
			e.rollup, e.series = j, -1
			for _, f := range model.RollupFigures {
				e.name = f.Name
				f.Write(t, k.KPI, &k.Rollups[j], emit)
				e.cell++
			}
		}
		for j := range k.Series {
			s := &k.Series[j]
			e.rollup, e.series = -1, j
			for _, f := range model.UnitFigures {
				// A unit that has not reported yet has no history to write.
				if len(s.History) > 0 {
					e.name = f.Name
					f.Write(k.KPI, s, emit)
				}
				e.cell++
			}
		}
	}
}

// emitter adds the samples of one family of a roll-up or an observed
// series at t.
type emitter struct {
	b              *builder
	t              time.Time
	kpi            *model.KPI
	rollup, series int // the sample's, -1 for the other
	name           string
	cells          [][]slot // the builder's cells of the KPI
	cell           int
}

func (e *emitter) emit(v float64, extra ...string) {
	var key [4]string
	if len(extra) > len(key) {
		e.b.add(e.b.find(e.name, e.labels(extra)), e.t, v)
		return
	}
	copy(key[:], extra)
	cell := &e.cells[e.cell]
	for _, s := range *cell {
		if s.extra == key {
			e.b.add(s.i, e.t, v)
			return
		}
	}
	i := e.b.find(e.name, e.labels(extra))
	*cell = append(*cell, slot{extra: key, i: i})
	e.b.add(i, e.t, v)
}

// labels are the sample's label pairs: the roll-up's (model.RollupLabels)
// or the observed series' (kpi, then its dimensions in the catalogue's
// order), then those its family adds.
func (e *emitter) labels(extra []string) []string {
	k, pairs := e.kpi.KPI, e.b.pairs[:0]
	if e.rollup >= 0 {
		pairs = append(pairs, model.RollupLabels(k, &e.kpi.Rollups[e.rollup])...)
	} else {
		pairs = append(pairs, conventions.LabelKPI, k.ID)
		for d, v := range e.kpi.Series[e.series].Labels {
			pairs = append(pairs, k.Dimensions[d], v)
		}
	}
	e.b.pairs = append(pairs, extra...)
	return e.b.pairs
}

// result orders the series by family (in Families order), then labels.
func (b *builder) result() *Result {
	order := map[string]int{}
	for i, f := range Families() {
		order[f] = i
	}
	slices.SortFunc(b.series, func(x, y Series) int {
		if c := order[x.Name] - order[y.Name]; c != 0 {
			return c
		}
		return strings.Compare(x.Labels, y.Labels)
	})
	r := &Result{Series: b.series}
	for _, s := range b.series {
		r.Samples += len(s.Times)
	}
	return r
}

// errNoSeries guards the writers against an empty result.
var errNoSeries = errors.New("backfill: no series")

func formatValue(v float64) string {
	switch {
	case math.IsNaN(v):
		return "NaN"
	case math.IsInf(v, 1):
		return "+Inf"
	case math.IsInf(v, -1):
		return "-Inf"
	}
	return strconv.FormatFloat(v, 'g', -1, 64)
}
