package hatest

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-kit/log"
	"gopkg.in/yaml.v3"

	"github.com/kpiwatch/kpiwatch/internal/realserver"
)

// repo is the repository root, from internal/hatest.
const repo = "../.."

// runEnv must be set for the test to run: it builds Thanos and takes minutes,
// so `make test` leaves it to `make test-ha`.
const runEnv = "KPIWATCH_TEST_HA"

// Timings shortened for the test; everything else is the generated
// configuration as it is.
const (
	interval      = "5s"  // scrape and rule evaluation
	groupWait     = "5s"  // Alertmanager's route group_wait (generated: 30s)
	groupInterval = "10s" // and group_interval: any change to a group is re-sent within the test
)

// deadline bounds every wait: generous, since the machine is shared.
const deadline = 5 * time.Minute

// history is the query that finds backfilled history a year ago.
const history = `count(last_over_time(kpi_value{job="kpiwatch"}[1d]))`

func TestHAUnderFaults(t *testing.T) {
	if os.Getenv(runEnv) == "" {
		t.Skip("the HA fault test runs with `make test-ha` (" + runEnv + "=1): it builds Thanos and takes minutes")
	}
	logger := log.With(log.NewLogfmtLogger(log.NewSyncWriter(testWriter{t})), "ts", log.DefaultTimestampUTC, "test", "ha")
	work := t.TempDir()
	kpiwatch := buildKpiwatch(t, work)
	thanos := buildThanos(t)
	s := &stack{t: t, work: work, kpiwatch: kpiwatch, thanos: thanos, hook: &webhook{}}
	t.Cleanup(s.logExited)
	s.start(logger)

	// Before any fault: the missed target fires and every group is delivered,
	// the sidecar has shipped the backfilled blocks and the store gateway
	// serves them.
	started := time.Now()
	realserver.WaitFor(t, deadline, "a KPITargetMissed notification at the webhook", func() bool {
		return slices.ContainsFunc(s.hook.deliveries(), func(d delivery) bool { return d.GroupLabels["alertname"] == "KPITargetMissed" })
	})
	firstMissed := time.Since(started)
	realserver.WaitFor(t, deadline, "every active alert group delivered", func() bool { return len(s.undelivered()) == 0 })
	realserver.WaitFor(t, deadline, "the backfilled blocks in the bucket and loaded by the store gateway", func() bool {
		return s.shippedHistory() && metricValue(s.store.URL(), "thanos_bucket_store_blocks_loaded") >= 1
	})
	var before float64
	realserver.WaitFor(t, deadline, "the backfilled history a year ago through the query layer", func() bool {
		before = s.queryCount(t, history, time.Now().AddDate(-1, 0, 0))
		return before > 0
	})
	if n := promCount(t, s.prom[1].URL(), history, time.Now().AddDate(-1, 0, 0)); n != 0 {
		t.Fatalf("replica b holds %v backfilled series: the history check would not show the bucket keeps it", n)
	}
	s.checkDedup(t)
	_ = logger.Log("msg", "steady state", "first_missed_notification", firstMissed.Round(time.Second), "groups", len(s.activeGroups(t)), "history_series_a_year_ago", before)

	board := s.boardQueries(t)
	poll := s.pollBoards(board)

	// The faults: one scraper (Prometheus a with its sidecar), one
	// Alertmanager peer and one exporter replica crash.
	killed := time.Now()
	s.killed = map[*realserver.Server]bool{}
	for _, srv := range []*realserver.Server{s.prom[0], s.sidecar[0], s.am[0], s.exporter[0]} {
		srv.Kill()
		s.killed[srv] = true
	}
	_ = logger.Log("msg", "killed", "prometheus", "a", "sidecar", "a", "alertmanager_peer", 1, "exporter", 1)
	realserver.WaitFor(t, deadline, "replica b's first good scrape after the exporter was killed", func() bool {
		return s.scrapedSince(s.prom[1].URL(), killed)
	})
	exporterFailover := time.Since(killed)

	// Replica a loses its data folder and starts again, empty.
	if err := os.RemoveAll(filepath.Join(s.promDir[0], "data")); err != nil {
		t.Fatal(err)
	}
	lost := s.queryCount(t, history, time.Now().AddDate(-1, 0, 0))
	restarted := time.Now()
	s.startReplica(0)
	promReady := time.Since(restarted)
	realserver.WaitFor(t, deadline, "replica a's fresh data through the query layer", func() bool {
		return s.queryCountNoDedup(`up{job="kpiwatch",replica="a"} == 1`) > 0
	})
	promQueryable := time.Since(restarted)
	realserver.WaitFor(t, deadline, "replica a's KPITargetMissed firing again", func() bool {
		return slices.ContainsFunc(alerts(s.prom[0].URL()), func(a alert) bool {
			return a.Labels["alertname"] == "KPITargetMissed" && a.State == "firing"
		})
	})
	promAlerting := time.Since(restarted)
	after := s.queryCount(t, history, time.Now().AddDate(-1, 0, 0))

	// The Alertmanager peer and the exporter come back.
	restarted = time.Now()
	s.startAlertmanager(0)
	_ = logger.Log("msg", "alertmanager peer 1 restarted")
	realserver.WaitFor(t, deadline, "three Alertmanager peers again", func() bool {
		return clusterPeers(s.am[1].URL()) == 3 && clusterPeers(s.am[0].URL()) == 3
	})
	amRejoin := time.Since(restarted)
	restarted = time.Now()
	s.startExporter(0)
	exporterBack := time.Since(restarted)

	// Wait until every peer (the restarted one too) has taken each group
	// through its notification pipeline twice since, so that a duplicate
	// any of them would send has been sent.
	groups := len(s.activeGroups(t))
	for i, am := range s.am {
		base := metricValue(am.URL(), "alertmanager_nflog_queries_total")
		realserver.WaitFor(t, deadline, fmt.Sprintf("Alertmanager peer %d to pass every group twice through its pipeline", i+1), func() bool {
			return metricValue(am.URL(), "alertmanager_nflog_queries_total")-base >= float64(2*groups)
		})
	}
	s.checkDedup(t)
	final := s.queryCount(t, history, time.Now().AddDate(-1, 0, 0))
	polls := poll.stop()

	// What the leaders and owners would have seen.
	missing := s.undelivered()
	report := s.hook.report(peerPath(0), killed)
	_ = logger.Log("msg", "deliveries", "groups", groups, "deliveries", report.deliveries, "groups_delivered", report.groups,
		"duplicates", report.duplicates, "of_which_lost_with_the_killed_peer", len(report.lost), "updates", report.updates,
		"resolved", report.resolved, "undelivered", len(missing))
	for _, d := range report.lost {
		_ = logger.Log("msg", "sent again: the killed peer notified just before its death", "group", d)
	}
	_ = logger.Log("msg", "board queries through thanos query", "board", overviewBoard, "distinct_queries", len(board), "polls", polls.polls, "queries", polls.queries, "errors", polls.errors, "partial_response_warnings", polls.warnings)
	_ = logger.Log("msg", "history a year ago", "series_before", before, "folder_lost", lost, "replica_back_empty", after, "at_the_end", final)
	_ = logger.Log("msg", "recovery", "exporter_failover", exporterFailover.Round(time.Millisecond),
		"prometheus_ready", promReady.Round(time.Millisecond), "prometheus_in_query_layer", promQueryable.Round(time.Millisecond),
		"prometheus_alerting", promAlerting.Round(time.Millisecond), "alertmanager_rejoined", amRejoin.Round(time.Millisecond),
		"exporter_ready", exporterBack.Round(time.Millisecond), "total", time.Since(started).Round(time.Second))

	for _, m := range missing {
		t.Errorf("alert group never delivered: %s", m)
	}
	for _, d := range report.duplicateKeys {
		t.Errorf("delivered more than once: %s", d)
	}
	if report.resolved > 0 {
		t.Errorf("%d notifications said alerts resolved, though the missed targets were never met", report.resolved)
	}
	if polls.errors > 0 {
		t.Errorf("%d of %d board queries failed through the query layer, e.g. %s", polls.errors, polls.queries, polls.firstError)
	}
	if lost != before || after != before || final != before {
		t.Errorf("backfilled series a year ago: %v before the data folder was lost, %v once lost, %v once the replica was back, empty, and %v at the end",
			before, lost, after, final)
	}
}

// stack is the layout under test.
type stack struct {
	t                *testing.T
	work             string
	kpiwatch, thanos string
	hook             *webhook
	hookURL          string

	exporter     [2]*realserver.Server
	exporterAddr [2]string
	proxy        *failover

	amAddr, amCluster [3]string
	amDir             [3]string
	am                [3]*realserver.Server
	amConfig          [3]string // one per peer: each posts to its own webhook path

	promAddr, promDir [2]string
	prom              [2]*realserver.Server
	sidecarAddr       [2][2]string // http, grpc
	sidecar           [2]*realserver.Server
	bucket            string
	store, query      *realserver.Server
	storeGRPC         string
	rules             string
	unitsEndpoint     bool
	replicas          [2]string
	killed            map[*realserver.Server]bool // by the test
}

func (s *stack) start(logger log.Logger) {
	t := s.t
	s.replicas = [2]string{"a", "b"}
	hookSrv := httptest.NewServer(s.hook)
	t.Cleanup(hookSrv.Close)
	s.hookURL = hookSrv.URL + "/"
	s.rules = shortenedRules(t, s.work)
	s.amConfig = s.alertmanagerConfigs()
	s.bucket = filepath.Join(s.work, "bucket")
	realserver.WriteFile(t, s.work, "bucket.yml", []byte(fmt.Sprintf("type: FILESYSTEM\nconfig:\n  directory: %q\n", s.bucket)))

	for i := range s.exporterAddr {
		s.exporterAddr[i] = realserver.FreeAddr(t)
		s.startExporter(i)
	}
	s.proxy = newFailover(t, s.exporterAddr[:])
	s.unitsEndpoint = answers200("http://" + s.proxy.addr + "/metrics/units")

	for i := range s.am {
		s.amAddr[i], s.amCluster[i] = realserver.FreeAddr(t), realserver.FreeAddr(t)
		s.amDir[i] = mkdir(t, s.work, fmt.Sprintf("alertmanager-%d", i+1))
	}
	for i := range s.am {
		s.startAlertmanager(i)
	}

	// History goes to replica a only: it reaches the bucket through a's
	// sidecar, and after a loses its folder only the bucket has it.
	for i, r := range s.replicas {
		s.promAddr[i] = realserver.FreeAddr(t)
		s.promDir[i] = mkdir(t, s.work, "prometheus-"+r)
		s.sidecarAddr[i] = [2]string{realserver.FreeAddr(t), realserver.FreeAddr(t)}
		realserver.WriteFile(t, s.promDir[i], "prometheus.yml", []byte(s.prometheusConfig(r)))
	}
	s.backfill(filepath.Join(s.promDir[0], "data"))
	for i := range s.replicas {
		s.startReplica(i)
	}

	s.storeGRPC = realserver.FreeAddr(t)
	storeDir := mkdir(t, s.work, "store")
	s.store = realserver.StartAt(t, realserver.Spec{
		Name: "thanos store", Binary: s.thanos,
		Args: func(addr, dir string) []string {
			return []string{"store", "--data-dir=" + dir + "/cache", "--objstore.config-file=" + filepath.Join(s.work, "bucket.yml"),
				"--http-address=" + addr, "--grpc-address=" + s.storeGRPC, "--sync-block-duration=5s", "--log.level=warn"}
		},
		ReadyPath: "/-/ready",
	}, realserver.FreeAddr(t), storeDir)
	queryDir := mkdir(t, s.work, "query")
	s.query = realserver.StartAt(t, realserver.Spec{
		Name: "thanos query", Binary: s.thanos,
		Args: func(addr, dir string) []string {
			return []string{"query", "--http-address=" + addr, "--grpc-address=" + realserver.FreeAddr(t),
				"--endpoint.sd-config=" + endpoints(s.sidecarAddr[0][1], s.sidecarAddr[1][1], s.storeGRPC),
				"--query.replica-label=replica", "--query.lookback-delta=23h59m", "--log.level=warn"}
		},
		ReadyPath: "/-/ready",
	}, realserver.FreeAddr(t), queryDir)
	_ = logger.Log("msg", "started", "exporters", strings.Join(s.exporterAddr[:], ","), "scrape_address", s.proxy.addr,
		"units_endpoint", s.unitsEndpoint, "alertmanagers", strings.Join(s.amAddr[:], ","), "prometheus", strings.Join(s.promAddr[:], ","),
		"thanos_query", s.query.Addr, "rule_files", s.rules)
}

// endpoints is Thanos query's endpoint configuration for the Store APIs at
// addrs.
func endpoints(addrs ...string) string {
	type endpoint struct {
		Address string `json:"address"`
	}
	var cfg struct {
		Endpoints []endpoint `json:"endpoints"`
	}
	for _, a := range addrs {
		cfg.Endpoints = append(cfg.Endpoints, endpoint{a})
	}
	b, _ := json.Marshal(cfg)
	return string(b)
}

// logExited shows, when the test failed, the output of every server that
// ended on its own before the test did.
func (s *stack) logExited() {
	if !s.t.Failed() {
		return
	}
	servers := []*realserver.Server{s.store, s.query}
	servers = append(servers, s.exporter[:]...)
	servers = append(servers, s.am[:]...)
	servers = append(servers, s.prom[:]...)
	servers = append(servers, s.sidecar[:]...)
	for _, srv := range servers {
		if srv != nil && srv.Exited() && !s.killed[srv] {
			s.t.Logf("%s exited:\n%s", srv.Name, srv.Log())
		}
	}
}

func (s *stack) startExporter(i int) {
	s.exporter[i] = realserver.StartAt(s.t, realserver.Spec{
		Name: fmt.Sprintf("kpiwatch %d", i+1), Binary: s.kpiwatch,
		Args: func(addr, _ string) []string {
			return []string{"serve", "--web.listen-address=" + addr, "--log.level=warn"}
		},
		ReadyPath: "/-/ready",
	}, s.exporterAddr[i], s.work)
}

func (s *stack) startAlertmanager(i int) {
	var peers []string
	for j, c := range s.amCluster {
		if j != i {
			peers = append(peers, "--cluster.peer="+c)
		}
	}
	s.am[i] = realserver.StartAt(s.t, realserver.Spec{
		Name: fmt.Sprintf("alertmanager %d", i+1), Binary: "prometheus-alertmanager", Package: "prometheus-alertmanager",
		Args: func(addr, dir string) []string {
			return append([]string{"--config.file=" + s.amConfig[i], "--storage.path=" + dir + "/data", "--web.listen-address=" + addr,
				"--cluster.listen-address=" + s.amCluster[i], "--log.level=warn"}, peers...)
		},
		ReadyPath: "/-/ready",
	}, s.amAddr[i], s.amDir[i])
}

// startReplica starts Prometheus replica i and, once it answers, its sidecar.
func (s *stack) startReplica(i int) {
	s.prom[i] = realserver.StartAt(s.t, realserver.Spec{
		Name: "prometheus " + s.replicas[i], Binary: "prometheus", Package: "prometheus",
		Args: func(addr, dir string) []string {
			return []string{"--config.file=" + dir + "/prometheus.yml", "--storage.tsdb.path=" + dir + "/data", "--web.listen-address=" + addr,
				"--storage.tsdb.retention.time=10y", "--query.lookback-delta=23h59m", "--log.level=warn",
				// Blocks are cut and shipped every two hours, never compacted
				// locally: Thanos' sidecar requires it.
				"--storage.tsdb.min-block-duration=2h", "--storage.tsdb.max-block-duration=2h"}
		},
		ReadyPath: "/-/ready",
	}, s.promAddr[i], s.promDir[i])
	s.sidecar[i] = realserver.StartAt(s.t, realserver.Spec{
		Name: "thanos sidecar " + s.replicas[i], Binary: s.thanos,
		Args: func(addr, dir string) []string {
			return []string{"sidecar", "--tsdb.path=" + dir + "/data", "--prometheus.url=http://" + s.promAddr[i],
				"--objstore.config-file=" + filepath.Join(s.work, "bucket.yml"), "--shipper.upload-compacted",
				"--http-address=" + addr, "--grpc-address=" + s.sidecarAddr[i][1], "--log.level=warn"}
		},
		ReadyPath: "/-/ready",
	}, s.sidecarAddr[i][0], s.promDir[i])
}

// prometheusConfig is replica r's configuration: the replica label is
// dropped from the alerts it sends, so that Alertmanager sees the two
// replicas' alerts as one.
func (s *stack) prometheusConfig(r string) string {
	list := func(xs ...string) string { b, _ := json.Marshal(xs); return string(b) }
	var b strings.Builder
	fmt.Fprintf(&b, "global: {scrape_interval: %s, evaluation_interval: %s, external_labels: {replica: %q}}\n", interval, interval, r)
	fmt.Fprintf(&b, "rule_files: %s\n", list(s.rules))
	fmt.Fprintf(&b, "alerting:\n  alert_relabel_configs: [{action: labeldrop, regex: replica}]\n  alertmanagers: [{static_configs: [{targets: %s}]}]\n", list(s.amAddr[:]...))
	fmt.Fprintf(&b, "scrape_configs:\n  - {job_name: kpiwatch, static_configs: [{targets: %s}]}\n", list(s.proxy.addr))
	if s.unitsEndpoint {
		fmt.Fprintf(&b, "  - {job_name: kpiwatch_units, metrics_path: /metrics/units, static_configs: [{targets: %s}]}\n", list(s.proxy.addr))
	}
	return b.String()
}

// alertmanagerConfigs generates Alertmanager's configuration with every
// receiver posting to the test's webhook, and shortens the route's waits.
// Each peer gets its own copy posting to /peer/<n>/, so that a duplicate
// says which peers sent it.
func (s *stack) alertmanagerConfigs() [3]string {
	t := s.t
	dir := mkdir(t, s.work, "generated")
	rcv := realserver.WriteFile(t, s.work, "receivers.yml", []byte(fmt.Sprintf("default:\n  webhook_configs: [{url: %q, send_resolved: true}]\n", s.hookURL+peerPlaceholder+"/")))
	run(t, s.work, s.kpiwatch, "generate", "--alerts.dir="+dir+"/alerts", "--dashboards.dir="+dir+"/dashboards",
		"--deploy.dir="+dir+"/deploy", "--alertmanager.receivers-file="+rcv)
	file := filepath.Join(dir, "alerts", "alertmanager.yml")
	var cfg map[string]any
	decodeFile(t, file, &cfg)
	route, ok := cfg["route"].(map[string]any)
	if !ok {
		t.Fatalf("%s has no route", file)
	}
	route["group_wait"], route["group_interval"] = groupWait, groupInterval
	out, err := yaml.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	var files [3]string
	for i := range files {
		peer := strings.ReplaceAll(string(out), peerPlaceholder, peerPath(i))
		files[i] = realserver.WriteFile(t, filepath.Join(dir, "alerts"), fmt.Sprintf("alertmanager-%d.yml", i+1), []byte(peer))
	}
	return files
}

// peerPlaceholder stands for a peer's own path in the webhook URL.
const peerPlaceholder = "PEER"

// peerPath is Alertmanager peer i's own path at the webhook.
func peerPath(i int) string { return "peer/" + strconv.Itoa(i+1) }

// shortenedRules writes the repository's generated rules with their
// timings shortened (no group interval, no "for").
func shortenedRules(t *testing.T, work string) string {
	var rules struct {
		Groups []map[string]any `yaml:"groups"`
	}
	decodeFile(t, filepath.Join(repo, "alerts", "generated", "kpiwatch.rules.yml"), &rules)
	for _, g := range rules.Groups {
		delete(g, "interval")
		rs, _ := g["rules"].([]any)
		for _, r := range rs {
			if m, ok := r.(map[string]any); ok {
				delete(m, "for")
			}
		}
	}
	if len(rules.Groups) == 0 {
		t.Fatal("the generated rules have no groups")
	}
	out, err := yaml.Marshal(rules)
	if err != nil {
		t.Fatal(err)
	}
	return realserver.WriteFile(t, work, "kpiwatch.rules.yml", out)
}

// backfill writes the sources' history of the last 400 days (enough for
// the check a year ago, and a quarter of the whole history's time) as TSDB
// blocks into dir, labelled as the live series are scraped (through the one
// scrape address).
func (s *stack) backfill(dir string) {
	om := filepath.Join(s.work, "history.om")
	run(s.t, s.work, s.kpiwatch, "backfill", "--format=openmetrics", "--output="+om, "--start="+time.Now().AddDate(0, 0, -400).Format(time.DateOnly),
		"--extra-label=job=kpiwatch", "--extra-label=instance="+s.proxy.addr)
	run(s.t, s.work, realserver.Binary(s.t, "promtool", "prometheus"), "tsdb", "create-blocks-from", "openmetrics", "--max-block-duration=4374h", om, dir)
	if err := os.Remove(om); err != nil {
		s.t.Fatal(err)
	}
}

// shippedHistory reports whether the bucket holds a block from replica a
// that starts more than a year ago (the backfill).
func (s *stack) shippedHistory() bool {
	metas, _ := filepath.Glob(filepath.Join(s.bucket, "*", "meta.json"))
	yearAgo := time.Now().AddDate(-1, 0, 0).UnixMilli()
	for _, m := range metas {
		var meta struct {
			MinTime int64 `json:"minTime"`
			Thanos  struct {
				Labels map[string]string `json:"labels"`
			} `json:"thanos"`
		}
		data, err := os.ReadFile(m)
		if err == nil && json.Unmarshal(data, &meta) == nil && meta.MinTime < yearAgo && meta.Thanos.Labels["replica"] == "a" {
			return true
		}
	}
	return false
}

// checkDedup checks that the query layer returns each series once: as
// many live kpi_status series (the backfill ends at midnight) as one
// replica holds.
func (s *stack) checkDedup(t *testing.T) {
	t.Helper()
	const q = `count(last_over_time(kpi_status[1m]))`
	one := promCount(t, s.prom[1].URL(), q, time.Now())
	if got := s.queryCount(t, q, time.Now()); got != one || one == 0 {
		t.Errorf("%s: %v through the query layer, %v in replica b", q, got, one)
	}
}

// queryCount runs a single-number query through Thanos query, deduplicated.
func (s *stack) queryCount(t *testing.T, q string, at time.Time) float64 {
	t.Helper()
	r, err := instant(s.query.URL(), q, at, url.Values{"dedup": {"true"}})
	if err != nil {
		t.Fatalf("%s through the query layer: %v", q, err)
	}
	return r.sum()
}

func (s *stack) queryCountNoDedup(q string) int {
	r, err := instant(s.query.URL(), q, time.Now(), url.Values{"dedup": {"false"}})
	if err != nil {
		return 0
	}
	return len(r.Data.Result)
}

func promCount(t *testing.T, base, q string, at time.Time) float64 {
	t.Helper()
	r, err := instant(base, q, at, nil)
	if err != nil {
		t.Fatalf("%s on %s: %v", q, base, err)
	}
	return r.sum()
}

// scrapedSince reports whether Prometheus at base scraped the kpiwatch job
// successfully after t.
func (s *stack) scrapedSince(base string, since time.Time) bool {
	var body struct {
		Data struct {
			ActiveTargets []struct {
				ScrapePool string    `json:"scrapePool"`
				Health     string    `json:"health"`
				LastScrape time.Time `json:"lastScrape"`
			} `json:"activeTargets"`
		} `json:"data"`
	}
	if getJSON(base+"/api/v1/targets", &body) != nil {
		return false
	}
	for _, tg := range body.Data.ActiveTargets {
		if tg.ScrapePool == "kpiwatch" && tg.Health == "up" && tg.LastScrape.After(since) {
			return true
		}
	}
	return false
}

// amGroup is an alert group as Alertmanager's API lists it.
type amGroup struct {
	Labels   map[string]string `json:"labels"`
	Receiver struct {
		Name string `json:"name"`
	} `json:"receiver"`
	Alerts []amAlert `json:"alerts"`
}

type amAlert struct {
	Labels map[string]string `json:"labels"`
	Status struct {
		State string `json:"state"`
	} `json:"status"`
}

// activeGroups lists the groups with an alert neither silenced nor
// inhibited, from a peer that was never killed.
func (s *stack) activeGroups(t *testing.T) []amGroup {
	t.Helper()
	var groups, active []amGroup
	if err := getJSON(s.am[1].URL()+"/api/v2/alerts/groups", &groups); err != nil {
		t.Fatal(err)
	}
	for _, g := range groups {
		if slices.ContainsFunc(g.Alerts, func(a amAlert) bool { return a.Status.State == "active" }) {
			active = append(active, g)
		}
	}
	return active
}

// undelivered lists the active alerts (by group) that no notification to
// their group's receiver has carried.
func (s *stack) undelivered() []string {
	var groups []amGroup
	if err := getJSON(s.am[1].URL()+"/api/v2/alerts/groups", &groups); err != nil || len(groups) == 0 {
		return []string{fmt.Sprintf("no groups listed by Alertmanager (%v)", err)}
	}
	delivered := map[string]bool{}
	for _, d := range s.hook.deliveries() {
		for _, a := range d.Alerts {
			delivered[d.Receiver+" "+labelString(d.GroupLabels)+" "+labelString(a.Labels)] = true
		}
	}
	var missing []string
	for _, g := range groups {
		for _, a := range g.Alerts {
			if a.Status.State == "active" && !delivered[g.Receiver.Name+" "+labelString(g.Labels)+" "+labelString(a.Labels)] {
				missing = append(missing, g.Receiver.Name+" "+labelString(g.Labels)+" "+labelString(a.Labels))
			}
		}
	}
	return missing
}

// webhook records every notification Alertmanager posts.
type webhook struct {
	mu  sync.Mutex
	got []delivery
}

type delivery struct {
	peer string    // the Alertmanager peer that sent it, from the path
	at   time.Time // when it arrived

	Receiver    string            `json:"receiver"`
	Status      string            `json:"status"`
	GroupKey    string            `json:"groupKey"`
	GroupLabels map[string]string `json:"groupLabels"`
	Alerts      []struct {
		Status string            `json:"status"`
		Labels map[string]string `json:"labels"`
	} `json:"alerts"`
}

func (w *webhook) ServeHTTP(rw http.ResponseWriter, r *http.Request) {
	d := delivery{peer: strings.Trim(r.URL.Path, "/"), at: time.Now()}
	if err := json.NewDecoder(r.Body).Decode(&d); err != nil {
		http.Error(rw, err.Error(), http.StatusBadRequest)
		return
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	w.got = append(w.got, d)
}

func (w *webhook) deliveries() []delivery {
	w.mu.Lock()
	defer w.mu.Unlock()
	return slices.Clone(w.got)
}

type deliveryReport struct {
	deliveries, groups, duplicates, updates, resolved int
	// lost are the duplicates Alertmanager's at-least-once delivery
	// allows: the group's earlier notification came from the killed peer
	// in the moments before its death, when its notification log entry
	// may not yet have reached the others by gossip.
	lost          []string
	duplicateKeys []string // every other duplicate
}

// gossipWindow bounds how long a peer's notification log entry may take to
// reach the other peers: memberlist gossips every 200ms, a few entries a
// packet, so a burst of notifications takes seconds; under the race
// detector on two cores, 4 of 35 had not arrived 2.4 s after.
const gossipWindow = 10 * time.Second

// report counts the notifications: a duplicate carries the same alerts in
// the same states as an earlier one of its group; an update changes them.
// killedPeer is the webhook path of the peer killed at killedAt.
func (w *webhook) report(killedPeer string, killedAt time.Time) deliveryReport {
	var r deliveryReport
	seen := map[string][]delivery{}
	resent := map[string]bool{} // group key and content sent again after a lost entry
	for _, d := range w.deliveries() {
		r.deliveries++
		content := d.content()
		for _, a := range d.Alerts {
			if a.Status == "resolved" {
				r.resolved++
			}
		}
		prev := seen[d.GroupKey]
		seen[d.GroupKey] = append(prev, d)
		i := slices.IndexFunc(prev, func(p delivery) bool { return p.content() == content })
		switch {
		case len(prev) == 0:
			r.groups++
		case i < 0:
			r.updates++
		default:
			r.duplicates++
			var sent []string
			for _, p := range seen[d.GroupKey] {
				sent = append(sent, p.peer+" at "+p.at.UTC().Format("15:04:05.000"))
			}
			what := d.GroupKey + " (sent by " + strings.Join(sent, ", ") + ")"
			// Another peer may send once what the killed one sent just
			// before dying; the killed peer back, or a second copy, may not.
			first, key := prev[i], d.GroupKey+"\n"+content
			if first.peer == killedPeer && first.at.Before(killedAt) && killedAt.Sub(first.at) < gossipWindow && d.peer != killedPeer && !resent[key] {
				resent[key] = true
				r.lost = append(r.lost, what)
			} else {
				r.duplicateKeys = append(r.duplicateKeys, what)
			}
		}
	}
	return r
}

// content is what a notification says: its alerts and their states.
func (d delivery) content() string {
	var alerts []string
	for _, a := range d.Alerts {
		alerts = append(alerts, a.Status+" "+labelString(a.Labels))
	}
	sort.Strings(alerts)
	return strings.Join(alerts, "\n")
}

// overviewBoard is the generated dashboard whose queries the test polls.
const overviewBoard = "dashboards/generated/dashboards/kpiwatch-overview.json"

// boardQueries are the overview board's queries, every block selected,
// that return data through the query layer before any fault.
func (s *stack) boardQueries(t *testing.T) []string {
	data, err := os.ReadFile(filepath.Join(repo, overviewBoard))
	if err != nil {
		t.Fatal(err)
	}
	var board any
	if err := json.Unmarshal(data, &board); err != nil {
		t.Fatalf("%s: %v", overviewBoard, err)
	}
	var all, answering []string
	var walk func(any)
	walk = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			if e, ok := v["expr"].(string); ok && !slices.Contains(all, e) {
				all = append(all, e)
			}
			for _, c := range v {
				walk(c)
			}
		case []any:
			for _, c := range v {
				walk(c)
			}
		}
	}
	walk(board)
	for _, e := range all {
		q := strings.ReplaceAll(e, `"$block"`, `".*"`)
		// label_replace's "$1" is PromQL's, not a variable.
		if strings.Contains(strings.ReplaceAll(q, `"$1"`, ""), "$") {
			t.Fatalf("%s: a query with a variable the test does not fill: %s", overviewBoard, e)
		}
		if r, err := instant(s.query.URL(), q, time.Now(), nil); err == nil && len(r.Data.Result) > 0 {
			answering = append(answering, q)
		}
	}
	if len(answering) == 0 || len(answering) < len(all)/2 {
		t.Fatalf("only %d of the %d queries of %s return data through the query layer", len(answering), len(all), overviewBoard)
	}
	return answering
}

// poller runs board queries through the query layer, a few every second
// in turn, and counts the failures: an error, or no data from a query that
// had data before the faults.
type poller struct {
	done, stopped chan struct{}
	res           pollResult
}

type pollResult struct {
	polls, queries, errors, warnings int
	firstError                       string
}

func (s *stack) pollBoards(queries []string) *poller {
	const perSecond = 4
	p := &poller{done: make(chan struct{}), stopped: make(chan struct{})}
	go func() {
		defer close(p.stopped)
		tick := time.NewTicker(time.Second)
		defer tick.Stop()
		for next := 0; ; {
			p.res.polls++
			for range perSecond {
				q := queries[next%len(queries)]
				next++
				p.res.queries++
				r, err := instant(s.query.URL(), q, time.Now(), nil)
				if err == nil && len(r.Data.Result) == 0 {
					err = fmt.Errorf("%s: no data", q)
				}
				if err != nil {
					p.res.errors++
					if p.res.firstError == "" {
						p.res.firstError = err.Error()
					}
				} else if len(r.Warnings) > 0 {
					p.res.warnings++
				}
			}
			select {
			case <-p.done:
				return
			case <-tick.C:
			}
		}
	}()
	return p
}

func (p *poller) stop() pollResult {
	close(p.done)
	<-p.stopped
	return p.res
}

// queryResult is a Prometheus (or Thanos) instant query's answer.
type queryResult struct {
	Status string `json:"status"`
	Error  string `json:"error"`
	Data   struct {
		Result []struct {
			Value [2]any `json:"value"`
		} `json:"result"`
	} `json:"data"`
	Warnings []string `json:"warnings"`
}

func (r queryResult) sum() float64 {
	var total float64
	for _, s := range r.Data.Result {
		if v, ok := s.Value[1].(string); ok {
			f, _ := strconv.ParseFloat(v, 64)
			total += f
		}
	}
	return total
}

func instant(base, q string, at time.Time, extra url.Values) (queryResult, error) {
	v := url.Values{"query": {q}, "time": {strconv.FormatInt(at.Unix(), 10)}}
	for k, xs := range extra {
		v[k] = xs
	}
	var r queryResult
	if err := getJSON(base+"/api/v1/query?"+v.Encode(), &r); err != nil {
		return r, err
	}
	if r.Status != "success" {
		return r, fmt.Errorf("%s: %s", q, r.Error)
	}
	return r, nil
}

var client = &http.Client{Timeout: 20 * time.Second}

func getJSON(u string, v any) error {
	resp, err := client.Get(u)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s: %.200s", u, resp.Status, body)
	}
	return json.Unmarshal(body, v)
}

func answers200(u string) bool {
	resp, err := client.Get(u)
	if err != nil {
		return false
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	return resp.StatusCode == http.StatusOK
}

type alert struct {
	Labels map[string]string `json:"labels"`
	State  string            `json:"state"`
}

func alerts(base string) []alert {
	var body struct {
		Data struct {
			Alerts []alert `json:"alerts"`
		} `json:"data"`
	}
	_ = getJSON(base+"/api/v1/alerts", &body)
	return body.Data.Alerts
}

// clusterPeers is the number of peers Alertmanager at base sees, itself
// included, once its cluster has settled.
func clusterPeers(base string) int {
	var body struct {
		Cluster struct {
			Status string `json:"status"`
			Peers  []any  `json:"peers"`
		} `json:"cluster"`
	}
	if getJSON(base+"/api/v2/status", &body) != nil || body.Cluster.Status != "ready" {
		return 0
	}
	return len(body.Cluster.Peers)
}

// metricValue sums a metric's samples on a server's /metrics; -1 if it
// cannot be read.
func metricValue(base, name string) float64 {
	resp, err := client.Get(base + "/metrics")
	if err != nil {
		return -1
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return -1
	}
	total, found := 0.0, false
	for _, line := range strings.Split(string(body), "\n") {
		if !strings.HasPrefix(line, name+" ") && !strings.HasPrefix(line, name+"{") {
			continue
		}
		f, err := strconv.ParseFloat(line[strings.LastIndexByte(line, ' ')+1:], 64)
		if err == nil {
			total, found = total+f, true
		}
	}
	if !found {
		return -1
	}
	return total
}

// failover is the one scrape address in front of the two exporter replicas,
// as a Kubernetes Service or a load balancer would be: each connection goes
// to the next replica that accepts it.
type failover struct {
	addr     string
	backends []string
	next     atomic.Uint32
}

func newFailover(t *testing.T, backends []string) *failover {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	f := &failover{addr: l.Addr().String(), backends: backends}
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go f.serve(c)
		}
	}()
	return f
}

func (f *failover) serve(c net.Conn) {
	defer c.Close()
	first := int(f.next.Add(1))
	for i := range f.backends {
		b, err := net.DialTimeout("tcp", f.backends[(first+i)%len(f.backends)], time.Second)
		if err != nil {
			continue
		}
		defer b.Close()
		go func() { _, _ = io.Copy(b, c) }()
		_, _ = io.Copy(c, b)
		return
	}
}

func labelString(m map[string]string) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		fmt.Fprintf(&b, "%s=%q,", k, m[k])
	}
	return "{" + strings.TrimSuffix(b.String(), ",") + "}"
}

func buildKpiwatch(t *testing.T, work string) string {
	bin := filepath.Join(work, "kpiwatch")
	run(t, repo, "go", "build", "-o", bin, "./cmd/kpiwatch")
	return bin
}

// buildThanos finds or builds Thanos with deploy/ha/build-thanos.sh, and
// skips the test if it cannot be built here.
func buildThanos(t *testing.T) string {
	cmd := exec.Command("deploy/ha/build-thanos.sh")
	cmd.Dir = repo
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Skipf("Thanos cannot be built here, so the HA layout cannot run: %v\n%s", err, stderr.String())
	}
	if msg := strings.TrimSpace(stderr.String()); msg != "" {
		t.Log(msg)
	}
	return strings.TrimSpace(string(out))
}

func run(t *testing.T, dir, name string, args ...string) {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
}

func mkdir(t *testing.T, parent, name string) string {
	dir := filepath.Join(parent, name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

func decodeFile(t *testing.T, name string, v any) {
	t.Helper()
	data, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(data, v); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
}

// testWriter sends the test's logfmt lines to t.Log.
type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSuffix(string(p), "\n"))
	return len(p), nil
}
