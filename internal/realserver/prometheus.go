package realserver

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/kpiwatch/kpiwatch/conventions"
)

// PrometheusConfig is what StartPrometheus writes into prometheus.yml.
type PrometheusConfig struct {
	// Targets are the host:port addresses scraped at /metrics as job
	// "kpiwatch", and at conventions.UnitsPath as job "kpiwatch_units"
	// whose series keep the job label "kpiwatch", as deploy/ has it.
	Targets []string
	// UnitsScrapeInterval is how often the units endpoint is scraped; zero
	// takes ScrapeInterval (deployments take 10m).
	UnitsScrapeInterval time.Duration
	// ScrapeInterval and EvaluationInterval default to a second, so that a
	// test sees rules fire in seconds.
	ScrapeInterval, EvaluationInterval time.Duration
	// RuleFiles are the rule files to evaluate (absolute paths).
	RuleFiles []string
	// Alertmanagers are the host:port addresses alerts are sent to.
	Alertmanagers []string

	// Blocks, when set, is a directory of TSDB blocks (promtool tsdb
	// create-blocks-from) that becomes Prometheus' storage: backfilled
	// history. It is moved, not copied.
	Blocks string
	// Args are extra command-line flags (e.g. --enable-feature=...).
	Args []string
}

// Prometheus is a started Prometheus.
type Prometheus struct{ *Server }

// StartPrometheus starts Debian's prometheus on loopback with its own
// storage and the configuration cfg.
func StartPrometheus(t testing.TB, cfg PrometheusConfig) *Prometheus {
	t.Helper()
	return &Prometheus{Start(t, PrometheusSpec(cfg))}
}

// PrometheusSpec says how to start Debian's prometheus with cfg.
func PrometheusSpec(cfg PrometheusConfig) Spec {
	if cfg.ScrapeInterval == 0 {
		cfg.ScrapeInterval = time.Second
	}
	if cfg.EvaluationInterval == 0 {
		cfg.EvaluationInterval = time.Second
	}
	return Spec{
		Name:    "prometheus",
		Binary:  "prometheus",
		Package: "prometheus",
		Args: func(addr, dir string) []string {
			return append([]string{
				"--config.file=" + dir + "/prometheus.yml",
				"--storage.tsdb.path=" + dir + "/data",
				"--web.listen-address=" + addr,
				"--log.level=warn",
			}, cfg.Args...)
		},
		Setup: func(_ *exec.Cmd, dir string) error {
			if cfg.Blocks != "" {
				if err := os.Rename(cfg.Blocks, dir+"/data"); err != nil {
					return err
				}
			}
			return os.WriteFile(dir+"/prometheus.yml", []byte(cfg.yaml()), 0o644)
		},
		ReadyPath: "/-/ready",
	}
}

// yaml is the configuration file. JSON is YAML, and quotes every value
// safely.
func (cfg PrometheusConfig) yaml() string {
	list := func(xs []string) string {
		b, _ := json.Marshal(xs)
		return string(b)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "global: {scrape_interval: %s, evaluation_interval: %s}\n", cfg.ScrapeInterval, cfg.EvaluationInterval)
	fmt.Fprintf(&b, "rule_files: %s\n", list(cfg.RuleFiles))
	if len(cfg.Alertmanagers) > 0 {
		fmt.Fprintf(&b, "alerting: {alertmanagers: [{static_configs: [{targets: %s}]}]}\n", list(cfg.Alertmanagers))
	}
	units := cfg.UnitsScrapeInterval
	if units == 0 {
		units = cfg.ScrapeInterval
	}
	fmt.Fprintf(&b, "scrape_configs:\n- {job_name: kpiwatch, static_configs: [{targets: %s}]}\n", list(cfg.Targets))
	fmt.Fprintf(&b, "- {job_name: kpiwatch_units, scrape_interval: %s, metrics_path: %s, static_configs: [{targets: %s}], metric_relabel_configs: [{target_label: job, replacement: kpiwatch}]}\n",
		units, conventions.UnitsPath, list(cfg.Targets))
	return b.String()
}

// Alert is an alert as Prometheus' /api/v1/alerts lists it.
type Alert struct {
	Labels      map[string]string
	Annotations map[string]string
	State       string // pending or firing
}

// Alerts lists the pending and firing alerts.
func (p *Prometheus) Alerts(t testing.TB) []Alert {
	t.Helper()
	resp, err := http.Get(p.URL() + "/api/v1/alerts")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body struct {
		Status string
		Data   struct{ Alerts []Alert }
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil || body.Status != "success" {
		t.Fatalf("GET /api/v1/alerts: %s: %v", resp.Status, err)
	}
	return body.Data.Alerts
}
