package exporter

import (
	"bytes"
	"compress/gzip"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/go-kit/log/level"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/expfmt"

	"github.com/kpiwatch/kpiwatch/conventions"
)

// Collector is the exporter's self-metrics, for a client_golang registry.
func (e *Exporter) Collector() prometheus.Collector { return selfCollector{e} }

type selfCollector struct{ e *Exporter }

var (
	sourceLabels      = []string{conventions.LabelSource, conventions.LabelCollector}
	descSuccess       = desc(conventions.CollectorSuccess, sourceLabels)
	descDuration      = desc(conventions.CollectorDuration, sourceLabels)
	descLastSuccess   = desc(conventions.CollectorLastSuccess, sourceLabels)
	descSeries        = desc(conventions.CollectorSeries, sourceLabels)
	descRejected      = desc(conventions.CollectorRejectedRows, sourceLabels)
	descFilesRead     = desc(conventions.CollectorFilesRead, sourceLabels)
	descFilesRejected = desc(conventions.CollectorFilesRejected, sourceLabels)
	descInARow        = desc(conventions.CollectorConsecutiveFailures, sourceLabels)
	descFailures      = desc(conventions.CollectorFailures, append(sourceLabels[:len(sourceLabels):len(sourceLabels)], conventions.LabelReason))
	descReloadSuccess = desc(conventions.CatalogueReloadSuccess, nil)
	descReloadLast    = desc(conventions.CatalogueReloadLast, nil)
)

func desc(name string, labels []string) *prometheus.Desc {
	return prometheus.NewDesc(name, conventions.Help[name], labels, nil)
}

func (c selfCollector) Describe(ch chan<- *prometheus.Desc) { prometheus.DescribeByCollect(c, ch) }

func (c selfCollector) Collect(ch chan<- prometheus.Metric) {
	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
	}
	for _, s := range c.e.sourceHealth() {
		if s.Attempted {
			gauge(descSuccess, boolValue(s.Success), s.ID, s.Collector)
			gauge(descDuration, s.Duration.Seconds(), s.ID, s.Collector)
			gauge(descRejected, float64(s.Rejected), s.ID, s.Collector)
			gauge(descInARow, float64(s.Failures), s.ID, s.Collector)
		}
		if !s.LastSuccess.IsZero() {
			gauge(descLastSuccess, float64(s.LastSuccess.UnixNano())/1e9, s.ID, s.Collector)
		}
		gauge(descSeries, float64(s.Series), s.ID, s.Collector)
		for reason, n := range s.FailuresByReason {
			ch <- prometheus.MustNewConstMetric(descFailures, prometheus.CounterValue, float64(n), s.ID, s.Collector, reason)
		}
		if s.Files != nil {
			gauge(descFilesRead, float64(s.Files[0]), s.ID, s.Collector)
			gauge(descFilesRejected, float64(s.Files[1]), s.ID, s.Collector)
		}
	}
	c.e.reloads.mu.Lock()
	gauge(descReloadSuccess, boolValue(c.e.reloads.success))
	gauge(descReloadLast, float64(c.e.reloads.lastSuccess.UnixNano())/1e9)
	c.e.reloads.mu.Unlock()
}

func boolValue(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// WriteKPIMetrics writes the current KPI expositions, the main one's then
// the units' (text format, without the self-metrics), as pushed to
// VictoriaMetrics.
func (e *Exporter) WriteKPIMetrics(w io.Writer) error {
	for _, from := range []*atomic.Pointer[rendered]{&e.page, &e.unitsPage} {
		if err := writePlain(w, from); err != nil {
			return err
		}
	}
	return nil
}

func writePlain(w io.Writer, from *atomic.Pointer[rendered]) error {
	page := acquire(from)
	defer release(from, page)
	for _, b := range page.plain {
		if _, err := w.Write(b); err != nil {
			return err
		}
	}
	return nil
}

// Handler serves /metrics: the self-metrics gathered from g, then the
// pre-rendered KPI exposition (roll-ups and their judgement, plans, tasks,
// completeness); and, at conventions.UnitsPath, every observed series with
// its judgement, scraped less often since reports change monthly (without
// the self-metrics, which the first serves). It negotiates the text format
// or OpenMetrics and gzip as promhttp does, but the KPI part costs one write
// of ready bytes.
func (e *Exporter) Handler(g prometheus.Gatherer) http.Handler {
	return &metricsHandler{e: e, g: g}
}

type metricsHandler struct {
	e  *Exporter
	g  prometheus.Gatherer
	zw sync.Pool
}

// servedFormats are the formats /metrics writes: the pre-rendered KPI part is
// text, which is also valid OpenMetrics for gauges; protobuf is not offered.
var servedFormats = slices.DeleteFunc(expfmt.DefaultOpenMetricsAcceptedFormats(), func(f expfmt.Format) bool {
	return f.FormatType() != expfmt.TypeOpenMetrics && f.FormatType() != expfmt.TypeTextPlain
})

func (h *metricsHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	from, g := &h.e.page, h.g
	if r.URL.Path == conventions.UnitsPath {
		from, g = &h.e.unitsPage, prometheus.Gatherers{}
	}
	page := acquire(from)
	defer release(from, page)
	mfs, err := g.Gather()
	if err != nil {
		level.Error(h.e.logger).Log("msg", "gathering self-metrics", "err", err)
	}
	format := expfmt.NegotiateAccept(r.Header, servedFormats...)
	openMetrics := format.FormatType() == expfmt.TypeOpenMetrics
	var self bytes.Buffer
	enc := expfmt.NewEncoder(&self, format)
	for _, mf := range mfs {
		if err := enc.Encode(mf); err != nil {
			level.Error(h.e.logger).Log("msg", "encoding self-metrics", "err", err)
		}
	}
	w.Header().Set("Content-Type", string(format))
	head, segments, size, tail := self.Bytes(), page.plain, page.plainSize, []byte(nil)
	if openMetrics {
		tail = openMetricsEOF
	}
	if acceptsGzip(r) {
		// Concatenated gzip members are one valid gzip stream (RFC 1952), so
		// the pre-compressed KPI segments are sent as they are, between the
		// freshly compressed self-metrics and the OpenMetrics terminator.
		w.Header().Set("Content-Encoding", "gzip")
		head, segments, size = h.gzip(head), page.gzipped, page.gzippedSize
		if openMetrics {
			tail = gzippedEOF
		}
	}
	// With its length known the response is sent as it is, not chunked.
	w.Header().Set("Content-Length", strconv.Itoa(len(head)+size+len(tail)))
	if _, err := w.Write(head); err != nil {
		return
	}
	for _, b := range segments {
		if _, err := w.Write(b); err != nil {
			return
		}
	}
	_, _ = w.Write(tail)
}

var (
	openMetricsEOF = []byte("# EOF\n")
	gzippedEOF     = func() []byte {
		var buf bytes.Buffer
		compress(&buf, nil, openMetricsEOF)
		return buf.Bytes()
	}()
)

// gzip compresses the self-metrics with a pooled writer.
func (h *metricsHandler) gzip(b []byte) []byte {
	var buf bytes.Buffer
	zw, _ := h.zw.Get().(*gzip.Writer)
	h.zw.Put(compress(&buf, zw, b))
	return buf.Bytes()
}

// compress writes b gzipped into buf with zw, a writer to reuse or nil, and
// returns the writer for reuse.
func compress(buf *bytes.Buffer, zw *gzip.Writer, b []byte) *gzip.Writer {
	if zw == nil {
		zw, _ = gzip.NewWriterLevel(buf, gzip.BestSpeed)
	} else {
		zw.Reset(buf)
	}
	_, _ = zw.Write(b)
	_ = zw.Close()
	return zw
}

func acceptsGzip(r *http.Request) bool {
	for _, part := range strings.Split(r.Header.Get("Accept-Encoding"), ",") {
		enc, q, _ := strings.Cut(strings.TrimSpace(part), ";")
		if strings.TrimSpace(enc) == "gzip" && strings.TrimSpace(q) != "q=0" {
			return true
		}
	}
	return false
}
