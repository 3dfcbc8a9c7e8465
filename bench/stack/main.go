// Command stack measures the whole monitoring stack on a generated
// national-scale catalogue: kpiwatch serving it, Prometheus scraping it and
// evaluating the rules kpiwatch generates for it (beside a rule-free
// Prometheus, so the rules' CPU is the difference), and VictoriaMetrics
// single-node scraping the same exporter with vmalert evaluating the same
// rules, each stack firing into its own Alertmanager. It scrapes /metrics
// every cycle and, when kpiwatch serves it, the unit endpoint every
// -units.interval. After a warm-up it prints head series per observed
// series, samples ingested, scrape and rule-group durations against the
// interval, each server's and each stack's CPU and resident memory, the
// exporter's peak during a reload; then it reloads kpiwatch with a target
// whose deadline has passed and times the missed alert from the exporter's
// judgement to a webhook, while it runs the generated boards' queries and
// counts their errors.
//
//	go run ./bench/stack [-sizes=10000,100000] [-interval=1m] [-stacks=prometheus,victoriametrics]
//
// It needs Debian's prometheus, prometheus-alertmanager and
// victoria-metrics, and builds kpiwatch unless -kpiwatch names a binary.
// Every server listens on 127.0.0.1, is stopped by its PID, and its
// directory removed.
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/kpiwatch/kpiwatch/bench/gen"
	"github.com/kpiwatch/kpiwatch/bench/host"
	"github.com/kpiwatch/kpiwatch/conventions"
	"github.com/kpiwatch/kpiwatch/internal/genfile"
	"github.com/kpiwatch/kpiwatch/internal/realserver"
)

// Config is one run's settings.
type Config struct {
	Sizes         []int
	Interval      time.Duration // scrape of the main endpoint, and evaluation
	UnitsInterval time.Duration // scrape of the unit endpoint, when kpiwatch serves one
	Stacks        []string      // StackPrometheus, StackVictoriaMetrics
	Warmup        int           // cycles before the first reading
	Cycles        int           // cycles between the two readings
	Deliver       time.Duration // how long to wait for the missed target's notification
	FirstScrape   time.Duration // how long, beyond the longest job interval, a TSDB may take to store its first scrape
	MissedAlert   string        // the alert a missed target raises
	HistoryDays   int           // days of backfilled history at HistoryStep
	HistoryStep   time.Duration
	HistoryMax    int // largest size that gets the history
	Kpiwatch      string
	Target        float64 // observed series to project to
}

// The stacks a run can measure; each has its own Alertmanager, so that the
// delivery of each evaluator's alert is timed apart.
const (
	// StackPrometheus is Prometheus with the generated rules, and a second
	// Prometheus without them (the difference in CPU is the rules').
	StackPrometheus = "prometheus"
	// StackVictoriaMetrics is VictoriaMetrics single-node scraping with
	// vmalert evaluating the same rules.
	StackVictoriaMetrics = "victoriametrics"
)

// VMFlags are the VictoriaMetrics flags a million observed series need,
// as deploy/systemd/victoria-metrics.default sets them (a test keeps the
// two the same; the why of each is in deploy/README.md). The scrape jobs
// also set stream_parse.
var VMFlags = []string{
	"-promscrape.maxScrapeSize=2GiB",
	"-search.maxUniqueTimeseries=10000000",
	"-search.maxSamplesPerQuery=1000000000",
	"-search.maxQueryDuration=1m",
	"-search.maxQueueDuration=1m",
	"-memory.allowedPercent=40",
}

// VMAlertFlags are the vmalert flags deploy/ gives it too (a test keeps
// them the same). Aligning each query's time down to the evaluation
// interval, vmalert's default, makes a single vmalert see a scrape up to
// an interval later than it could: a minute of the three a missed target
// may take to reach its owner.
var VMAlertFlags = []string{
	"-datasource.queryTimeAlignment=false",
}

func main() {
	var (
		cfg    Config
		sizes  = flag.String("sizes", "10000,100000", "comma-separated observed-series counts (332100: 100 KPIs x 3,321 communes)")
		stacks = flag.String("stacks", StackPrometheus+","+StackVictoriaMetrics, "the stacks to run side by side")
		out    = flag.String("out", "", "also write the report (Markdown) to this file")
	)
	flag.DurationVar(&cfg.Interval, "interval", time.Minute, "scrape and rule evaluation interval (15s for a quick run)")
	flag.DurationVar(&cfg.UnitsInterval, "units.interval", 10*time.Minute, "scrape interval of kpiwatch's unit endpoint, when it serves one")
	flag.IntVar(&cfg.Warmup, "warmup", 2, "evaluation cycles before the first reading (at least a unit scrape)")
	flag.IntVar(&cfg.Cycles, "cycles", 2, "evaluation cycles between the two readings (CPU rates)")
	flag.DurationVar(&cfg.Deliver, "deliver", 6*time.Minute, "how long to wait for a missed target's notification")
	flag.DurationVar(&cfg.FirstScrape, "first-scrape.timeout", 15*time.Minute, "how long, beyond the longest scrape interval, a TSDB may take to store its first scrape")
	flag.StringVar(&cfg.MissedAlert, "missed.alert", "KPITargetMissed", "the alert a missed target raises")
	flag.IntVar(&cfg.HistoryDays, "history.days", 1, "days of history backfilled into Prometheus before it starts (0: none)")
	flag.DurationVar(&cfg.HistoryStep, "history.step", time.Minute, "time between backfilled samples")
	flag.IntVar(&cfg.HistoryMax, "history.max-series", 10000, "backfill history only up to this many observed series")
	flag.StringVar(&cfg.Kpiwatch, "kpiwatch", "", "kpiwatch binary (default: build ./cmd/kpiwatch)")
	flag.Float64Var(&cfg.Target, "project", 1e6, "observed series to project the costs to")
	flag.Parse()
	var err error
	if cfg.Sizes, err = parseSizes(*sizes); err != nil {
		fmt.Fprintln(os.Stderr, "stack: -sizes:", err)
		os.Exit(2)
	}
	if cfg.Stacks, err = parseStacks(*stacks); err != nil {
		fmt.Fprintln(os.Stderr, "stack: -stacks:", err)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	var w io.Writer = os.Stdout
	var report strings.Builder
	if *out != "" {
		w = io.MultiWriter(os.Stdout, &report)
	}
	if _, err := Run(ctx, cfg, w, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "stack:", err)
		os.Exit(1)
	}
	if *out != "" {
		if err := genfile.WriteBytes(*out, 0o644, []byte(report.String())); err != nil {
			fmt.Fprintln(os.Stderr, "stack:", err)
			os.Exit(1)
		}
	}
}

func parseSizes(s string) ([]int, error) {
	var ns []int
	for _, f := range strings.Split(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < gen.KPIs {
			return nil, fmt.Errorf("%q is not a series count of at least %d", f, gen.KPIs)
		}
		ns = append(ns, n)
	}
	return ns, nil
}

func parseStacks(s string) ([]string, error) {
	var out []string
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		if f != StackPrometheus && f != StackVictoriaMetrics {
			return nil, fmt.Errorf("%q is neither %s nor %s", f, StackPrometheus, StackVictoriaMetrics)
		}
		if !slices.Contains(out, f) {
			out = append(out, f)
		}
	}
	return out, nil
}

// Run measures every size, writes the report to w and progress to logw,
// and returns what it measured.
func Run(ctx context.Context, cfg Config, w, logw io.Writer) ([]Result, error) {
	work, err := os.MkdirTemp("", "kpiwatch-stack-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(work)
	if cfg.Kpiwatch == "" {
		cfg.Kpiwatch = filepath.Join(work, "kpiwatch")
		build := exec.CommandContext(ctx, "go", "build", "-o", cfg.Kpiwatch, "github.com/kpiwatch/kpiwatch/cmd/kpiwatch")
		build.Stdout, build.Stderr = logw, logw
		if err := build.Run(); err != nil {
			return nil, fmt.Errorf("building kpiwatch: %w", err)
		}
	}
	fmt.Fprintf(w, "%s\n\n", machine())
	fmt.Fprintf(w, "stacks: %s; main endpoint scraped and rules evaluated every %s, the unit endpoint (when served) every %s; readings after %d cycles, CPU over the next %d\n\n",
		strings.Join(cfg.Stacks, ", "), cfg.Interval, cfg.UnitsInterval, cfg.Warmup, cfg.Cycles)
	var results []Result
	var notes []string
	for _, n := range cfg.Sizes {
		start := time.Now()
		res, note, err := measureSize(ctx, cfg, filepath.Join(work, strconv.Itoa(n)), n, logw)
		if err != nil {
			return results, fmt.Errorf("%d series: %w", n, err)
		}
		results = append(results, res)
		notes = append(notes, fmt.Sprintf("%s series: %s; measured in %s", count(res.Observed), note, time.Since(start).Round(time.Second)))
	}
	Write(w, results, cfg.Interval, cfg.Target)
	fmt.Fprintln(w)
	for _, n := range notes {
		fmt.Fprintf(w, "- %s\n", n)
	}
	Machines(w, results, cfg.Target)
	return results, nil
}

// machine describes where the numbers come from, and how busy the machine
// was when the run began (it is shared).
func machine() string {
	model := host.CPUModel()
	mem := "? GiB"
	if rss, ok := meminfo("MemTotal"); ok {
		mem = size(rss)
	}
	used := "?"
	if total, ok := meminfo("MemTotal"); ok {
		if avail, ok := meminfo("MemAvailable"); ok {
			used = size(total - avail)
		}
	}
	load, _ := os.ReadFile("/proc/loadavg")
	return fmt.Sprintf("%s; %d CPUs (%s), %s memory (%s in use at the start, load average %s); %s; Debian's %s", time.Now().UTC().Format("2006-01-02 15:04 MST"),
		runtime.NumCPU(), model, mem, used, strings.Join(strings.Fields(string(load))[:min(3, len(strings.Fields(string(load))))], " "),
		runtime.Version(), versions("prometheus", "prometheus-alertmanager", "victoria-metrics"))
}

// versions lists the installed Debian packages' versions (victoria-metrics
// binaries print none).
func versions(pkgs ...string) string {
	b, _ := exec.Command("dpkg-query", append([]string{"-W", "-f", "${Package} ${Version}, "}, pkgs...)...).Output()
	return strings.TrimSuffix(string(b), ", ")
}

func meminfo(key string) (float64, bool) {
	f, err := os.ReadFile("/proc/meminfo")
	if err != nil {
		return 0, false
	}
	for _, l := range strings.Split(string(f), "\n") {
		if k, v, ok := strings.Cut(l, ":"); ok && k == key {
			kb, err := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 64)
			return kb * 1024, err == nil
		}
	}
	return 0, false
}

// stack is the servers of one size; those of a stack not run stay nil.
type stack struct {
	kpiwatch    *realserver.Process
	kpiwatchURL string
	prom        *realserver.Server
	// bare is a second Prometheus scraping the same exporter without the
	// rules (nor the backfilled history, which rules do not read): the
	// difference in CPU between the two is what the rules cost.
	bare        *realserver.Server
	promAM      *realserver.Server
	vm, vmalert *realserver.Server
	vmAM        *realserver.Server
	started     map[string]time.Time // when each TSDB started
	stopped     []func()
	hook        *webhook
	hookURL     string
}

func (s *stack) stop() {
	for i := len(s.stopped) - 1; i >= 0; i-- {
		s.stopped[i]()
	}
}

func (s *stack) run(spec realserver.Spec) (*realserver.Server, error) {
	srv, err := realserver.Run(spec)
	if err != nil {
		return nil, err
	}
	s.stopped = append(s.stopped, srv.Stop)
	return srv, nil
}

// Process names, for CPU and memory.
const (
	procKpiwatch = "kpiwatch"
	procProm     = "prometheus"
	procBare     = "prometheus-bare"
	procPromAM   = "alertmanager-prometheus"
	procVM       = "victoria-metrics"
	procVMAlert  = "vmalert"
	procVMAM     = "alertmanager-victoriametrics"
)

// pids are the started servers' process ids.
func (s *stack) pids() map[string]int {
	out := map[string]int{procKpiwatch: s.kpiwatch.Cmd.Process.Pid}
	for name, srv := range map[string]*realserver.Server{procProm: s.prom, procBare: s.bare, procPromAM: s.promAM, procVM: s.vm, procVMAlert: s.vmalert, procVMAM: s.vmAM} {
		if srv != nil {
			out[name] = srv.Cmd.Process.Pid
		}
	}
	return out
}

// The processes each stack is made of, as a deployment runs it (the bare
// Prometheus is the bench's, not the deployment's).
var (
	promStack = []string{procKpiwatch, procProm, procPromAM}
	vmStack   = []string{procKpiwatch, procVM, procVMAlert, procVMAM}
)

func measureSize(ctx context.Context, cfg Config, dir string, n int, logw io.Writer) (Result, string, error) {
	var res Result
	runProm, runVM := slices.Contains(cfg.Stacks, StackPrometheus), slices.Contains(cfg.Stacks, StackVictoriaMetrics)
	res.Prom, res.VM = runProm, runVM
	progress := func(format string, args ...any) {
		fmt.Fprintf(logw, "%s %d series: %s\n", time.Now().UTC().Format("15:04:05"), n, fmt.Sprintf(format, args...))
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return res, "", err
	}
	defer os.RemoveAll(dir)
	bench := gen.New(n)
	catFile, err := bench.Write(dir)
	if err != nil {
		return res, "", err
	}
	s := &stack{started: map[string]time.Time{}}
	defer s.stop()
	if err := s.listen(cfg, bench.Missed()); err != nil {
		return res, "", err
	}
	// The rules, Alertmanager configuration and boards kpiwatch generates
	// for this catalogue, whatever they are, with every route posting to
	// the bench's webhook.
	alertsDir := filepath.Join(dir, "alerts")
	receivers := filepath.Join(dir, "receivers.yml")
	if err := receiversFile(receivers, s.hookURL, []string{gen.Owner}); err != nil {
		return res, "", err
	}
	if out, err := exec.CommandContext(ctx, cfg.Kpiwatch, "generate", "--config.file="+catFile, "--alerts.dir="+alertsDir,
		"--alertmanager.receivers-file="+receivers, "--dashboards.dir="+filepath.Join(dir, "dashboards"),
		"--deploy.dir="+filepath.Join(dir, "deploy")).CombinedOutput(); err != nil {
		return res, "", fmt.Errorf("kpiwatch generate: %v\n%s", err, out)
	}
	ruleFiles, err := filepath.Glob(filepath.Join(alertsDir, "*.rules.yml"))
	if err != nil || len(ruleFiles) == 0 {
		return res, "", fmt.Errorf("kpiwatch generate wrote no *.rules.yml under %s", alertsDir)
	}
	var rules []Rule
	for _, f := range ruleFiles {
		rs, err := ReadRules(f)
		if err != nil {
			return res, "", err
		}
		rules = append(rules, rs...)
	}
	widest, groups := Widest(rules)
	res.Rules, res.Groups = len(rules), groups
	res.MaxSamples = widest.SamplesPerSeries(cfg.Interval)
	widestNote := fmt.Sprintf("the widest rule, %s (group %s), reads %s of history per series: %s samples at a %s scrape", widest.Name, widest.Group,
		model.Duration(widest.Window), count(float64(res.MaxSamples)), cfg.Interval)
	if widest.Window == 0 {
		widestNote = fmt.Sprintf("no rule reads a range: each reads the latest sample of each series (%d rules)", len(rules))
	}
	notes := []string{widestNote}
	queries, err := boardQueries(filepath.Join(dir, "dashboards", "dashboards"), map[string]string{
		// One KPI and one province as a leader picks them; every block,
		// owner and source (Grafana's "All" as a regular expression).
		"kpi": bench.Missed(), "province": bench.Communes[0].Province.Name, "block": ".*", "owner": ".*", "source": ".*",
		"__rate_interval": "5m", "__interval": shortDuration(cfg.Interval), "__range": "15m",
	})
	if err != nil {
		return res, "", err
	}

	addr, err := realserver.LoopbackAddr()
	if err != nil {
		return res, "", err
	}
	var blocks string
	if runProm && cfg.HistoryDays > 0 && n <= cfg.HistoryMax {
		progress("backfilling %d days at %s", cfg.HistoryDays, cfg.HistoryStep)
		h, err := backfill(ctx, cfg, dir, catFile, addr)
		if err != nil {
			return res, "", err
		}
		blocks = h.blocks
		notes = append(notes, h.String(cfg))
	}

	progress("starting kpiwatch")
	p, err := realserver.Launch(exec.CommandContext(ctx, cfg.Kpiwatch, "serve", "--config.file="+catFile, "--web.listen-address="+addr, "--web.enable-lifecycle", "--log.level=warn"))
	if err != nil {
		return res, "", err
	}
	s.stopped = append(s.stopped, p.Stop)
	s.kpiwatch, s.kpiwatchURL = p, "http://"+addr
	if !realserver.Eventually(5*time.Minute, func() bool {
		v, err := scrapeSum(s.kpiwatchURL+"/metrics", conventions.CollectorSeries)
		return err == nil && v > 0 || p.Exited()
	}) || p.Exited() {
		return res, "", fmt.Errorf("kpiwatch did not serve its series:\n%s", p.Log())
	}
	res.Units = serves(s.kpiwatchURL + conventions.UnitsPath)
	js := scrapeJobs(cfg, res.Units)
	if res.Units {
		notes = append(notes, fmt.Sprintf("kpiwatch serves %s: scraped every %s as job %s", conventions.UnitsPath, cfg.UnitsInterval, unitsJob))
	} else {
		notes = append(notes, fmt.Sprintf("kpiwatch serves no %s: every series is on /metrics, scraped every %s", conventions.UnitsPath, cfg.Interval))
	}
	if runProm {
		progress("starting Alertmanager, Prometheus and a Prometheus without rules")
		if err := s.startPrometheus(cfg, dir, js, addr, ruleFiles, blocks, filepath.Join(alertsDir, "alertmanager.yml")); err != nil {
			return res, "", err
		}
	}
	if runVM {
		progress("starting Alertmanager, VictoriaMetrics and vmalert")
		if err := s.startVictoriaMetrics(cfg, dir, js, addr, ruleFiles, filepath.Join(alertsDir, "alertmanager.yml")); err != nil {
			return res, "", err
		}
	}

	// On a busy machine a TSDB's first scrape of a few hundred thousand
	// series can take minutes to append: the warm-up counts from the end
	// of the first scrape of every job at every TSDB (each job's first
	// scrape falls anywhere in its first interval).
	progress("waiting for every TSDB's first scrape of every job")
	first := time.Now()
	if err := s.firstScrapes(ctx, js, cfg.FirstScrape); err != nil {
		return res, "", err
	}
	notes = append(notes, fmt.Sprintf("the first scrape of every job was stored %s after the TSDBs started", time.Since(first).Round(time.Second)))
	progress("warming up for %d cycles of %s", cfg.Warmup, cfg.Interval)
	if err := sleep(ctx, time.Duration(cfg.Warmup)*cfg.Interval); err != nil {
		return res, "", err
	}
	pids := s.pids()
	cpu0, t0 := cpuSeconds(pids), time.Now()
	appended0 := s.appended()
	progress("measuring for %d cycles", cfg.Cycles)
	if err := sleep(ctx, time.Duration(cfg.Cycles)*cfg.Interval); err != nil {
		return res, "", err
	}
	cpu1, t1 := cpuSeconds(pids), time.Now()
	appended1 := s.appended()
	minutes := t1.Sub(t0).Minutes()
	rate := func(name string) float64 { return (cpu1[name] - cpu0[name]) / t1.Sub(t0).Seconds() }
	res.ExporterCPU = rate(procKpiwatch)
	res.PromCPU, res.BarePromCPU, res.AMCPU = rate(procProm), rate(procBare), rate(procPromAM)
	res.VMCPU, res.VMAlertCPU, res.VMAMCPU = rate(procVM), rate(procVMAlert), rate(procVMAM)
	rss, peak := map[string]float64{}, map[string]float64{}
	for name, pid := range pids {
		rss[name], peak[name] = memory(pid)
	}
	res.ExporterRSS = rss[procKpiwatch]
	res.PromRSS, res.BarePromRSS, res.AMRSS = rss[procProm], rss[procBare], rss[procPromAM]
	res.VMRSS, res.VMAlertRSS, res.VMAMRSS = rss[procVM], rss[procVMAlert], rss[procVMAM]
	for _, p := range promStack {
		res.PromStackCPU += rate(p)
		res.PromStackRSS += rss[p]
		res.PromStackPeak += peak[p]
	}
	for _, p := range vmStack {
		res.VMStackCPU += rate(p)
		res.VMStackRSS += rss[p]
		res.VMStackPeak += peak[p]
	}
	res.PromAppended = (appended1[procProm] - appended0[procProm]) / minutes
	res.BareAppended = (appended1[procBare] - appended0[procBare]) / minutes
	res.VMAppended = (appended1[procVM] - appended0[procVM]) / minutes

	// A server too busy to answer loses its reading, not the run.
	read := func(what string, into *float64, f func() (float64, error)) {
		v, err := f()
		if err != nil {
			v = math.NaN()
			notes = append(notes, fmt.Sprintf("no reading of %s: %v", what, err))
		}
		*into = v
	}
	read("kpiwatch's "+conventions.CollectorSeries, &res.Observed, func() (float64, error) {
		return scrapeSum(s.kpiwatchURL+"/metrics", conventions.CollectorSeries)
	})
	if runProm {
		for _, m := range []struct {
			name string
			into *float64
			f    func(io.Reader, string) (float64, error)
		}{
			{"prometheus_tsdb_head_series", &res.PromHeadSeries, sumFamily},
			{"prometheus_rule_group_last_duration_seconds", &res.PromRuleSeconds, sumFamily},
			{"prometheus_rule_group_last_duration_seconds", &res.PromLongestGroup, maxFamily},
			{"prometheus_rule_group_iterations_missed_total", &res.PromMissed, sumFamily},
		} {
			read("Prometheus' "+m.name, m.into, func() (float64, error) { return readFamily(s.prom.URL()+"/metrics", m.name, m.f) })
		}
		read("the bare Prometheus' head series", &res.BareHeadSeries, func() (float64, error) {
			return scrapeSum(s.bare.URL()+"/metrics", "prometheus_tsdb_head_series")
		})
		notes = append(notes, s.scrapeNotes(&res, "Prometheus", s.prom.URL(), s.started[procProm], js)...)
	}
	if runVM {
		read("vmalert's vmalert_iteration_duration_seconds", &res.VMAlertSeconds, func() (float64, error) {
			total, longest, err := vmalertCycle(s.vmalert.URL() + "/metrics")
			res.VMAlertLongestGroup = longest
			return total, err
		})
		read("VictoriaMetrics' series", &res.VMSeries, func() (float64, error) { return vmActiveSeries(s.vm.URL()) })
		notes = append(notes, s.scrapeNotes(&res, "VictoriaMetrics", s.vm.URL(), s.started[procVM], js)...)
	}

	progress("reading the expositions' sizes")
	if res.Exposition, err = bodySize(s.kpiwatchURL + "/metrics"); err != nil {
		return res, "", err
	}
	if res.Units {
		if res.UnitsExposition, err = bodySize(s.kpiwatchURL + conventions.UnitsPath); err != nil {
			return res, "", err
		}
	}

	// The state that fires: the first KPI's deadline passes (the catalogue
	// is reloaded with its target due yesterday), so the exporter judges it
	// missed at this reload's render. From the end of the reload to each
	// evaluator's first webhook notification is the delivery.
	progress("reloading kpiwatch with %s's deadline passed; waiting up to %s for %s, running the boards' %d queries meanwhile", bench.Missed(), cfg.Deliver, cfg.MissedAlert, len(queries))
	if _, err := bench.Miss(time.Now()).Write(dir); err != nil {
		return res, "", err
	}
	reloadStart := time.Now()
	took, reloadPeak, err := reloadPeak(s.kpiwatchURL, s.kpiwatch.Cmd.Process.Pid)
	if err != nil {
		return res, "", err
	}
	judged := reloadStart.Add(took)
	res.ReloadPeak = reloadPeak
	notes = append(notes, fmt.Sprintf("kpiwatch reloaded in %s", took.Round(time.Millisecond)))
	dctx, cancel := context.WithDeadline(ctx, judged.Add(cfg.Deliver))
	var wg sync.WaitGroup
	var promQ, vmQ queryStats
	if runProm {
		wg.Go(func() { promQ = runBoardQueries(dctx, s.prom.URL(), queries, 15*time.Minute, cfg.Interval) })
	}
	if runVM {
		wg.Go(func() { vmQ = runBoardQueries(dctx, s.vm.URL(), queries, 15*time.Minute, cfg.Interval) })
	}
	for dctx.Err() == nil {
		_, promDone := s.hook.received(StackPrometheus)
		_, vmDone := s.hook.received(StackVictoriaMetrics)
		if (promDone || !runProm) && (vmDone || !runVM) {
			break
		}
		_ = sleep(dctx, time.Second)
	}
	wg.Wait()
	cancel()
	if ctx.Err() != nil {
		return res, "", ctx.Err()
	}
	delivery := func(evaluator string) float64 {
		if t, ok := s.hook.received(evaluator); ok {
			return t.Sub(judged).Seconds()
		}
		notes = append(notes, fmt.Sprintf("%s: no %s{kpi=%q} reached the webhook within %s of the exporter judging it", evaluator, cfg.MissedAlert, bench.Missed(), cfg.Deliver))
		return math.NaN()
	}
	queryNote := func(name string, q queryStats) {
		note := fmt.Sprintf("%s answered %d of the boards' %d queries (slowest %s) with %d errors", name, q.run, len(queries), q.slowest.Round(time.Millisecond), q.errors)
		if q.firstError != "" {
			note += ", the first: " + q.firstError
		}
		notes = append(notes, note)
	}
	if runProm {
		res.PromDelivery = delivery(StackPrometheus)
		res.PromQueries, res.PromQueryErrors = float64(promQ.run), float64(promQ.errors)
		queryNote("Prometheus", promQ)
		var pending, firing, held float64
		read("Prometheus' alerts", &pending, func() (float64, error) {
			var err error
			pending, firing, err = promAlerts(s.prom.URL())
			return pending, err
		})
		read("Alertmanager's alerts", &held, func() (float64, error) { return alertCount(s.promAM.URL()) })
		notes = append(notes, fmt.Sprintf("Prometheus has %s alerts pending and %s firing; its Alertmanager holds %s", count(pending), count(firing), count(held)))
	}
	if runVM {
		res.VMDelivery = delivery(StackVictoriaMetrics)
		res.VMQueries, res.VMQueryErrors = float64(vmQ.run), float64(vmQ.errors)
		queryNote("VictoriaMetrics", vmQ)
		var held float64
		read("Alertmanager's alerts", &held, func() (float64, error) { return alertCount(s.vmAM.URL()) })
		notes = append(notes, fmt.Sprintf("vmalert's Alertmanager holds %s alerts", count(held)))
	}

	res.SamplesRead = math.NaN()
	if runProm {
		progress("querying every rule's expression with its sample statistics")
		qctx, cancel := context.WithTimeout(ctx, time.Duration(cfg.Cycles+1)*cfg.Interval)
		samples, done, err := querySamples(qctx, s.prom.URL(), rules)
		cancel()
		switch {
		case err != nil && ctx.Err() != nil:
			return res, "", ctx.Err()
		case err != nil:
			notes = append(notes, fmt.Sprintf("reading the rules' sample statistics stopped after %d of %d rules: %v", done, len(rules), err))
		default:
			res.SamplesRead = samples
		}
	}
	return res, strings.Join(notes, "; "), nil
}

// listen starts the webhook every Alertmanager posts to.
func (s *stack) listen(cfg Config, missed string) error {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	s.hook = &webhook{alert: cfg.MissedAlert, kpi: missed, first: map[string]time.Time{}}
	srv := &http.Server{Handler: s.hook, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	s.stopped = append(s.stopped, func() { _ = srv.Close() })
	s.hookURL = "http://" + ln.Addr().String()
	return nil
}

// startPrometheus starts the Prometheus stack: Alertmanager, Prometheus
// with the rules (and the backfilled blocks), and a bare Prometheus.
func (s *stack) startPrometheus(cfg Config, dir string, js []job, target string, ruleFiles []string, blocks, amConfig string) error {
	amFile, err := alertmanagerFor(amConfig, StackPrometheus)
	if err != nil {
		return err
	}
	if s.promAM, err = s.run(realserver.AlertmanagerSpec(amFile)); err != nil {
		return err
	}
	spec := func(rules []string, am, blocks string, args ...string) realserver.Spec {
		spec := realserver.PrometheusSpec(realserver.PrometheusConfig{Blocks: blocks, Args: args})
		setup := spec.Setup
		spec.Setup = func(cmd *exec.Cmd, dir string) error {
			if err := setup(cmd, dir); err != nil {
				return err
			}
			return genfile.WriteBytes(filepath.Join(dir, "prometheus.yml"), 0o644, []byte(prometheusYAML(cfg, js, target, rules, am)))
		}
		return spec
	}
	s.started[procProm] = time.Now()
	if s.prom, err = s.run(spec(ruleFiles, s.promAM.Addr, blocks, "--enable-feature=promql-per-step-stats")); err != nil {
		return err
	}
	s.bare, err = s.run(spec(nil, "", ""))
	return err
}

// startVictoriaMetrics starts the VictoriaMetrics stack: Alertmanager,
// VictoriaMetrics scraping kpiwatch with VMFlags, and vmalert.
func (s *stack) startVictoriaMetrics(cfg Config, dir string, js []job, target string, ruleFiles []string, amConfig string) error {
	amFile, err := alertmanagerFor(amConfig, StackVictoriaMetrics)
	if err != nil {
		return err
	}
	if s.vmAM, err = s.run(realserver.AlertmanagerSpec(amFile)); err != nil {
		return err
	}
	scrapeConfig := filepath.Join(dir, "vmscrape.yml")
	if err := genfile.WriteBytes(scrapeConfig, 0o644, []byte(scrapeConfigs(js, target, true))); err != nil {
		return err
	}
	s.started[procVM] = time.Now()
	if s.vm, err = s.run(realserver.VictoriaMetricsSpec(append([]string{"-promscrape.config=" + scrapeConfig}, VMFlags...)...)); err != nil {
		return err
	}
	s.vmalert, err = s.run(realserver.VMAlertSpec(realserver.VMAlertConfig{
		RuleFiles: ruleFiles, Datasource: s.vm.URL(), Alertmanager: s.vmAM.URL(), EvaluationInterval: cfg.Interval,
		Args: VMAlertFlags,
	}))
	return err
}

// firstScrapes waits until every TSDB has stored a scrape of every job
// (its up series has a sample), for at most the longest job interval and
// allowance more.
func (s *stack) firstScrapes(ctx context.Context, js []job, allowance time.Duration) error {
	var longest time.Duration
	for _, j := range js {
		longest = max(longest, j.interval)
	}
	deadline := time.Now().Add(longest + allowance)
	for _, srv := range []*realserver.Server{s.prom, s.bare, s.vm} {
		if srv == nil {
			continue
		}
		for _, j := range js {
			for {
				// A scrape's samples carry the time it began: a slow
				// append commits them older than an instant query's
				// 5-minute lookback.
				if v, err := scalar(srv.URL(), fmt.Sprintf(`count(last_over_time(up{job=%q}[1h]))`, j.name)); err == nil && v >= 1 {
					break
				}
				if time.Now().After(deadline) {
					return fmt.Errorf("%s stored no scrape of %s in %s (-first-scrape.timeout)", srv.Addr, j.path, longest+allowance)
				}
				if err := sleep(ctx, 5*time.Second); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// appended reads each TSDB's count of samples written so far: Prometheus'
// prometheus_tsdb_head_samples_appended_total, VictoriaMetrics'
// vm_rows_added_to_storage_total (NaN when unread).
func (s *stack) appended() map[string]float64 {
	out := map[string]float64{}
	for name, m := range map[string]struct {
		srv    *realserver.Server
		family string
	}{
		procProm: {s.prom, "prometheus_tsdb_head_samples_appended_total"},
		procBare: {s.bare, "prometheus_tsdb_head_samples_appended_total"},
		procVM:   {s.vm, "vm_rows_added_to_storage_total"},
	} {
		if m.srv == nil {
			continue
		}
		v, err := scrapeSum(m.srv.URL()+"/metrics", m.family)
		if err != nil {
			v = math.NaN()
		}
		out[name] = v
	}
	return out
}

// scrapeNotes reads how each job's scrapes went at a TSDB since it
// started, into res (the main job's longest scrape) and notes.
func (s *stack) scrapeNotes(res *Result, name, base string, started time.Time, js []job) []string {
	var notes []string
	for _, j := range js {
		st, err := scrapesOf(base, j.name, time.Since(started))
		if err != nil {
			notes = append(notes, fmt.Sprintf("no reading of %s's scrapes of %s: %v", name, j.path, err))
			continue
		}
		notes = append(notes, fmt.Sprintf("%s scraped %s %s times every %s, the longest in %.1f s (%.0f%% of the interval), %s failed",
			name, j.path, count(st.scrapes), j.interval, st.longest, 100*st.longest/j.interval.Seconds(), count(st.failed)))
		if j.name != mainJob {
			continue
		}
		if name == "Prometheus" {
			res.PromScrape, res.PromScrapeFailed = st.longest, st.failed
		} else {
			res.VMScrape, res.VMScrapeFailed = st.longest, st.failed
		}
	}
	return notes
}

// history is a backfill's cost.
type history struct {
	samples        float64
	build, convert time.Duration
	blocks         string
	series         int
}

func (h history) String(cfg Config) string {
	perSample := (h.build + h.convert).Seconds() / h.samples
	full := 90 * 24 * float64(time.Hour/cfg.HistoryStep) * h.samples / (float64(cfg.HistoryDays) * 24 * float64(time.Hour/cfg.HistoryStep))
	return fmt.Sprintf("backfilled %d days at %s: %s samples in %s (kpiwatch backfill %s, promtool tsdb create-blocks-from openmetrics %s), %.2f µs a sample; 90 days would be %s samples, about %s",
		cfg.HistoryDays, model.Duration(cfg.HistoryStep), count(h.samples), (h.build + h.convert).Round(time.Second), h.build.Round(time.Second), h.convert.Round(time.Second),
		perSample*1e6, count(full), (time.Duration(full*perSample) * time.Second).Round(time.Minute))
}

var backfilled = regexp.MustCompile(`backfilled (\d+) samples`)

// backfill writes HistoryDays of history, up to last midnight UTC, as the
// series kpiwatch at addr would have served, and turns it into TSDB blocks
// with promtool.
func backfill(ctx context.Context, cfg Config, dir, catFile, addr string) (history, error) {
	var h history
	end := time.Now().UTC().Truncate(24 * time.Hour)
	start := end.AddDate(0, 0, -cfg.HistoryDays)
	om := filepath.Join(dir, "history.om")
	t := time.Now()
	out, err := exec.CommandContext(ctx, cfg.Kpiwatch, "backfill", "--config.file="+catFile, "--output="+om,
		"--start="+start.Format(time.DateOnly), "--end="+end.Format(time.DateOnly), "--step="+model.Duration(cfg.HistoryStep).String(),
		"--extra-label=job=kpiwatch", "--extra-label=instance="+addr, "--log.level=warn").CombinedOutput()
	if err != nil {
		return h, fmt.Errorf("kpiwatch backfill: %v\n%s", err, out)
	}
	h.build = time.Since(t)
	m := backfilled.FindSubmatch(out)
	if m == nil {
		return h, fmt.Errorf("kpiwatch backfill did not say how many samples it wrote:\n%s", out)
	}
	h.samples, _ = strconv.ParseFloat(string(m[1]), 64)
	h.blocks = filepath.Join(dir, "blocks")
	t = time.Now()
	if out, err := exec.CommandContext(ctx, "promtool", "tsdb", "create-blocks-from", "openmetrics", "--max-block-duration=4374h", om, h.blocks).CombinedOutput(); err != nil {
		return h, fmt.Errorf("promtool tsdb create-blocks-from openmetrics: %v\n%s", err, out)
	}
	h.convert = time.Since(t)
	return h, os.Remove(om)
}

func sleep(ctx context.Context, d time.Duration) error {
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(d):
		return nil
	}
}

// client asks for no gzip, so a body's size is the plain exposition's.
var client = &http.Client{Timeout: 2 * time.Minute, Transport: &http.Transport{DisableCompression: true}}

// scrapeSum sums every sample of the metric family name at url.
func scrapeSum(url, name string) (float64, error) { return readFamily(url, name, sumFamily) }

// readFamily reads the metric family name at url with f; of a large
// exposition it keeps only that family's lines.
func readFamily(url, name string, f func(io.Reader, string) (float64, error)) (float64, error) {
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	req.Header.Set("Accept", "text/plain;version=0.0.4")
	resp, err := client.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return 0, fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	lines, err := familyLines(resp.Body, name)
	if err != nil {
		return 0, err
	}
	return f(lines, name)
}

// sumFamily sums the samples of family name in a text exposition.
func sumFamily(r io.Reader, name string) (float64, error) {
	return foldFamily(r, name, func(acc, v float64) float64 { return acc + v })
}

// maxFamily is the largest sample of family name in a text exposition.
func maxFamily(r io.Reader, name string) (float64, error) {
	return foldFamily(r, name, math.Max)
}

func foldFamily(r io.Reader, name string, fold func(acc, v float64) float64) (float64, error) {
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(r)
	if err != nil {
		return 0, err
	}
	f, ok := fams[name]
	if !ok || len(f.GetMetric()) == 0 {
		return 0, fmt.Errorf("no %s in the exposition", name)
	}
	acc := value(f.GetMetric()[0])
	for _, m := range f.GetMetric()[1:] {
		acc = fold(acc, value(m))
	}
	return acc, nil
}

// value is a gauge's, counter's or untyped sample's value.
func value(m *dto.Metric) float64 {
	return m.GetGauge().GetValue() + m.GetCounter().GetValue() + m.GetUntyped().GetValue()
}

// vmalertCycle is the time vmalert spends evaluating all its groups once
// (the sum over groups of each group's mean iteration time) and the
// longest group's mean. vmalert 1.79's /metrics can stall for minutes
// while its groups evaluate many series (seen at 100k series): a reading
// it does not give within 20 s is lost.
func vmalertCycle(url string) (total, longest float64, err error) {
	c := *client
	c.Timeout = 20 * time.Second
	resp, err := c.Get(url)
	if err != nil {
		return 0, 0, err
	}
	defer resp.Body.Close()
	return meanIterations(resp.Body)
}

// meanIterations sums each group's mean vmalert_iteration_duration_seconds
// in vmalert's exposition, which serves the summary's _sum and _count as
// untyped series, and returns the longest mean too.
func meanIterations(r io.Reader) (total, longest float64, err error) {
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(r)
	if err != nil {
		return 0, 0, err
	}
	const name = "vmalert_iteration_duration_seconds"
	sums, counts := fams[name+"_sum"], fams[name+"_count"]
	if sums == nil || counts == nil {
		return 0, 0, errors.New("vmalert serves no " + name + "_sum and _count")
	}
	key := func(m *dto.Metric) string {
		var b strings.Builder
		for _, l := range m.GetLabel() {
			b.WriteString(l.GetName() + "=" + l.GetValue() + ",")
		}
		return b.String()
	}
	n := map[string]float64{}
	for _, m := range counts.GetMetric() {
		n[key(m)] = value(m)
	}
	for _, m := range sums.GetMetric() {
		if c := n[key(m)]; c > 0 {
			total += value(m) / c
			longest = max(longest, value(m)/c)
		}
	}
	return total, longest, nil
}

// vmActiveSeries is how many series VictoriaMetrics has written in the
// current hour, from its own metrics (a count({__name__!=""}) query over
// every series timed out at 332k).
func vmActiveSeries(base string) (float64, error) {
	return readFamily(base+"/metrics", "vm_cache_entries", func(r io.Reader, name string) (float64, error) {
		p := expfmt.NewTextParser(model.UTF8Validation)
		fams, err := p.TextToMetricFamilies(r)
		if err != nil {
			return 0, err
		}
		for _, m := range fams[name].GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "type" && l.GetValue() == "storage/hour_metric_ids" {
					return value(m), nil
				}
			}
		}
		return 0, errors.New(`VictoriaMetrics serves no vm_cache_entries{type="storage/hour_metric_ids"}`)
	})
}

// querySamples runs each rule's expression once at Prometheus, as its
// evaluation does, and adds up the samples each read
// (stats.samples.totalQueryableSamples): what one evaluation cycle reads.
// It returns how many rules it got through.
func querySamples(ctx context.Context, base string, rules []Rule) (float64, int, error) {
	var total float64
	for i, r := range rules {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+"/api/v1/query",
			strings.NewReader(url.Values{"query": {r.Expr}, "stats": {"all"}}.Encode()))
		if err != nil {
			return total, i, err
		}
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		resp, err := client.Do(req)
		if err != nil {
			return total, i, err
		}
		var body struct {
			Status, Error string
			Data          struct {
				Stats struct {
					Samples struct{ TotalQueryableSamples float64 }
				}
			}
		}
		err = json.NewDecoder(resp.Body).Decode(&body)
		resp.Body.Close()
		if err == nil && body.Status != "success" {
			err = errors.New(body.Error)
		}
		if err != nil {
			return total, i, fmt.Errorf("%s: %w", r.Name, err)
		}
		total += body.Data.Stats.Samples.TotalQueryableSamples
	}
	return total, len(rules), nil
}

// promAlerts counts Prometheus' pending and firing alerts.
func promAlerts(base string) (pending, firing float64, err error) {
	resp, err := client.Get(base + "/api/v1/alerts")
	if err != nil {
		return 0, 0, err
	}
	defer resp.Body.Close()
	var body struct {
		Data struct{ Alerts []struct{ State string } }
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		return 0, 0, fmt.Errorf("Prometheus' alerts: %w", err)
	}
	for _, a := range body.Data.Alerts {
		if a.State == "firing" {
			firing++
		} else {
			pending++
		}
	}
	return pending, firing, nil
}

// alertCount is how many alerts Alertmanager holds.
func alertCount(base string) (float64, error) {
	resp, err := client.Get(base + "/api/v2/alerts")
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	var alerts []json.RawMessage
	if err := json.NewDecoder(resp.Body).Decode(&alerts); err != nil {
		return 0, fmt.Errorf("Alertmanager's alerts: %w", err)
	}
	return float64(len(alerts)), nil
}

func bodySize(url string) (float64, error) {
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	req.Header.Set("Accept", "text/plain;version=0.0.4")
	resp, err := client.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	n, err := io.Copy(io.Discard, resp.Body)
	return float64(n), err
}

// reloadPeak asks kpiwatch to reload while reading its resident memory
// every 10 ms, and returns how long the reload took and the highest
// reading.
func reloadPeak(base string, pid int) (time.Duration, float64, error) {
	done := make(chan struct{})
	peak := make(chan float64)
	go func() {
		var hi float64
		tick := time.NewTicker(10 * time.Millisecond)
		defer tick.Stop()
		for {
			rss, _ := memory(pid)
			hi = max(hi, rss)
			select {
			case <-done:
				peak <- hi
				return
			case <-tick.C:
			}
		}
	}()
	start := time.Now()
	resp, err := client.Post(base+"/-/reload", "", nil)
	took := time.Since(start)
	// The old exposition is handed back in the background: keep watching
	// a moment after the reply.
	time.Sleep(2 * time.Second)
	close(done)
	hi := <-peak
	if err != nil {
		return 0, 0, err
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return 0, 0, fmt.Errorf("kpiwatch reload: %s: %s", resp.Status, body)
	}
	return took, hi, nil
}

// memory reads a process's resident set and its peak, in bytes.
func memory(pid int) (rss, peak float64) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, _ := strings.Cut(sc.Text(), ":")
		kb, err := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 64)
		if err != nil {
			continue
		}
		switch k {
		case "VmRSS":
			rss = kb * 1024
		case "VmHWM":
			peak = kb * 1024
		}
	}
	return rss, peak
}

// cpuSeconds reads each process's user and system CPU time.
func cpuSeconds(pids map[string]int) map[string]float64 {
	out := map[string]float64{}
	for name, pid := range pids {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil {
			continue
		}
		out[name] = statCPU(string(b))
	}
	return out
}

// clockTicks is the kernel's USER_HZ, 100 on every Linux this runs on.
const clockTicks = 100

// statCPU is utime+stime, in seconds, from a /proc/PID/stat line (fields
// 14 and 15; the command name in parentheses may hold spaces).
func statCPU(stat string) float64 {
	i := strings.LastIndexByte(stat, ')')
	if i < 0 {
		return 0
	}
	f := strings.Fields(stat[i+1:])
	if len(f) < 13 {
		return 0
	}
	u, _ := strconv.ParseFloat(f[11], 64)
	s, _ := strconv.ParseFloat(f[12], 64)
	return (u + s) / clockTicks
}
