package collectors

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// ErrMaxSeries is wrapped by the error of a read stopped at its source's
// max_series.
var ErrMaxSeries = errors.New("max_series exceeded")

// seriesCount counts the distinct series (KPI and labels, as the exporter
// groups observations) a read has mapped so far, against the source's
// max_series, so that a read stops as soon as it passes the limit rather
// than after holding every row: a query returning ten million rows grew the
// process to 6 GiB before its timeout. Its keys are at most max_series + 1.
type seriesCount struct {
	limit int
	seen  map[string]struct{}
	key   strings.Builder
	over  error
}

// countSeries counts obs's series, for a source with max_series.
func (m *Mapper) countSeries(obs *Observation) {
	c := m.series
	if c == nil || c.over != nil {
		return
	}
	c.key.Reset()
	c.key.WriteString(strconv.Itoa(obs.KPI))
	for _, l := range obs.Labels {
		c.key.WriteByte(0xff)
		c.key.WriteString(l)
	}
	if _, ok := c.seen[c.key.String()]; ok {
		return
	}
	c.seen[c.key.String()] = struct{}{}
	if len(c.seen) > c.limit {
		c.over = &RowError{obs.Loc, fmt.Errorf("more than %d series, the source's max_series; stopped reading at the row that made one more: %w", c.limit, ErrMaxSeries)}
	}
}

// Err is the error that stops the read: non-nil once the rows mapped make
// more series than the source's max_series. Collectors check it after each
// row (or file) and stop; Collect checks it at the end for those that
// do not.
func (m *Mapper) Err() error {
	if m.series == nil {
		return nil
	}
	return m.series.over
}

// newSeriesCount is the count of a source with max_series, else nil.
func newSeriesCount(limit int) *seriesCount {
	if limit <= 0 {
		return nil
	}
	return &seriesCount{limit: limit, seen: map[string]struct{}{}}
}
