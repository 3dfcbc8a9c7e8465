// Package push sends the exporter's series to VictoriaMetrics or vmagent
// (/api/v1/import/prometheus), for provinces whose networks a central
// Prometheus cannot scrape into.
//
// It pushes as github.com/VictoriaMetrics/metrics does (the text exposition,
// the extra labels on every sample, gzip, POST), but with its own client and
// loop: that library takes only headers, not a client, so it cannot send
// prometheus/common's http_config (TLS, a proxy, OAuth 2, credentials read
// from files at each request), and its InitPushExtWithOptions only logs a
// failed push and tries again on its next tick. Here a failed push is
// retried with exponential backoff (up to the interval) and counted in
// self-metrics, and nothing about it is ever fatal.
package push

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/go-kit/log"
	"github.com/go-kit/log/level"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/config"

	"github.com/kpiwatch/kpiwatch/catalogue"
	"github.com/kpiwatch/kpiwatch/collectors"
	"github.com/kpiwatch/kpiwatch/conventions"
	"github.com/kpiwatch/kpiwatch/internal/redact"
)

// Config says where and how to push.
type Config struct {
	// URL is the import endpoint, e.g.
	// http://victoriametrics:8428/api/v1/import/prometheus.
	URL      string
	Interval time.Duration
	// Timeout bounds one push; zero means the interval.
	Timeout time.Duration
	// ExtraLabels are name=value pairs added to every series (e.g. the
	// instance, so that several provinces' exporters stay apart).
	ExtraLabels []string
	// Headers are "Name: value" lines sent with every push.
	Headers []string
	// HTTP is the client's settings, prometheus/common's http_config as a
	// scrape job takes it: basic auth, an authorization (bearer) token or
	// its file, OAuth 2, TLS, a proxy. Auth, the older flags' shape, is
	// added to it; setting auth in both is an error.
	HTTP config.HTTPClientConfig
	Auth Auth
	// MinBackoff is the first retry's delay; it doubles on each failure up to
	// the interval. Zero means one second.
	MinBackoff time.Duration
	// Ready, when set, holds the first push back until it is true (the
	// exporter has read its sources), so nothing half-read is pushed.
	Ready func() bool
}

// Auth is HTTP authentication read from files at every request, so a
// rotated credential is picked up without a restart. Credentials never
// appear in logs, errors or metrics.
type Auth struct {
	BearerTokenFile       string
	BasicAuthUsername     string
	BasicAuthPasswordFile string
}

func (a Auth) check() error {
	switch {
	case a.BearerTokenFile != "" && (a.BasicAuthUsername != "" || a.BasicAuthPasswordFile != ""):
		return errors.New("use either a bearer token or basic auth, not both")
	case (a.BasicAuthUsername == "") != (a.BasicAuthPasswordFile == ""):
		return errors.New("basic auth needs both a username and a password file")
	}
	return nil
}

// addTo puts the credentials into an http_config, which must have none.
func (a Auth) addTo(h *config.HTTPClientConfig) error {
	if a == (Auth{}) {
		return nil
	}
	if h.BasicAuth != nil || h.Authorization != nil || h.BearerToken != "" || h.BearerTokenFile != "" || h.OAuth2 != nil {
		return errors.New("credentials given both in the http_config file and in the auth flags: use one")
	}
	if a.BearerTokenFile != "" {
		h.Authorization = &config.Authorization{Type: "Bearer", CredentialsFile: a.BearerTokenFile}
	} else {
		h.BasicAuth = &config.BasicAuth{Username: a.BasicAuthUsername, PasswordFile: a.BasicAuthPasswordFile}
	}
	return nil
}

// Header is the Authorization header line ("" without auth), read now.
func (a Auth) Header() (string, error) {
	switch {
	case a.BearerTokenFile != "":
		tok, err := collectors.Secret{File: a.BearerTokenFile}.Read(nil)
		if err != nil {
			return "", err
		}
		return "Authorization: Bearer " + tok, nil
	case a.BasicAuthUsername != "":
		pw, err := collectors.Secret{File: a.BasicAuthPasswordFile}.Read(nil)
		if err != nil {
			return "", err
		}
		return "Authorization: Basic " + base64.StdEncoding.EncodeToString([]byte(a.BasicAuthUsername+":"+pw)), nil
	}
	return "", nil
}

// Apply sets the Authorization header on req.
func (a Auth) Apply(req *http.Request) error {
	h, err := a.Header()
	if err != nil || h == "" {
		return err
	}
	name, value, _ := strings.Cut(h, ": ")
	req.Header.Set(name, value)
	return nil
}

// Label is one extra label.
type Label struct{ Name, Value string }

var labelName = regexp.MustCompile(`^[a-zA-Z_][a-zA-Z0-9_]*$`)

// ParseLabels parses name=value flags. Names the exporter itself uses (kpi,
// status, the dimensions) are refused: they would clash with a series' own.
func ParseLabels(flags []string) ([]Label, error) {
	reserved := append([]string{conventions.LabelKPI, conventions.LabelStatus}, catalogue.Dimensions...)
	var out []Label
	for _, f := range flags {
		name, value, ok := strings.Cut(f, "=")
		switch {
		case !ok:
			return nil, fmt.Errorf("extra label %q: want name=value", f)
		case !labelName.MatchString(name) || strings.HasPrefix(name, "__"):
			return nil, fmt.Errorf("extra label %q: %q is not a valid label name", f, name)
		case slices.Contains(reserved, name):
			return nil, fmt.Errorf("extra label %q: %q is a label of the series themselves", f, name)
		case slices.ContainsFunc(out, func(l Label) bool { return l.Name == name }):
			return nil, fmt.Errorf("extra label %q: %q given twice", f, name)
		}
		out = append(out, Label{name, value})
	}
	return out, nil
}

var escaper = strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`)

// FormatLabels writes labels as the inside of a text-format label set:
// a="1",b="2".
func FormatLabels(labels []Label) string {
	parts := make([]string, len(labels))
	for i, l := range labels {
		parts[i] = l.Name + `="` + escaper.Replace(l.Value) + `"`
	}
	return strings.Join(parts, ",")
}

// Pusher pushes on an interval until its context ends.
type Pusher struct {
	cfg      Config
	redacted string // the URL without credentials, for logs
	client   *http.Client
	labels   string // the extra labels, as FormatLabels writes them
	headers  http.Header
	write    func(io.Writer)
	logger   log.Logger

	mu          sync.Mutex
	attempted   bool
	success     bool
	lastSuccess time.Time
	failures    float64
}

// New checks cfg and returns a pusher of what write writes (text exposition
// format, no timestamps).
func New(cfg Config, write func(io.Writer), logger log.Logger) (*Pusher, error) {
	u, err := url.Parse(cfg.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("push URL %q: want http(s)://host:port/api/v1/import/prometheus", redact.URL(cfg.URL))
	}
	if cfg.Interval <= 0 {
		return nil, fmt.Errorf("push interval must be positive, got %s", cfg.Interval)
	}
	if cfg.Timeout <= 0 || cfg.Timeout > cfg.Interval {
		cfg.Timeout = cfg.Interval
	}
	if cfg.MinBackoff <= 0 {
		cfg.MinBackoff = time.Second
	}
	if err := cfg.Auth.check(); err != nil {
		return nil, err
	}
	if err := cfg.Auth.addTo(&cfg.HTTP); err != nil {
		return nil, err
	}
	if err := cfg.HTTP.Validate(); err != nil {
		return nil, fmt.Errorf("push http_config: %w", err)
	}
	client, err := config.NewClientFromConfig(cfg.HTTP, "kpiwatch_push")
	if err != nil {
		return nil, fmt.Errorf("push http_config: %w", err)
	}
	headers := http.Header{}
	for i, h := range cfg.Headers {
		// The value is not quoted back: it may be a credential.
		name, value, ok := strings.Cut(h, ":")
		if !ok || strings.TrimSpace(name) == "" {
			return nil, fmt.Errorf("push header #%d: want \"Name: value\"", i+1)
		}
		headers.Add(strings.TrimSpace(name), strings.TrimSpace(value))
	}
	labels, err := ParseLabels(cfg.ExtraLabels)
	if err != nil {
		return nil, err
	}
	if logger == nil {
		logger = log.NewNopLogger()
	}
	return &Pusher{
		cfg:      cfg,
		redacted: redact.URL(cfg.URL),
		client:   client,
		labels:   FormatLabels(labels),
		headers:  headers,
		write:    write,
		logger:   logger,
	}, nil
}

// Run pushes once the exporter is ready, then every interval; a failed push
// is retried after 1s, 2s, 4s... (with jitter, at most the interval) until
// one succeeds. It returns when ctx ends.
func (p *Pusher) Run(ctx context.Context) {
	for p.cfg.Ready != nil && !p.cfg.Ready() {
		if !sleep(ctx, 250*time.Millisecond) {
			return
		}
	}
	failures := 0
	for {
		err := p.Push(ctx)
		if ctx.Err() != nil {
			return
		}
		wait := p.cfg.Interval
		if err != nil {
			failures++
			wait = p.backoff(failures)
			level.Warn(p.logger).Log("msg", "push failed; will retry", "url", p.redacted, "attempt", failures, "retry_in", wait, "err", err)
		} else if failures > 0 {
			level.Info(p.logger).Log("msg", "push delivered after retries", "url", p.redacted, "failed_attempts", failures)
			failures = 0
		}
		if !sleep(ctx, wait) {
			return
		}
	}
}

// backoff is MinBackoff doubled per consecutive failure, at most the
// interval, with ±20% jitter so that many provinces' exporters do not all
// retry at the same instant when a central server comes back.
func (p *Pusher) backoff(failures int) time.Duration {
	d := p.cfg.Interval
	if failures <= 30 {
		d = min(p.cfg.MinBackoff<<(failures-1), p.cfg.Interval)
	}
	return time.Duration(float64(d) * (0.8 + 0.4*rand.Float64()))
}

func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// Push pushes once and records the outcome in the self-metrics.
func (p *Pusher) Push(ctx context.Context) error {
	pctx, cancel := context.WithTimeout(ctx, p.cfg.Timeout)
	defer cancel()
	err := p.post(pctx)
	// A push cut short by shutdown is no failure: record nothing.
	if ctx.Err() != nil {
		return ctx.Err()
	}
	p.record(err == nil)
	return err
}

// post sends what write writes, each sample with the extra labels,
// gzipped. Errors name the URL without its credentials and never quote a
// header: either may hold a secret.
func (p *Pusher) post(ctx context.Context) error {
	var text bytes.Buffer
	p.write(&text)
	var body bytes.Buffer
	zw := gzip.NewWriter(&body)
	if _, err := zw.Write(withLabels(text.Bytes(), p.labels)); err != nil {
		return err
	}
	if err := zw.Close(); err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, p.cfg.URL, &body)
	if err != nil {
		return fmt.Errorf("pushing to %s: %w", p.redacted, err)
	}
	req.Header = p.headers.Clone()
	req.Header.Set("Content-Type", "text/plain")
	req.Header.Set("Content-Encoding", "gzip")
	resp, err := p.client.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return fmt.Errorf("pushing to %s: %w", p.redacted, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		return fmt.Errorf("pushing to %s: %s: %q", p.redacted, resp.Status, bytes.TrimSpace(msg))
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	return nil
}

// withLabels adds labels (a="1",b="2") to every sample of a text
// exposition, as VictoriaMetrics/metrics' push does: comments and blank
// lines are kept as they are.
func withLabels(text []byte, labels string) []byte {
	if labels == "" {
		return text
	}
	out := make([]byte, 0, len(text)+len(text)/4)
	for line := range bytes.Lines(text) {
		switch i := bytes.IndexByte(line, '{'); {
		case len(bytes.TrimSpace(line)) == 0 || line[0] == '#':
			out = append(out, line...)
		case i >= 0 && bytes.HasPrefix(line[i+1:], []byte("}")):
			out = append(append(append(out, line[:i+1]...), labels...), line[i+1:]...)
		case i >= 0:
			out = append(append(append(append(out, line[:i+1]...), labels...), ','), line[i+1:]...)
		default:
			name, rest, _ := bytes.Cut(line, []byte(" "))
			out = append(append(append(append(append(out, name...), '{'), labels...), "} "...), rest...)
		}
	}
	return out
}

func (p *Pusher) record(ok bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.attempted, p.success = true, ok
	if ok {
		p.lastSuccess = time.Now()
	} else {
		p.failures++
	}
}

var (
	descSuccess     = prometheus.NewDesc(conventions.PushSuccess, conventions.Help[conventions.PushSuccess], nil, nil)
	descLastSuccess = prometheus.NewDesc(conventions.PushLastSuccess, conventions.Help[conventions.PushLastSuccess], nil, nil)
	descFailures    = prometheus.NewDesc(conventions.PushFailures, conventions.Help[conventions.PushFailures], nil, nil)
)

// Describe implements prometheus.Collector.
func (p *Pusher) Describe(ch chan<- *prometheus.Desc) { prometheus.DescribeByCollect(p, ch) }

// Collect implements prometheus.Collector: the pusher's self-metrics.
func (p *Pusher) Collect(ch chan<- prometheus.Metric) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.attempted {
		v := 0.0
		if p.success {
			v = 1
		}
		ch <- prometheus.MustNewConstMetric(descSuccess, prometheus.GaugeValue, v)
	}
	if !p.lastSuccess.IsZero() {
		ch <- prometheus.MustNewConstMetric(descLastSuccess, prometheus.GaugeValue, float64(p.lastSuccess.UnixNano())/1e9)
	}
	ch <- prometheus.MustNewConstMetric(descFailures, prometheus.CounterValue, p.failures)
}
