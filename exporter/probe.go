package exporter

import (
	"context"
	"io/fs"
	"slices"
	"sync/atomic"

	"github.com/go-kit/log"

	"github.com/kpiwatch/kpiwatch/catalogue"
	"github.com/kpiwatch/kpiwatch/collectors"
	"github.com/kpiwatch/kpiwatch/conventions"
	"github.com/kpiwatch/kpiwatch/model"
)

// SourceReport is what one read of a source yields, as a refresh reads it.
type SourceReport struct {
	Source catalogue.Source
	// Accepted, Skipped and Rejected are the rows kept (observations and
	// tasks), passed over (blank and totals rows) and refused, each
	// refusal with its location (a file refused whole is one, counting the
	// rows it held: RejectedRows).
	Accepted, Skipped int
	Rejected          []error
	// Series are the series the source would serve.
	Series []model.Series
	places Places
	Tasks  int
	// Err is why the source fails, as a refresh would: it could not be
	// read, or broke its max_series or its rule on rejected rows.
	Err error
}

// Read is the number of rows the source yielded.
func (r SourceReport) Read() int { return r.Accepted + r.Skipped + r.RejectedRows() }

// RejectedRows is the number of rows refused, a file refused whole counting
// the rows it held.
func (r SourceReport) RejectedRows() int { return collectors.RejectedRows(r.Rejected) }

// Probe reads every source of cat once, in parallel, as a refresh reads
// it (the same collectors, limits, aggregation and the source's rule on
// rejected rows), and reports what each would serve, in the catalogue's
// order. It serves nothing.
func Probe(ctx context.Context, cat *catalogue.Catalogue, dir fs.FS, opts Options) ([]SourceReport, error) {
	if opts.Logger == nil {
		opts.Logger = log.NewNopLogger()
	}
	rt, err := newRuntime(cat, dir, opts, nil)
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
			series, places, tasks, rejected, reason, err := s.collect(ctx)
			r := SourceReport{Source: s.cfg, Rejected: rejected, Series: series, places: places, Tasks: len(tasks), Err: err}
			// A read that failed before its batch was complete (timed
			// out, or could not be read) has no rows to count.
			if b := seen.batch.Load(); b != nil && slices.Contains(complete, reason) {
				// The aggregation's rejections are rows the batch kept.
				aggregated := len(rejected) - len(b.Rejected)
				r.Accepted, r.Skipped = len(b.Observations)+len(b.Tasks)-aggregated, b.Skipped
			}
			reports[i] = r
		}()
	}
	for range rt.sources {
		<-done
	}
	return reports, nil
}

// Overlaps are the periods that two sources of a KPI both give in the
// reports, each with the place whose figure would be served and the one
// whose would not (Combine).
func Overlaps(cat *catalogue.Catalogue, reports []SourceReport) []Overlap {
	reads := make([]Sourced, len(reports))
	for i, r := range reports {
		reads[i] = Sourced{ID: r.Source.ID, Series: r.Series, Places: r.places}
	}
	_, overlaps := Combine(cat, reads)
	return overlaps
}

// complete are the outcomes of a read whose batch was read to the end.
var complete = []string{"", conventions.FailureMaxSeries, conventions.FailureNoRows, conventions.FailureRejected}

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
