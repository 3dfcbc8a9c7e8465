package exporter

import (
	"context"
	"io/fs"

	"github.com/go-kit/log"

	"github.com/kpiwatch/kpiwatch/catalogue"
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
// collectors and aggregation a refresh uses, and reports what each would
// serve, in the catalogue's order. It serves nothing.
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
		go func() {
			defer func() { done <- struct{}{} }()
			r, err := s.collect(ctx)
			if err == nil {
				_, err = s.cfg.CheckRefresh(r.accepted, len(r.rejected))
			}
			reports[i] = SourceReport{Source: s.cfg, Accepted: r.accepted, Skipped: r.skipped, Rejected: r.rejected,
				Series: r.series, Tasks: len(r.tasks), Err: err}
		}()
	}
	for range rt.sources {
		<-done
	}
	return reports, nil
}
