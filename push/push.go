// Package push sends the exporter's series to VictoriaMetrics or vmagent
// (/api/v1/import/prometheus), for provinces whose networks a central
// Prometheus cannot scrape into.
//
// Each push is one github.com/VictoriaMetrics/metrics PushMetricsExt call
// (the extra labels, gzip, POST). That library takes headers, not a client:
// prometheus/common's http_config is turned into headers at each push
// (credentials files are re-read, an OAuth 2 token is cached), and what Go's
// default transport cannot take (TLS settings, a proxy) is refused at
// start-up. The loop is kpiwatch's own, because the library's
// InitPushExtWithOptions only logs a failed push and tries again on its next
// tick: here a failed push is retried with exponential backoff (up to the
// interval) and counted in self-metrics, and nothing about it is ever fatal.
package push

import (
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

	"github.com/VictoriaMetrics/metrics"
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
	// HTTP is prometheus/common's http_config (nil: its defaults): basic
	// auth, an authorization (bearer) token, OAuth 2 client credentials and
	// http_headers, sent as headers. Auth, the older flags' shape, is added
	// to it; setting auth in both is an error.
	HTTP *config.HTTPClientConfig
	// HTTPFrom names where HTTP was read, e.g. the file, for its errors.
	HTTPFrom string
	Auth     Auth
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
	opts     metrics.PushOptions
	headers  []headerFunc
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
	httpCfg := config.DefaultHTTPClientConfig
	if cfg.HTTP != nil {
		httpCfg = *cfg.HTTP
	}
	if err := cfg.Auth.addTo(&httpCfg); err != nil {
		return nil, err
	}
	if cfg.HTTPFrom == "" {
		cfg.HTTPFrom = "push http_config"
	}
	if err := httpCfg.Validate(); err != nil {
		return nil, fmt.Errorf("%s: %w", cfg.HTTPFrom, err)
	}
	if err := checkTransport(&httpCfg); err != nil {
		return nil, fmt.Errorf("%s: %w", cfg.HTTPFrom, err)
	}
	headers, err := headerFuncs(&httpCfg, cfg.Timeout)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", cfg.HTTPFrom, err)
	}
	for i, h := range cfg.Headers {
		// The value is not quoted back: it may be a credential.
		if name, _, ok := strings.Cut(h, ":"); !ok || strings.TrimSpace(name) == "" {
			return nil, fmt.Errorf("push header #%d: want \"Name: value\"", i+1)
		}
		headers = append(headers, constHeader(h))
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
		opts:     metrics.PushOptions{ExtraLabels: FormatLabels(labels), Method: http.MethodPost},
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
	opts := p.opts
	var err error
	if opts.Headers, err = p.headerLines(pctx); err == nil {
		err = metrics.PushMetricsExt(pctx, p.cfg.URL, p.write, &opts)
	}
	// The library reports a push cut short by cancellation as success:
	// on shutdown, record nothing.
	if ctx.Err() != nil {
		return ctx.Err()
	}
	p.record(err == nil)
	return err
}

// headerLines are the push's headers as PushOptions takes them, credentials
// read now.
func (p *Pusher) headerLines(ctx context.Context) ([]string, error) {
	lines := make([]string, len(p.headers))
	for i, h := range p.headers {
		var err error
		if lines[i], err = h(ctx); err != nil {
			return nil, err
		}
	}
	return lines, nil
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
