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
// (model.Build on model.AsOf), and its series, roll-ups and per-KPI figures
// are written as the exporter serves them (model.UnitFigures,
// model.RollupFigures, exporter.KPISamples), so they cannot drift. A step of a day, not one sample per report, is what keeps
// history visible: Prometheus looks back only 5 minutes from each query
// step, so a monthly sample would show as one dot a month.
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
	b := newBuilder(cat, opts)
	total := int(last.Sub(first)/opts.Step) + 1
	for i := range total {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		t := first.Add(time.Duration(i) * opts.Step)
		b.judged(model.Build(cat, model.AsOf(cat, [][]model.Series{history}, t), t))
		if opts.Progress != nil {
			opts.Progress(i+1, total)
		}
	}
	r := b.result()
	r.Start, r.End, r.Step, r.Rejected = first, last, opts.Step, rejected
	return r, nil
}

// read collects every source once and groups its observations into series
// with their whole history, former provinces rolled up, as the exporter does.
func read(ctx context.Context, cat *catalogue.Catalogue, dir fs.FS, logger log.Logger) ([]model.Series, []error, error) {
	var all []model.Series
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
		all = append(all, series...)
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
	return all, rejected, nil
}

func firstInForce(cat *catalogue.Catalogue, history []model.Series) time.Time {
	var first time.Time
	for _, s := range history {
		if t := model.InForce(&cat.KPIs[s.KPI], s.History[0].Period); first.IsZero() || t.Before(first) {
			first = t
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
	cat    *catalogue.Catalogue
	extra  string
	index  map[string]int // by name and labels
	series []Series
}

func newBuilder(cat *catalogue.Catalogue, opts Options) *builder {
	extra := push.FormatLabels(opts.Labels)
	if extra != "" {
		extra = "," + extra
	}
	return &builder{cat: cat, extra: extra, index: map[string]int{}}
}

func (b *builder) add(name, labels string, t time.Time, v float64) {
	key := name + "{" + labels + "}"
	i, ok := b.index[key]
	if !ok {
		i = len(b.series)
		b.index[key] = i
		b.series = append(b.series, Series{Name: name, Labels: labels})
	}
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
		b.add(name, formatPairs(pairs)+b.extra, t, v)
	})
	for i := range m.KPIs {
		k := m.KPIs[i].KPI
		for _, f := range model.RollupFigures {
			for j := range m.KPIs[i].Rollups {
				r := &m.KPIs[i].Rollups[j]
				labels := model.RollupLabels(k, r)
				f.Write(t, k, r, func(v float64, extra ...string) { b.add(f.Name, formatPairs(append(labels, extra...))+b.extra, t, v) })
			}
		}
		for j := range m.KPIs[i].Series {
			s := &m.KPIs[i].Series[j]
			if len(s.History) == 0 {
				continue
			}
			labels := seriesLabels(k, s.Labels)
			for _, f := range model.UnitFigures {
				f.Write(k, s, func(v float64, extra ...string) {
					if x := formatPairs(extra); x != "" {
						b.add(f.Name, labels+","+x+b.extra, t, v)
						return
					}
					b.add(f.Name, labels+b.extra, t, v)
				})
			}
		}
	}
}

// formatPairs formats alternating label names and values, empty values left
// out, as the exporter writes them.
func formatPairs(pairs []string) string {
	var labels []push.Label
	for i := 0; i+1 < len(pairs); i += 2 {
		if pairs[i+1] != "" {
			labels = append(labels, push.Label{Name: pairs[i], Value: pairs[i+1]})
		}
	}
	return push.FormatLabels(labels)
}

// seriesLabels is a series' label set as the exporter serves it: kpi, then
// its dimensions in the catalogue's order, empty ones left out.
func seriesLabels(k *catalogue.KPI, values []string) string {
	labels := []push.Label{{Name: conventions.LabelKPI, Value: k.ID}}
	for i, d := range k.Dimensions {
		if values[i] != "" {
			labels = append(labels, push.Label{Name: d, Value: values[i]})
		}
	}
	return push.FormatLabels(labels)
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
