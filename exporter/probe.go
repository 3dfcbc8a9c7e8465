package exporter

import (
	"context"
	"errors"
	"io/fs"
	"sync/atomic"

	"github.com/go-kit/log"

	"github.com/kpiwatch/kpiwatch/catalogue"
	"github.com/kpiwatch/kpiwatch/collectors"
)

// SourceReport is what one read of a source yields, as a refresh reads it.
type SourceReport struct {
	Source catalogue.Source
	// Accepted, Skipped and Rejected are the rows kept (observations and
	// tasks), passed over (blank and totals rows) and refused, each
	// refusal with its location.
	Accepted, Skipped int
	Rejected          []error
	// Series are the series the source would serve.
	Series []Series
	Tasks  int
	// Err is why the source fails: it could not be read, or its refresh
	// breaks the source's rule (no row accepted, too many rejected).
	Err error
}

// Read is the number of rows the source yielded.
func (r SourceReport) Read() int { return r.Accepted + r.Skipped + len(r.Rejected) }

// Probe reads every source of cat once, in parallel, through the same
// collectors, refresh and aggregation the exporter uses, and reports what
// each would serve, in the catalogue's order. It serves nothing.
func Probe(ctx context.Context, cat *catalogue.Catalogue, dir fs.FS, logger log.Logger) ([]SourceReport, error) {
	if logger == nil {
		logger = log.NewNopLogger()
	}
	rt, err := newRuntime(cat, dir, logger)
	if err != nil {
		return nil, err
	}
	reports := make([]SourceReport, len(rt.sources))
	done := make(chan struct{})
	for i, s := range rt.sources {
		seen := &seenBatch{Collector: s.collector}
		s.collector = seen
		go func() {
			defer func() { done <- struct{}{} }()
			series, tasks, rejected, err := s.collect(ctx)
			r := SourceReport{Source: s.cfg, Rejected: rejected, Series: series, Tasks: len(tasks), Err: err}
			// A read that timed out may still be filling its batch.
			if b := seen.batch.Load(); b != nil && (err == nil || errors.Is(err, errMaxSeries)) {
				// The aggregation's rejections are rows the batch kept.
				aggregated := len(rejected) - len(b.Rejected)
				r.Accepted, r.Skipped = len(b.Observations)+len(b.Tasks)-aggregated, b.Skipped
			}
			if err == nil {
				_, r.Err = s.cfg.CheckRefresh(r.Accepted, len(r.Rejected))
			}
			reports[i] = r
		}()
	}
	for range rt.sources {
		<-done
	}
	return reports, nil
}

// seenBatch keeps the batch its collector returned, whose counts a refresh
// does not report.
type seenBatch struct {
	collectors.Collector
	batch atomic.Pointer[collectors.Batch]
}

func (c *seenBatch) Collect(ctx context.Context, m *collectors.Mapper) (*collectors.Batch, error) {
	b, err := c.Collector.Collect(ctx, m)
	c.batch.Store(b)
	return b, err
}
