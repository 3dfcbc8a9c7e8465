// Package exporter keeps the latest good observations of every source, has
// them judged by the one model (package model), and serves the model as
// Prometheus metrics: the roll-ups and their judgement on /metrics, every
// observed series on conventions.UnitsPath.
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
	"reflect"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-kit/log"
	"github.com/go-kit/log/level"
	"gopkg.in/yaml.v3"

	"github.com/kpiwatch/kpiwatch/catalogue"
	"github.com/kpiwatch/kpiwatch/collectors"
	"github.com/kpiwatch/kpiwatch/conventions"
	"github.com/kpiwatch/kpiwatch/internal/redact"
	"github.com/kpiwatch/kpiwatch/model"
)

// Options tune an Exporter.
type Options struct {
	Logger log.Logger
	// Now is the clock; tests fix it.
	Now func() time.Time
	// RenderEvery re-renders between refreshes, so that statuses follow the
	// calendar (a report turns stale on a date, not on a refresh).
	RenderEvery time.Duration
	// Limits bound what the collectors read; zero fields take
	// collectors.DefaultLimits.
	Limits collectors.Limits
}

// Exporter serves the KPI metrics of one catalogue at a time.
type Exporter struct {
	opts     Options
	logger   log.Logger
	mu       sync.Mutex // guards rt and runCtx
	rt       *runtime
	runCtx   context.Context
	reloadMu sync.Mutex // one reload at a time
	// renderMu serialises renders; reloading holds the background renders
	// back while a reload has let go of old data the new has not replaced.
	renderMu  sync.Mutex
	reloading bool                     // guarded by renderMu
	page      atomic.Pointer[rendered] // /metrics: roll-ups and their judgement
	unitsPage atomic.Pointer[rendered] // conventions.UnitsPath: every observed series
	judged    atomic.Pointer[judged]   // what the pages were rendered from, for Snapshot
	renders   chan struct{}
	reloads   reloadStats
	// overlaps are the periods two sources of a KPI gave at the last
	// render, each logged once while it lasts; guarded by renderMu.
	overlaps map[string]bool
	// waiting, when a test sets it before Start, is called each time a
	// source's refresh loop has refreshed (or skipped its first refresh
	// after a reload) and waits for its interval.
	waiting func()
}

// rendered is one exposition of the KPI metrics, plain and gzipped, in
// segments that are served one after the other.
type rendered struct {
	plain, gzipped         [][]byte
	plainSize, gzippedSize int
	readers                atomic.Int32 // scrapes writing it out
	// complete is true when every source had been tried before it was
	// rendered: what readiness waits for.
	complete bool
}

type reloadStats struct {
	mu          sync.Mutex
	success     bool
	lastSuccess time.Time
}

// runtime is a loaded catalogue with its running sources.
type runtime struct {
	cat     *catalogue.Catalogue
	dir     fs.FS
	sources []*source
	cancel  context.CancelFunc
	done    sync.WaitGroup
}

// source is one source's collector, its last good data and its refresh
// figures. A reload that leaves a source's definition as it was carries the
// whole source over, data, figures and collector.
type source struct {
	cfg       catalogue.Source
	collector collectors.Collector
	// definition is what the source's data depends on in its catalogue
	// (see definition).
	definition string
	// running is set while a collector runs, so that a timed-out one that
	// has not stopped yet is not joined by a second copy.
	running atomic.Bool

	mu          sync.Mutex
	cat         *catalogue.Catalogue
	series      []model.Series
	places      Places
	tasks       []collectors.Task
	attempted   bool
	success     bool
	duration    time.Duration
	lastSuccess time.Time
	rejected    int
	inARow      int            // refreshes failed in a row
	failures    map[string]int // failed refreshes by reason
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
	rt, err := newRuntime(cat, dir, opts, nil)
	if err != nil {
		return nil, err
	}
	e := &Exporter{opts: opts, logger: opts.Logger, rt: rt, renders: make(chan struct{}, 1)}
	e.recordReload(true)
	e.render()
	return e, nil
}

// newRuntime builds the sources of cat. A source of old whose definition
// is unchanged is carried over rather than built again: a reload neither
// loses its last good data nor reads it again.
func newRuntime(cat *catalogue.Catalogue, dir fs.FS, opts Options, old *runtime) (*runtime, error) {
	rt := &runtime{cat: cat, dir: dir}
	carried := map[string]*source{}
	if old != nil && sameDir(old.dir, dir) {
		for _, s := range old.sources {
			carried[s.definition] = s
		}
	}
	var errs catalogue.Errors
	for _, sc := range cat.Sources {
		def := definition(cat, sc)
		if s, ok := carried[def]; ok {
			rt.sources = append(rt.sources, s)
			continue
		}
		c, ferrs := collectors.New(collectors.Env{Source: sc, Dir: dir, Root: cat.Dir, Logger: log.With(opts.Logger, "source", sc.ID), Limits: opts.Limits})
		for _, fe := range ferrs {
			fe.Path = "sources[" + sc.ID + "]." + fe.Path
			errs = append(errs, fe)
		}
		rt.sources = append(rt.sources, &source{cfg: sc, collector: c, cat: cat, definition: def, failures: map[string]int{}})
	}
	if len(errs) > 0 {
		return nil, errs
	}
	return rt, nil
}

// definition is everything a source's data depends on: the source itself,
// the KPIs it reports with their places in the catalogue (series refer to
// KPIs by index), and the owners (ministries are matched by name).
func definition(cat *catalogue.Catalogue, s catalogue.Source) string {
	var b strings.Builder
	enc := yaml.NewEncoder(&b)
	_ = enc.Encode(s)
	for i, k := range cat.KPIs {
		if k.ReadFrom(s.ID) {
			fmt.Fprintf(&b, "kpi %d\n", i)
			_ = enc.Encode(k)
		}
	}
	_ = enc.Encode(cat.Owners)
	_ = enc.Close()
	return b.String()
}

// sameCatalogue is true when a and b say the same.
func sameCatalogue(a, b *catalogue.Catalogue) bool {
	encode := func(c *catalogue.Catalogue) string {
		var sb strings.Builder
		enc := yaml.NewEncoder(&sb)
		_ = enc.Encode(c)
		_ = enc.Close()
		return sb.String()
	}
	return a.Dir == b.Dir && encode(a) == encode(b)
}

// sameDir is true when relative paths resolve alike in a and b.
func sameDir(a, b fs.FS) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	ta, tb := reflect.TypeOf(a), reflect.TypeOf(b)
	return ta == tb && ta.Comparable() && a == b
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
		if e.waiting != nil {
			e.waiting()
		}
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
		e.renderUnlessReloading()
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
// only a complete, accepted refresh replaces it. A refresh stopped because
// the exporter stops or reloads is no failure of the source's and records
// nothing.
func (e *Exporter) refresh(ctx context.Context, s *source) {
	logger := log.With(e.logger, "source", s.cfg.ID, "collector", s.cfg.Collector)
	start := time.Now()
	series, places, tasks, rejected, reason, err := s.collect(ctx)
	took := time.Since(start)
	if ctx.Err() != nil {
		return
	}
	for i, r := range rejected {
		if i == 10 {
			level.Warn(logger).Log("msg", "more rows rejected", "count", len(rejected)-i)
			break
		}
		level.Warn(logger).Log("msg", "row rejected", "err", r)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.attempted, s.duration, s.rejected = true, took, collectors.RejectedRows(rejected)
	if err != nil {
		s.success = false
		s.failures[reason]++
		s.inARow++
		if keep := s.cfg.KeepFor.Std(); keep > 0 && !s.lastSuccess.IsZero() && e.opts.Now().Sub(s.lastSuccess) > keep {
			s.series, s.places, s.tasks = nil, nil, nil
			level.Warn(logger).Log("msg", "dropping last good data", "older_than", s.cfg.KeepFor)
		}
		level.Error(logger).Log("msg", "refresh failed; keeping last good data", "reason", reason, "err", err, "duration", took)
		return
	}
	s.success, s.lastSuccess, s.inARow = true, e.opts.Now(), 0
	s.series, s.places, s.tasks = series, places, tasks
	level.Debug(logger).Log("msg", "refreshed", "series", len(series), "tasks", len(tasks), "rejected", len(rejected), "duration", took)
}

// sourced is the source's last good read, as Combine takes it; the caller
// holds s.mu.
func (s *source) sourced() Sourced { return Sourced{ID: s.cfg.ID, Series: s.series, Places: s.places} }

// collect runs the collector under the source's timeout. Collectors stop
// at their context's end; one that does not yet is abandoned at the
// deadline, so one hung source cannot hold up anything else, and is not
// started again until it has stopped. A failure comes with its reason (a
// conventions.Failure* value).
func (s *source) collect(ctx context.Context) (series []model.Series, places Places, tasks []collectors.Task, rejected []error, reason string, err error) {
	if !s.running.CompareAndSwap(false, true) {
		return nil, nil, nil, nil, conventions.FailureBusy, fmt.Errorf("the previous refresh of %s has not stopped yet", s.where())
	}
	ctx, cancel := context.WithTimeout(ctx, s.cfg.Timeout.Std())
	defer cancel()
	s.mu.Lock()
	cat := s.cat
	s.mu.Unlock()
	type result struct {
		b   *collectors.Batch
		err error
	}
	ch := make(chan result, 1)
	go func() {
		defer s.running.Store(false)
		b, err := collectors.Collect(ctx, s.collector, collectors.NewMapper(cat, s.cfg.ID))
		ch <- result{b, err}
	}()
	var r result
	select {
	case r = <-ch:
	case <-ctx.Done():
		r.err = ctx.Err()
	}
	if errors.Is(r.err, context.DeadlineExceeded) {
		return nil, nil, nil, nil, conventions.FailureTimeout, fmt.Errorf("timed out after %s reading %s", s.cfg.Timeout, s.where())
	}
	if r.err != nil {
		return nil, nil, nil, nil, failureReason(r.err), r.err
	}
	series, rejected = Aggregate(cat, r.b.Observations)
	accepted := len(r.b.Observations) + len(r.b.Tasks) - len(rejected)
	rejected = append(r.b.Rejected, rejected...)
	if s.cfg.MaxSeries > 0 && len(series) > s.cfg.MaxSeries {
		return nil, nil, nil, rejected, conventions.FailureMaxSeries, fmt.Errorf("%w: %d series, limit %d", errMaxSeries, len(series), s.cfg.MaxSeries)
	}
	if reason, err := s.cfg.CheckRefresh(accepted, collectors.RejectedRows(rejected)); err != nil {
		return nil, nil, nil, rejected, reason, fmt.Errorf("%s: %w", s.where(), err)
	}
	return series, PlacesOf(cat, r.b.Observations), r.b.Tasks, rejected, "", nil
}

// failureReason is why a collector's read failed, as
// kpi_collector_failures_total counts it.
func failureReason(err error) string {
	switch {
	case errors.Is(err, collectors.ErrMaxSeries):
		return conventions.FailureMaxSeries
	case errors.Is(err, collectors.ErrChanged):
		return conventions.FailureChanged
	}
	return conventions.FailureError
}

// where names what a source reads, from the usual keys of its config (a
// URL redacted), for messages that have nothing else to name it by.
func (s *source) where() string {
	cfg := &s.cfg.Config
	for i := 0; cfg.Kind == yaml.MappingNode && i+1 < len(cfg.Content); i += 2 {
		switch k, v := cfg.Content[i].Value, cfg.Content[i+1]; {
		case v.Kind != yaml.ScalarNode || v.Value == "":
		case k == "url":
			return redact.URL(v.Value)
		case k == "path" || k == "glob":
			return v.Value
		}
	}
	return "source " + s.cfg.ID
}

// renderUnlessReloading renders, but not in the middle of a reload, which
// renders at its end.
func (e *Exporter) renderUnlessReloading() {
	e.renderMu.Lock()
	defer e.renderMu.Unlock()
	if !e.reloading {
		e.renderLocked()
	}
}

// render builds the exposition from every source's last good data.
func (e *Exporter) render() {
	e.renderMu.Lock()
	defer e.renderMu.Unlock()
	e.renderLocked()
}

func (e *Exporter) renderLocked() {
	e.mu.Lock()
	rt := e.rt
	e.mu.Unlock()
	v := view{cat: rt.cat, now: e.opts.Now()}
	complete := true
	reads := make([]Sourced, 0, len(rt.sources))
	for _, s := range rt.sources {
		s.mu.Lock()
		complete = complete && s.attempted
		reads = append(reads, s.sourced())
		v.tasks = append(v.tasks, s.tasks...)
		s.mu.Unlock()
	}
	var overlaps []Overlap
	v.series, overlaps = Combine(rt.cat, reads)
	e.logOverlaps(overlaps)
	page, unitsPage, m := render(v)
	page.complete = complete
	e.judged.Store(&judged{v: v, m: m})
	for _, p := range []struct {
		to  *atomic.Pointer[rendered]
		new *rendered
	}{{&e.page, page}, {&e.unitsPage, unitsPage}} {
		if old := p.to.Swap(p.new); old != nil && old.worthReleasing() && old.readers.Load() == 0 {
			freeOSMemory()
		}
	}
}

// logOverlaps warns of each period two sources of a KPI give, once while
// it lasts (renders come every few seconds), ten at most at a time.
func (e *Exporter) logOverlaps(overlaps []Overlap) {
	now := make(map[string]bool, len(overlaps))
	var fresh []string
	for _, o := range overlaps {
		msg := o.String()
		now[msg] = true
		if !e.overlaps[msg] {
			fresh = append(fresh, msg)
		}
	}
	for i, msg := range fresh {
		if i == 10 {
			level.Warn(e.logger).Log("msg", "more periods given by two sources of a KPI", "count", len(fresh)-i)
			break
		}
		level.Warn(e.logger).Log("msg", "a period given by two sources of a KPI: the later source's figure is served", "overlap", msg)
	}
	e.overlaps = now
}

// releaseAbove is the size of a replaced exposition worth a forced
// collection to hand back at once; smaller ones wait for the next one, so a
// backfill rendering thousands of small pages does not force thousands.
var releaseAbove = 64 << 20

func (p *rendered) worthReleasing() bool { return p.plainSize+p.gzippedSize >= releaseAbove }

// freeOSMemory returns freed memory to the system in the background; tests
// replace it to count the calls.
var freeOSMemory = func() { go debug.FreeOSMemory() }

// acquire returns the exposition of from to serve, counted as read until
// release.
func acquire(from *atomic.Pointer[rendered]) *rendered {
	p := from.Load()
	p.readers.Add(1)
	return p
}

// release ends a read of p. A replaced exposition is garbage once nothing
// reads it, hundreds of megabytes at a million series; an exporter that
// only serves ready bytes allocates too little to trigger a collection
// soon, so the render that replaced it or the last scrape of it returns
// it to the system at once, in the background.
func release(from *atomic.Pointer[rendered], p *rendered) {
	if p.readers.Add(-1) == 0 && from.Load() != p && p.worthReleasing() {
		freeOSMemory()
	}
}

// Ready reports whether the exposition served holds what every source
// yielded on its first try: not merely tried, rendered too.
func (e *Exporter) Ready() bool { return e.page.Load().complete }

// Reload replaces the catalogue. A catalogue whose sources cannot be built is
// refused and the running one kept. Sources whose definition did not change
// are carried over with their data; the others are read once before the
// catalogue is swapped in, so scrapes never see an empty exposition.
func (e *Exporter) Reload(ctx context.Context, cat *catalogue.Catalogue, dir fs.FS) error {
	e.reloadMu.Lock()
	defer e.reloadMu.Unlock()
	e.mu.Lock()
	old := e.rt
	e.mu.Unlock()
	rt, err := newRuntime(cat, dir, e.opts, old)
	e.recordReload(err == nil)
	if err != nil {
		return err
	}
	kept := map[*source]bool{}
	for _, s := range old.sources {
		kept[s] = slices.Contains(rt.sources, s)
	}
	var fresh []*source
	for _, s := range rt.sources {
		if !kept[s] {
			fresh = append(fresh, s)
		}
	}
	if len(fresh) == 0 && len(rt.sources) == len(old.sources) && sameCatalogue(old.cat, cat) {
		// Nothing changed: the running sources, their loops and the
		// exposition stay as they are, and the reload costs nothing.
		return nil
	}
	// The old catalogue's loops stop before the new sources are read, and
	// the data of the sources it does not keep goes: scrapes meanwhile are
	// served the rendered exposition, which does not need it, so the
	// reload never holds the old data and the new at once.
	if old.cancel != nil {
		old.cancel()
		old.done.Wait()
	}
	e.renderMu.Lock()
	e.reloading = true
	for _, s := range old.sources {
		if !kept[s] {
			s.mu.Lock()
			s.series, s.places, s.tasks = nil, nil, nil
			s.mu.Unlock()
		}
	}
	// The pages' view of the last render lets go of that data too (those
	// sources show no data on the pages until the new ones are read).
	if j := e.judged.Load(); j != nil {
		v := j.v
		reads := make([]Sourced, len(old.sources))
		for i, s := range old.sources {
			s.mu.Lock()
			reads[i] = s.sourced()
			s.mu.Unlock()
		}
		v.series, _ = Combine(v.cat, reads)
		e.judged.Store(&judged{v: v, m: model.Build(v.cat, v.series, v.now)})
	}
	e.renderMu.Unlock()
	e.refreshSources(ctx, fresh)
	e.mu.Lock()
	e.rt = rt
	for _, s := range rt.sources {
		s.mu.Lock()
		s.cat = cat
		s.mu.Unlock()
	}
	if old.cancel != nil {
		e.startLocked(e.runCtx, true)
	}
	e.mu.Unlock()
	old.close(e.logger, kept)
	e.renderMu.Lock()
	e.reloading = false
	e.renderMu.Unlock()
	e.render()
	return nil
}

// close releases what the runtime's collectors hold (connection pools,
// keep-alive connections) once it has been replaced, but for the sources
// carried over.
func (rt *runtime) close(logger log.Logger, kept map[*source]bool) {
	for _, s := range rt.sources {
		if kept[s] {
			continue
		}
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
