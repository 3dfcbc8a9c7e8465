package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/common/model"

	"github.com/kpiwatch/kpiwatch/conventions"
	"github.com/kpiwatch/kpiwatch/internal/genfile"
)

// job is one scrape job on kpiwatch.
type job struct {
	name, path        string
	interval, timeout time.Duration
}

// Scrape jobs: the main endpoint every cycle, and the unit endpoint, when
// kpiwatch serves one, every -units.interval (its scrape may take longer
// than a cycle, never longer than 5 minutes).
const (
	mainJob  = "kpiwatch"
	unitsJob = "kpiwatch_units"
)

// scrapeJobs are the jobs a TSDB runs on kpiwatch: the unit endpoint's
// only when kpiwatch serves it, so that the harness measures an exporter
// with or without it.
func scrapeJobs(cfg Config, units bool) []job {
	js := []job{{name: mainJob, path: "/metrics", interval: cfg.Interval, timeout: cfg.Interval}}
	if units {
		js = append(js, job{name: unitsJob, path: conventions.UnitsPath, interval: cfg.UnitsInterval, timeout: min(cfg.UnitsInterval, 5*time.Minute)})
	}
	return js
}

// serves says whether kpiwatch answers url with an exposition (not the
// scorecard's page, not a 404). Only the head of the body is read.
func serves(url string) bool {
	resp, err := client.Get(url)
	if err != nil {
		return false
	}
	defer resp.Body.Close()
	ct := resp.Header.Get("Content-Type")
	return resp.StatusCode == http.StatusOK && (strings.HasPrefix(ct, "text/plain") || strings.HasPrefix(ct, "application/openmetrics-text"))
}

// scrapeConfigs is the scrape_configs section for jobs on target; with
// streamParse each job sets VictoriaMetrics' stream_parse (a 1M-series
// scrape otherwise needs some 20 GiB at once).
func scrapeConfigs(js []job, target string, streamParse bool) string {
	var b strings.Builder
	b.WriteString("scrape_configs:\n")
	for _, j := range js {
		fmt.Fprintf(&b, "  - {job_name: %q, metrics_path: %q, scrape_interval: %s, scrape_timeout: %s, static_configs: [{targets: [%q]}]",
			j.name, j.path, shortDuration(j.interval), shortDuration(j.timeout), target)
		if streamParse {
			b.WriteString(", stream_parse: true")
		}
		b.WriteString("}\n")
	}
	return b.String()
}

// shortDuration is d as a Prometheus configuration writes it (1m, 10m,
// 15s).
func shortDuration(d time.Duration) string { return model.Duration(d).String() }

// prometheusYAML is a Prometheus configuration: the jobs on target, the
// rules, and the Alertmanager alerts go to (none without one).
func prometheusYAML(cfg Config, js []job, target string, rules []string, alertmanager string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "global: {scrape_interval: %s, evaluation_interval: %s}\n", shortDuration(cfg.Interval), shortDuration(cfg.Interval))
	if len(rules) > 0 {
		list, _ := json.Marshal(rules)
		fmt.Fprintf(&b, "rule_files: %s\n", list)
	}
	if alertmanager != "" {
		fmt.Fprintf(&b, "alerting: {alertmanagers: [{static_configs: [{targets: [%q]}]}]}\n", alertmanager)
	}
	b.WriteString(scrapeConfigs(js, target, false))
	return b.String()
}

// webhook is the receiver every Alertmanager route posts to: the path's
// first element names the evaluator whose Alertmanager posted. It notes
// when each evaluator's first notification of the missed alert arrives.
type webhook struct {
	alert, kpi string
	mu         sync.Mutex
	first      map[string]time.Time
}

func (h *webhook) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	now := time.Now()
	evaluator, _, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/")
	var body struct {
		Alerts []struct {
			Status string
			Labels map[string]string
		}
	}
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, a := range body.Alerts {
		if a.Status == "firing" && a.Labels["alertname"] == h.alert && a.Labels[conventions.LabelKPI] == h.kpi {
			if _, ok := h.first[evaluator]; !ok {
				h.first[evaluator] = now
			}
		}
	}
}

// received is when evaluator's first notification of the missed alert
// arrived.
func (h *webhook) received(evaluator string) (time.Time, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	t, ok := h.first[evaluator]
	return t, ok
}

// receiversFile routes every owner's alerts, and the rest, to the webhook
// at hook under the placeholder evaluator path, which alertmanagerFor
// replaces.
func receiversFile(path, hook string, owners []string) error {
	var b strings.Builder
	fmt.Fprintf(&b, "default:\n  webhook_configs: [{url: %q}]\nowners:\n", hook+"/"+evaluatorPlaceholder+"/default")
	for _, o := range owners {
		fmt.Fprintf(&b, "  %s:\n    webhook_configs: [{url: %q}]\n", o, hook+"/"+evaluatorPlaceholder+"/"+o)
	}
	return genfile.WriteBytes(path, 0o644, []byte(b.String()))
}

const evaluatorPlaceholder = "EVALUATOR"

// alertmanagerFor writes a copy of the generated Alertmanager configuration
// (routes, group_wait and all) beside it, posting under evaluator's path,
// and returns its path.
func alertmanagerFor(generated, evaluator string) (string, error) {
	b, err := os.ReadFile(generated)
	if err != nil {
		return "", err
	}
	if !bytes.Contains(b, []byte(evaluatorPlaceholder)) {
		return "", fmt.Errorf("%s routes to no webhook of the bench's receivers file", generated)
	}
	out := filepath.Join(filepath.Dir(generated), evaluator+".alertmanager.yml")
	return out, genfile.WriteBytes(out, 0o644, bytes.ReplaceAll(b, []byte(evaluatorPlaceholder), []byte(evaluator)))
}

// boardQuery is one query of a generated board, as Grafana sends it.
type boardQuery struct {
	expr    string
	instant bool
}

// boardQueries reads every query of the boards kpiwatch generated into dir,
// with the boards' variables set as a leader sets them: one KPI, one
// province, every block, owner and source.
func boardQueries(dir string, vars map[string]string) ([]boardQuery, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil || len(files) == 0 {
		return nil, fmt.Errorf("no boards under %s", dir)
	}
	names := make([]string, 0, len(vars))
	for n := range vars {
		names = append(names, n)
	}
	// Longest first, so that $kpi does not eat the start of $kpi_id.
	slices.SortFunc(names, func(a, b string) int { return len(b) - len(a) })
	var pairs []string
	for _, n := range names {
		pairs = append(pairs, "${"+n+"}", vars[n], "$"+n, vars[n])
	}
	subst := strings.NewReplacer(pairs...)
	seen := map[boardQuery]bool{}
	var out []boardQuery
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		var board any
		if err := json.Unmarshal(b, &board); err != nil {
			return nil, fmt.Errorf("%s: %w", f, err)
		}
		eachTarget(board, func(expr string, instant bool) {
			q := boardQuery{expr: subst.Replace(expr), instant: instant}
			if !seen[q] {
				seen[q] = true
				out = append(out, q)
			}
		})
	}
	return out, nil
}

// eachTarget calls f with every query target (an object with an expr) in a
// board's JSON.
func eachTarget(v any, f func(expr string, instant bool)) {
	switch v := v.(type) {
	case map[string]any:
		if expr, ok := v["expr"].(string); ok && expr != "" {
			instant, _ := v["instant"].(bool)
			f(expr, instant)
			return
		}
		for _, c := range v {
			eachTarget(c, f)
		}
	case []any:
		for _, c := range v {
			eachTarget(c, f)
		}
	}
}

// queryStats is how the boards' queries fared at one TSDB.
type queryStats struct {
	run, errors int
	slowest     time.Duration
	firstError  string
}

// runBoardQueries sends each query to base as Grafana would (an instant
// query, or a range over the last window at step), one at a time, each
// with Grafana's default 30 s limit, until ctx ends.
func runBoardQueries(ctx context.Context, base string, qs []boardQuery, window, step time.Duration) queryStats {
	var st queryStats
	for _, q := range qs {
		if ctx.Err() != nil {
			break
		}
		now := time.Now()
		form := url.Values{"query": {q.expr}}
		path := "/api/v1/query"
		if q.instant {
			form.Set("time", strconv.FormatInt(now.Unix(), 10))
		} else {
			path = "/api/v1/query_range"
			form.Set("start", strconv.FormatInt(now.Add(-window).Unix(), 10))
			form.Set("end", strconv.FormatInt(now.Unix(), 10))
			form.Set("step", strconv.FormatFloat(step.Seconds(), 'f', -1, 64))
		}
		qctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		err := promQuery(qctx, base+path, form, nil)
		cancel()
		if ctx.Err() != nil {
			break // the run's time is up: not the query's fault
		}
		st.run++
		st.slowest = max(st.slowest, time.Since(now))
		if err != nil {
			st.errors++
			if st.firstError == "" {
				st.firstError = fmt.Sprintf("%s: %v", q.expr, err)
			}
		}
	}
	return st
}

// promQuery posts a query to a Prometheus-compatible API and decodes the
// data of a successful answer into data (when not nil).
func promQuery(ctx context.Context, endpoint string, form url.Values, data any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, strings.NewReader(form.Encode()))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	var body struct {
		Status, Error string
		Data          json.RawMessage
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		return fmt.Errorf("%s: %w", resp.Status, err)
	}
	if body.Status != "success" {
		return fmt.Errorf("%s: %s", resp.Status, body.Error)
	}
	if data != nil {
		return json.Unmarshal(body.Data, data)
	}
	return nil
}

// scalar runs an instant query that yields at most one series and returns
// its value (NaN when it yields none).
func scalar(base, expr string) (float64, error) {
	var data struct {
		Result []struct{ Value [2]any }
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if err := promQuery(ctx, base+"/api/v1/query", url.Values{"query": {expr}}, &data); err != nil {
		return 0, err
	}
	if len(data.Result) == 0 {
		return math.NaN(), nil
	}
	s, _ := data.Result[0].Value[1].(string)
	return strconv.ParseFloat(s, 64)
}

// scrapeStats is how a TSDB's scrapes of one job went since it started.
type scrapeStats struct {
	longest float64 // seconds
	scrapes float64
	failed  float64 // up == 0
}

// scrapesOf reads the job's scrape_duration_seconds and up, which
// Prometheus and VictoriaMetrics alike record per scrape, over the last
// since.
func scrapesOf(base, jobName string, since time.Duration) (scrapeStats, error) {
	var st scrapeStats
	w := shortDuration(since.Round(time.Second))
	var err error
	if st.longest, err = scalar(base, fmt.Sprintf(`max(max_over_time(scrape_duration_seconds{job=%q}[%s]))`, jobName, w)); err != nil {
		return st, err
	}
	if st.scrapes, err = scalar(base, fmt.Sprintf(`sum(count_over_time(up{job=%q}[%s]))`, jobName, w)); err != nil {
		return st, err
	}
	up, err := scalar(base, fmt.Sprintf(`sum(sum_over_time(up{job=%q}[%s]))`, jobName, w))
	st.failed = st.scrapes - up
	return st, err
}

// familyLines keeps the lines of a text exposition that belong to family
// name (its samples, and its HELP and TYPE), so that a reading from a
// million-series exposition parses a few lines, not all of it.
func familyLines(r io.Reader, name string) (io.Reader, error) {
	var out bytes.Buffer
	br := bufio.NewReaderSize(r, 1<<20)
	for {
		line, err := br.ReadSlice('\n')
		if errors.Is(err, bufio.ErrBufferFull) {
			// A line over a MiB: not one of the self-metrics read here.
			for errors.Is(err, bufio.ErrBufferFull) {
				_, err = br.ReadSlice('\n')
			}
			continue
		}
		if rest, ok := bytes.CutPrefix(line, []byte(name)); ok && len(rest) > 0 && (rest[0] == '{' || rest[0] == ' ') {
			out.Write(line)
		} else if rest, ok := bytes.CutPrefix(line, []byte("# ")); ok && bytes.HasPrefix(rest[min(5, len(rest)):], []byte(name+" ")) {
			out.Write(line)
		}
		if err == io.EOF {
			return &out, nil
		}
		if err != nil {
			return nil, err
		}
	}
}
