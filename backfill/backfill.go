// Package backfill turns the dated history in a catalogue's sources into the
// series the exporter would have served on every day of that history, so
// that Prometheus or VictoriaMetrics show years of history on their first
// day. The output is OpenMetrics for `promtool tsdb create-blocks-from
// openmetrics`, or a timestamped import into VictoriaMetrics.
//
// What "would have served" means: a report on a period is taken to be in
// force from the end of that period (the instant its value stands for, as
// kpi.Judge reads it) until the end of the next reported period, and
// sampled every Step (a day by default, at midnight UTC) up to End; each
// sample's status is judged at its own time with the plan in force then.
// The per-KPI figures (kpi_target, kpi_plan, ..., kpi_info) come from the
// exporter's own rendering at each sample time, so they cannot drift from
// what it serves. A step of a day, not one sample per report, is what keeps
// history visible: Prometheus looks back only 5 minutes from each query
// step, so a monthly sample would show as one dot a month.
//
// The output depends on the sources, the catalogue and the time range only,
// so a second run writes the same samples at the same timestamps.
package backfill

import (
	"bufio"
	"bytes"
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
	"github.com/kpiwatch/kpiwatch/kpi"
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
// metadata and the plan figures, taken from its rendering at each time.
var perKPIFamilies = []string{
	conventions.KPIInfo, conventions.OwnerInfo, conventions.ProvinceInfo,
	conventions.KPIBaseline, conventions.KPITarget, conventions.KPITargetDeadline,
	conventions.KPIPlan, conventions.KPITolerance,
}

// seriesFamilies are the per-series metrics built from the history here.
var seriesFamilies = []string{
	conventions.KPIValue, conventions.KPINumerator, conventions.KPIDenominator,
	conventions.KPIReportPeriod, conventions.KPIStatus,
}

// Families lists every metric a backfill writes, in output order.
func Families() []string { return slices.Concat(perKPIFamilies, seriesFamilies) }

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
	cursors := make([]int, len(history))
	for i := range total {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		t := first.Add(time.Duration(i) * opts.Step)
		if err := b.perKPI(t); err != nil {
			return nil, err
		}
		for si := range history {
			b.observed(&history[si], &cursors[si], t)
		}
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
func read(ctx context.Context, cat *catalogue.Catalogue, dir fs.FS, logger log.Logger) ([]exporter.Series, []error, error) {
	var all []exporter.Series
	var rejected []error
	for _, src := range cat.Sources {
		c, errs := collectors.New(collectors.Env{Source: src, Dir: dir, Root: cat.Dir, Logger: log.With(logger, "source", src.ID)})
		if len(errs) > 0 {
			return nil, nil, fmt.Errorf("source %s: %w", src.ID, catalogue.Errors(errs))
		}
		sctx, cancel := context.WithTimeout(ctx, src.Timeout.Std())
		batch, err := c.Collect(sctx, collectors.NewMapper(cat, src.ID))
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

// inForce is when a report on the period starting at p takes effect.
func inForce(k *catalogue.KPI, p time.Time) time.Time { return kpi.PeriodEnd(k.Cadence.Period, p) }

func firstInForce(cat *catalogue.Catalogue, history []exporter.Series) time.Time {
	var first time.Time
	for _, s := range history {
		if t := inForce(&cat.KPIs[s.KPI], s.History[0].Period); first.IsZero() || t.Before(first) {
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
	bare   *catalogue.Catalogue // cat without sources, for the exporter's rendering
	extra  string
	index  map[string]int // by name and labels
	series []Series
	page   bytes.Buffer
}

func newBuilder(cat *catalogue.Catalogue, opts Options) *builder {
	bare := *cat
	bare.Sources = nil
	extra := push.FormatLabels(opts.Labels)
	if extra != "" {
		extra = "," + extra
	}
	return &builder{cat: cat, bare: &bare, extra: extra, index: map[string]int{}}
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

// perKPI adds the per-KPI figures as the exporter renders them at t.
func (b *builder) perKPI(t time.Time) error {
	exp, err := exporter.New(b.bare, nil, exporter.Options{Now: func() time.Time { return t }})
	if err != nil {
		return err
	}
	b.page.Reset()
	if err := exp.WriteKPIMetrics(&b.page); err != nil {
		return err
	}
	sc := bufio.NewScanner(&b.page)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || line[0] == '#' {
			continue
		}
		name, labels, v, err := parseSample(line)
		if err != nil {
			return fmt.Errorf("reading the exporter's exposition: %w", err)
		}
		if slices.Contains(perKPIFamilies, name) {
			b.add(name, labels+b.extra, t, v)
		}
	}
	return sc.Err()
}

// parseSample splits a text-format sample line without a timestamp, as the
// exporter writes them: name{labels} value.
func parseSample(line string) (name, labels string, v float64, err error) {
	sp := strings.LastIndexByte(line, ' ')
	if sp < 0 {
		return "", "", 0, fmt.Errorf("no value in %q", line)
	}
	if v, err = strconv.ParseFloat(line[sp+1:], 64); err != nil {
		return "", "", 0, fmt.Errorf("value in %q: %w", line, err)
	}
	name = line[:sp]
	if open := strings.IndexByte(name, '{'); open >= 0 {
		if !strings.HasSuffix(name, "}") {
			return "", "", 0, fmt.Errorf("unterminated labels in %q", line)
		}
		name, labels = name[:open], name[open+1:len(name)-1]
	}
	return name, labels, v, nil
}

// observed adds one series' samples at t: the report in force then (cursor
// tracks it as t advances), judged at t with the plan in force at t.
func (b *builder) observed(s *exporter.Series, cursor *int, t time.Time) {
	k := &b.cat.KPIs[s.KPI]
	for *cursor < len(s.History) && !inForce(k, s.History[*cursor].Period).After(t) {
		*cursor++
	}
	if *cursor == 0 {
		return // nothing reported yet at t
	}
	upTo := exporter.Series{KPI: s.KPI, Labels: s.Labels, History: s.History[:*cursor]}
	p := upTo.Latest()
	obs := kpi.Observation{Period: p.Period, Value: p.Value}
	if e, ok := upTo.Earlier(k.Cadence.Period); ok {
		obs.EarlierPeriod, obs.EarlierValue = e.Period, e.Value
	}
	j := kpi.Judge(k, kpi.PlanFor(k, kpi.SeriesUnitKey(k, s.Labels), t), &obs, t)

	labels := seriesLabels(k, s.Labels) + b.extra
	b.add(conventions.KPIValue, labels, t, p.Value)
	if k.Kind == catalogue.KindRatio {
		b.add(conventions.KPINumerator, labels, t, p.Num)
		b.add(conventions.KPIDenominator, labels, t, p.Den)
	}
	b.add(conventions.KPIReportPeriod, labels, t, float64(p.Period.Unix()))
	b.add(conventions.KPIStatus, labels+`,`+push.FormatLabels([]push.Label{{Name: conventions.LabelStatus, Value: j.Status}}), t, 1)
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
