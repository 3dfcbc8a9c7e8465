// Package exporter keeps the latest good observations of every source, judges
// each series against its plan, and serves the result as Prometheus metrics.
// Sources refresh in the background on their own intervals; the exposition is
// rendered once per refresh (and as the day turns, since status depends on the
// date) and served as ready bytes, so a scrape never waits on a source and
// costs no more than sending a file.
package exporter

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-kit/log"
	"github.com/go-kit/log/level"

	"github.com/kpiwatch/kpiwatch/catalogue"
	"github.com/kpiwatch/kpiwatch/collectors"
)

// Options tune an Exporter.
type Options struct {
	Logger log.Logger
	// Now is the clock; tests fix it.
	Now func() time.Time
	// RenderEvery re-renders between refreshes, so that statuses follow the
	// calendar (a report turns stale on a date, not on a refresh).
	RenderEvery time.Duration
}

// Exporter serves the KPI metrics of one catalogue at a time.
type Exporter struct {
	opts     Options
	logger   log.Logger
	mu       sync.Mutex // guards rt and runCtx
	rt       *runtime
	runCtx   context.Context
	reloadMu sync.Mutex // one reload at a time
	page     atomic.Pointer[rendered]
	judged   atomic.Pointer[judged] // what page was rendered from, for Snapshot
	renders  chan struct{}
	reloads  reloadStats
}

// rendered is one exposition of the KPI metrics, plain and gzipped, in
// segments that are served one after the other.
type rendered struct {
	plain, gzipped         [][]byte
	plainSize, gzippedSize int
	readers                atomic.Int32 // scrapes writing it out
}

type reloadStats struct {
	mu          sync.Mutex
	success     bool
	lastSuccess time.Time
}

// runtime is a loaded catalogue with its running sources.
type runtime struct {
	cat     *catalogue.Catalogue
	sources []*source
	cancel  context.CancelFunc
	done    sync.WaitGroup
}

// source is one source's collector, its last good data and its refresh
// figures.
type source struct {
	cfg       catalogue.Source
	collector collectors.Collector
	cat       *catalogue.Catalogue

	mu          sync.Mutex
	series      []Series
	tasks       []collectors.Task
	attempted   bool
	success     bool
	duration    time.Duration
	lastSuccess time.Time
	rejected    int
	failures    int // refreshes failed in a row
}

// New builds an exporter for cat, whose relative paths resolve in dir. It does
// not refresh anything yet: call Start (or RefreshAll in tests).
func New(cat *catalogue.Catalogue, dir fs.FS, opts Options) (*Exporter, error) {
	if opts.Logger == nil {
		opts.Logger = log.NewNopLogger()
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.RenderEvery == 0 {
		opts.RenderEvery = time.Hour
	}
	rt, err := newRuntime(cat, dir, opts.Logger)
	if err != nil {
		return nil, err
	}
	e := &Exporter{opts: opts, logger: opts.Logger, rt: rt, renders: make(chan struct{}, 1)}
	e.recordReload(true)
	e.render()
	return e, nil
}

func newRuntime(cat *catalogue.Catalogue, dir fs.FS, logger log.Logger) (*runtime, error) {
	rt := &runtime{cat: cat}
	var errs catalogue.Errors
	for _, s := range cat.Sources {
		c, ferrs := collectors.New(collectors.Env{Source: s, Dir: dir, Logger: log.With(logger, "source", s.ID)})
		for _, fe := range ferrs {
			fe.Path = "sources[" + s.ID + "]." + fe.Path
			errs = append(errs, fe)
		}
		rt.sources = append(rt.sources, &source{cfg: s, collector: c, cat: cat})
	}
	if len(errs) > 0 {
		return nil, errs
	}
	return rt, nil
}

// Catalogue is the catalogue being served.
func (e *Exporter) Catalogue() *catalogue.Catalogue {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.rt.cat
}

// Start refreshes every source at once and then on its interval, in the
// background, until ctx ends or a reload replaces the catalogue.
func (e *Exporter) Start(ctx context.Context) {
	e.mu.Lock()
	e.runCtx = ctx
	e.startLocked(ctx, false)
	e.mu.Unlock()
	go e.renderLoop(ctx)
}

// startLocked starts the sources' refresh loops; read says they have just
// been read, so the first refresh waits for the interval.
func (e *Exporter) startLocked(ctx context.Context, read bool) {
	rctx, cancel := context.WithCancel(ctx)
	rt := e.rt
	rt.cancel = cancel
	for _, s := range rt.sources {
		rt.done.Add(1)
		go func() {
			defer rt.done.Done()
			e.loop(rctx, s, read)
		}()
	}
}

func (e *Exporter) loop(ctx context.Context, s *source, read bool) {
	t := time.NewTicker(s.cfg.Interval.Std())
	defer t.Stop()
	for {
		if !read {
			e.refresh(ctx, s)
			e.requestRender()
		}
		read = false
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// renderLoop renders after refreshes (coalescing bursts) and every
// RenderEvery.
func (e *Exporter) renderLoop(ctx context.Context) {
	t := time.NewTicker(e.opts.RenderEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-e.renders:
		case <-t.C:
		}
		e.render()
	}
}

func (e *Exporter) requestRender() {
	select {
	case e.renders <- struct{}{}:
	default:
	}
}

// RefreshAll refreshes every source once, in parallel, and renders.
func (e *Exporter) RefreshAll(ctx context.Context) {
	e.mu.Lock()
	rt := e.rt
	e.mu.Unlock()
	e.refreshSources(ctx, rt.sources)
	e.render()
}

func (e *Exporter) refreshSources(ctx context.Context, sources []*source) {
	var wg sync.WaitGroup
	for _, s := range sources {
		wg.Add(1)
		go func() { defer wg.Done(); e.refresh(ctx, s) }()
	}
	wg.Wait()
}

// errMaxSeries rejects a refresh that would serve more series than allowed.
var errMaxSeries = errors.New("max_series exceeded")

// refresh reads a source once. Whatever goes wrong, the last good data stays;
// only a complete, accepted refresh replaces it.
func (e *Exporter) refresh(ctx context.Context, s *source) {
	logger := log.With(e.logger, "source", s.cfg.ID, "collector", s.cfg.Collector)
	start := time.Now()
	series, tasks, rejected, err := s.collect(ctx)
	took := time.Since(start)
	for i, r := range rejected {
		if i == 10 {
			level.Warn(logger).Log("msg", "more rows rejected", "count", len(rejected)-i)
			break
		}
		level.Warn(logger).Log("msg", "row rejected", "err", r)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.attempted, s.duration, s.rejected = true, took, len(rejected)
	if err != nil {
		s.success = false
		s.failures++
		if keep := s.cfg.KeepFor.Std(); keep > 0 && !s.lastSuccess.IsZero() && e.opts.Now().Sub(s.lastSuccess) > keep {
			s.series, s.tasks = nil, nil
			level.Warn(logger).Log("msg", "dropping last good data", "older_than", s.cfg.KeepFor)
		}
		level.Error(logger).Log("msg", "refresh failed; keeping last good data", "err", err, "duration", took)
		return
	}
	s.success, s.lastSuccess, s.failures = true, e.opts.Now(), 0
	s.series, s.tasks = series, tasks
	level.Debug(logger).Log("msg", "refreshed", "series", len(series), "tasks", len(tasks), "rejected", len(rejected), "duration", took)
}

// collect runs the collector under the source's timeout. A collector that
// ignores its context is abandoned at the deadline, so one hung source cannot
// hold up its own next refresh, let alone anything else.
func (s *source) collect(ctx context.Context) ([]Series, []collectors.Task, []error, error) {
	ctx, cancel := context.WithTimeout(ctx, s.cfg.Timeout.Std())
	defer cancel()
	type result struct {
		b   *collectors.Batch
		err error
	}
	ch := make(chan result, 1)
	go func() {
		b, err := s.collector.Collect(ctx, collectors.NewMapper(s.cat, s.cfg.ID))
		ch <- result{b, err}
	}()
	var r result
	select {
	case r = <-ch:
	case <-ctx.Done():
		return nil, nil, nil, fmt.Errorf("timed out after %s", s.cfg.Timeout)
	}
	if r.err != nil {
		return nil, nil, nil, r.err
	}
	series, rejected := Aggregate(s.cat, r.b.Observations)
	rejected = append(r.b.Rejected, rejected...)
	if s.cfg.MaxSeries > 0 && len(series) > s.cfg.MaxSeries {
		return nil, nil, rejected, fmt.Errorf("%w: %d series, limit %d", errMaxSeries, len(series), s.cfg.MaxSeries)
	}
	return series, r.b.Tasks, rejected, nil
}

// render builds the exposition from every source's last good data.
func (e *Exporter) render() {
	e.mu.Lock()
	rt := e.rt
	e.mu.Unlock()
	v := view{cat: rt.cat, now: e.opts.Now()}
	for _, s := range rt.sources {
		s.mu.Lock()
		v.series = append(v.series, s.series)
		v.tasks = append(v.tasks, s.tasks...)
		s.mu.Unlock()
	}
	page := render(v)
	e.judged.Store(&judged{v: v})
	if old := e.page.Swap(page); old != nil && old.worthReleasing() && old.readers.Load() == 0 {
		go debug.FreeOSMemory()
	}
}

// releaseAbove is the size of a replaced exposition worth a forced
// collection to hand back at once; smaller ones wait for the next one, so a
// backfill rendering thousands of small pages does not force thousands.
var releaseAbove = 64 << 20

func (p *rendered) worthReleasing() bool { return p.plainSize+p.gzippedSize >= releaseAbove }

// acquire returns the exposition to serve, counted as read until release.
func (e *Exporter) acquire() *rendered {
	p := e.page.Load()
	p.readers.Add(1)
	return p
}

// release ends a read of p. A replaced exposition is garbage once nothing
// reads it, hundreds of megabytes at a million series; an exporter that
// only serves ready bytes allocates too little to trigger a collection
// soon, so the render that replaced it or the last scrape of it returns
// it to the system at once, in the background.
func (e *Exporter) release(p *rendered) {
	if p.readers.Add(-1) == 0 && e.page.Load() != p && p.worthReleasing() {
		go debug.FreeOSMemory()
	}
}

// Ready reports whether every source has been tried at least once.
func (e *Exporter) Ready() bool {
	e.mu.Lock()
	rt := e.rt
	e.mu.Unlock()
	for _, s := range rt.sources {
		s.mu.Lock()
		ok := s.attempted
		s.mu.Unlock()
		if !ok {
			return false
		}
	}
	return true
}

// Reload replaces the catalogue. A catalogue whose sources cannot be built is
// refused and the running one kept. The new catalogue's sources are read once
// before it is swapped in, so scrapes never see an empty exposition.
func (e *Exporter) Reload(ctx context.Context, cat *catalogue.Catalogue, dir fs.FS) error {
	e.reloadMu.Lock()
	defer e.reloadMu.Unlock()
	rt, err := newRuntime(cat, dir, e.logger)
	e.recordReload(err == nil)
	if err != nil {
		return err
	}
	e.refreshSources(ctx, rt.sources)
	e.mu.Lock()
	old := e.rt
	e.rt = rt
	e.mu.Unlock()
	if old.cancel != nil {
		old.cancel()
		old.done.Wait()
		e.mu.Lock()
		e.startLocked(e.runCtx, true)
		e.mu.Unlock()
	}
	old.close(e.logger)
	e.render()
	return nil
}

// close releases what the runtime's collectors hold (connection pools,
// keep-alive connections) once it has been replaced.
func (rt *runtime) close(logger log.Logger) {
	for _, s := range rt.sources {
		if c, ok := s.collector.(io.Closer); ok {
			if err := c.Close(); err != nil {
				level.Warn(logger).Log("msg", "closing a replaced collector", "source", s.cfg.ID, "err", err)
			}
		}
	}
}

// recordReload notes the outcome of a reload for the self-metrics; a
// catalogue that could not even be parsed counts as a failed reload too.
func (e *Exporter) recordReload(ok bool) {
	e.reloads.mu.Lock()
	defer e.reloads.mu.Unlock()
	e.reloads.success = ok
	if ok {
		e.reloads.lastSuccess = e.opts.Now()
	}
}

// ReloadFailed records a catalogue that could not even be loaded; the
// running one stays.
func (e *Exporter) ReloadFailed() { e.recordReload(false) }
