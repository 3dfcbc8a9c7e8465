// Command sidebyside serves the same generated KPI series from kpiwatch,
// Prometheus' Pushgateway, node_exporter's textfile collector and a static
// file server holding kpiwatch's own response bytes, scrapes them in turn
// (plain, gzip, and with several scrapers at once), and prints a table of
// scrape times, response sizes, resident memory and ratios to the static
// file server.
//
//	go run ./bench/sidebyside [-sizes=10000,100000,1000000]
//
// It needs Debian's prometheus-pushgateway and prometheus-node-exporter, and
// builds kpiwatch unless -kpiwatch names a binary. Every server listens on
// 127.0.0.1 and is stopped by its PID.
package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/kpiwatch/kpiwatch/bench/gen"
	"github.com/kpiwatch/kpiwatch/bench/host"
	"github.com/kpiwatch/kpiwatch/catalogue"
	"github.com/kpiwatch/kpiwatch/collectors"
	"github.com/kpiwatch/kpiwatch/exporter"
	"github.com/kpiwatch/kpiwatch/internal/genfile"
	"github.com/kpiwatch/kpiwatch/internal/realserver"
)

var (
	sizes        = flag.String("sizes", "10000,100000,1000000", "comma-separated observed-series counts")
	reps         = flag.Int("reps", 0, "scrapes per server and encoding, one client at a time (0: 5 up to 10k series, 3 beyond)")
	rounds       = flag.Int("rounds", 0, "rounds of -clients scrapes at once per server and encoding (0: 3 up to 10k series, 2 up to 100k, 1 beyond)")
	clients      = flag.Int("clients", 10, "scrapers at once in the concurrent rounds")
	slow         = flag.Duration("slow", time.Second, "a server whose first scrape takes longer is scraped once per encoding and not concurrently")
	kpiwatchBin  = flag.String("kpiwatch", "", "kpiwatch binary (default: build ./cmd/kpiwatch)")
	pushgateway  = flag.String("pushgateway", "prometheus-pushgateway", "Pushgateway binary (Debian package prometheus-pushgateway)")
	nodeExporter = flag.String("node-exporter", "prometheus-node-exporter", "node_exporter binary (Debian package prometheus-node-exporter)")
	out          = flag.String("out", "", "also write the report (Markdown) to this file")
	serveStatic  = flag.String("serve-static", "", "internal: serve DIR/"+staticFile+" (and its .gz) on -web.listen-address")
	listen       = flag.String("web.listen-address", "", "internal: address for -serve-static")
)

const staticFile = "exposition.txt"

// settle is how long after kpiwatch's reload its memory is read.
const settle = 5 * time.Second

func main() {
	flag.Parse()
	if *serveStatic != "" {
		if err := runStatic(*serveStatic, *listen); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		return
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "sidebyside:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context) error {
	var ns []int
	for _, s := range strings.Split(*sizes, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n < gen.KPIs {
			return fmt.Errorf("-sizes: %q is not a series count of at least %d", s, gen.KPIs)
		}
		ns = append(ns, n)
	}
	for _, b := range []struct {
		path *string
		pkg  string
	}{{pushgateway, "prometheus-pushgateway"}, {nodeExporter, "prometheus-node-exporter"}} {
		p, err := exec.LookPath(*b.path)
		if err != nil {
			return fmt.Errorf("%s not found: install the Debian package %s (apt-get install %s)", *b.path, b.pkg, b.pkg)
		}
		*b.path = p
	}
	work, err := os.MkdirTemp("", "kpiwatch-sidebyside-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)
	if *kpiwatchBin == "" {
		*kpiwatchBin = filepath.Join(work, "kpiwatch")
		build := exec.CommandContext(ctx, "go", "build", "-o", *kpiwatchBin, "github.com/kpiwatch/kpiwatch/cmd/kpiwatch")
		build.Stdout, build.Stderr = os.Stderr, os.Stderr
		if err := build.Run(); err != nil {
			return fmt.Errorf("building kpiwatch: %w", err)
		}
	}
	var report bytes.Buffer
	w := io.MultiWriter(os.Stdout, &report)
	fmt.Fprintf(w, "%s\n\n", machine())
	var results []*sizeResult
	for _, n := range ns {
		res, err := measureSize(ctx, work, n)
		if err != nil {
			return fmt.Errorf("%d series: %w", n, err)
		}
		res.print(w)
		results = append(results, res)
	}
	printScaling(w, results)
	if *out != "" {
		return genfile.WriteBytes(*out, 0o644, report.Bytes())
	}
	return nil
}

// machine describes where the numbers come from.
func machine() string {
	model := host.CPUModel()
	return fmt.Sprintf("%s; %d CPUs (%s); %s; %s; %s", time.Now().UTC().Format("2006-01-02 15:04 MST"), runtime.NumCPU(), model,
		runtime.Version(), firstLine(*pushgateway, "--version"), firstLine(*nodeExporter, "--version"))
}

func firstLine(bin string, args ...string) string {
	b, _ := exec.Command(bin, args...).CombinedOutput()
	l, _, _ := strings.Cut(string(b), "\n")
	return l
}

// mode is one way of scraping.
type mode struct {
	gzip    bool
	clients int
}

func (m mode) String() string {
	s := "plain"
	if m.gzip {
		s = "gzip"
	}
	if m.clients > 1 {
		s += fmt.Sprintf(" ×%d", m.clients)
	}
	return s
}

// target is one running server and what was measured on it.
type target struct {
	name    string
	url     string
	proc    *realserver.Process
	slow    bool
	times   map[mode][]time.Duration
	bytes   map[mode]int64
	rss     int64 // VmRSS after the scrapes
	peak    int64 // VmHWM
	setup   string
	skipped string
}

type sizeResult struct {
	series int
	// reload is how long kpiwatch took to reload its catalogue with a
	// changed source, read the CSV and render, during is what scrapes took
	// meanwhile, and reloadRSS and reloadPeak its memory after it and at
	// its height during the reload.
	reload                time.Duration
	during                []time.Duration
	reloadRSS, reloadPeak int64
	plain                 int64 // size of kpiwatch's plain response, the static file
	modes                 []mode
	targets               []*target
	duration              time.Duration
}

func measureSize(ctx context.Context, work string, n int) (*sizeResult, error) {
	start := time.Now()
	dir := filepath.Join(work, strconv.Itoa(n))
	textfiles := filepath.Join(dir, "textfile")
	if err := os.MkdirAll(textfiles, 0o755); err != nil {
		return nil, err
	}
	g := gen.New(n)
	catFile, err := g.Write(dir)
	if err != nil {
		return nil, err
	}
	kpiFile := filepath.Join(textfiles, "kpi.prom")
	if err := writeKPIExposition(catFile, kpiFile); err != nil {
		return nil, err
	}
	var targets []*target
	defer func() {
		for _, t := range targets {
			t.proc.Stop()
		}
	}()
	add := func(name, path string, setup func(t *target) error, bin string, args ...string) error {
		addr, err := realserver.LoopbackAddr()
		if err != nil {
			return err
		}
		p, err := realserver.Launch(exec.CommandContext(ctx, bin, append(args, "--web.listen-address="+addr)...))
		if err != nil {
			return fmt.Errorf("starting %s: %w", name, err)
		}
		t := &target{name: name, url: "http://" + addr + path, proc: p, times: map[mode][]time.Duration{}, bytes: map[mode]int64{}}
		targets = append(targets, t)
		return setup(t)
	}
	// kpiwatch first: the static server serves its response bytes.
	static := filepath.Join(dir, "static")
	if err := os.MkdirAll(static, 0o755); err != nil {
		return nil, err
	}
	want, err := os.Stat(kpiFile)
	if err != nil {
		return nil, err
	}
	err = add("kpiwatch", "/metrics", func(t *target) error {
		took, err := waitFor(ctx, t, t.url, want.Size())
		if err != nil {
			return err
		}
		t.setup = fmt.Sprintf("started, read %d rows and rendered in %s", n, took.Round(10*time.Millisecond))
		for _, gz := range []bool{false, true} {
			name := filepath.Join(static, staticFile)
			if gz {
				name += ".gz"
			}
			if err := saveScrape(t.url, gz, name); err != nil {
				return err
			}
		}
		return nil
	}, *kpiwatchBin, "serve", "--config.file="+catFile, "--log.level=warn", "--web.enable-lifecycle")
	if err != nil {
		return nil, err
	}
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	if err := add("static file", "/metrics", func(t *target) error {
		_, err := waitFor(ctx, t, strings.TrimSuffix(t.url, "/metrics")+"/ready", 0)
		return err
	}, self, "-serve-static="+static); err != nil {
		return nil, err
	}
	if err := add("pushgateway", "/metrics", func(t *target) error {
		if _, err := waitFor(ctx, t, strings.TrimSuffix(t.url, "/metrics")+"/-/ready", 0); err != nil {
			return err
		}
		took, err := push(strings.TrimSuffix(t.url, "/metrics")+"/metrics/job/kpiwatch", kpiFile)
		t.setup = fmt.Sprintf("push of the KPI exposition took %s", took.Round(10*time.Millisecond))
		return err
	}, *pushgateway, "--persistence.file="); err != nil {
		return nil, err
	}
	if err := add("node_exporter textfile", "/metrics", func(t *target) error {
		_, err := waitFor(ctx, t, strings.TrimSuffix(t.url, "/metrics")+"/", 0)
		return err
	}, *nodeExporter, "--collector.disable-defaults", "--collector.textfile", "--collector.textfile.directory="+textfiles); err != nil {
		return nil, err
	}
	// The static server first in the table.
	targets[0], targets[1] = targets[1], targets[0]
	plain, err := os.Stat(filepath.Join(static, staticFile))
	if err != nil {
		return nil, err
	}
	res := &sizeResult{series: g.Series(), plain: plain.Size(), targets: targets}
	res.measure(ctx, n)
	for _, t := range targets {
		t.rss, t.peak = memory(t.proc.Cmd.Process.Pid)
	}
	if err := res.measureReload(targets[1], catFile); err != nil {
		return nil, err
	}
	res.duration = time.Since(start)
	return res, ctx.Err()
}

// measure scrapes every target in turn: one plain scrape to warm up (and
// to spot the slow ones), then rounds of one scrape per mode and target.
func (r *sizeResult) measure(ctx context.Context, n int) {
	reps, rounds := *reps, *rounds
	if reps == 0 {
		reps = 3
		if n <= 10000 {
			reps = 5
		}
	}
	if rounds == 0 {
		rounds = 1
		if n <= 100000 {
			rounds = 2
		}
		if n <= 10000 {
			rounds = 3
		}
	}
	r.modes = []mode{{false, 1}, {true, 1}, {false, *clients}, {true, *clients}}
	for _, t := range r.targets {
		d, size, err := scrape(t.url, false)
		if err != nil {
			t.skipped = err.Error()
			continue
		}
		if t.slow = d > *slow; t.slow {
			// Its warm-up scrape is its one plain measurement.
			t.times[r.modes[0]], t.bytes[r.modes[0]] = []time.Duration{d}, size
			t.skipped = fmt.Sprintf("a scrape took %s (over -slow=%s): scraped once per encoding, not concurrently", d.Round(100*time.Millisecond), *slow)
		}
	}
	for i := 0; i < max(reps, rounds) && ctx.Err() == nil; i++ {
		for _, m := range r.modes {
			if i >= reps && m.clients == 1 || i >= rounds && m.clients > 1 {
				continue
			}
			for _, t := range r.targets {
				if t.skipped != "" && (!t.slow || m.clients > 1 || len(t.times[m]) > 0) {
					continue
				}
				r.round(t, m)
			}
		}
	}
}

// measureReload has kpiwatch reload its catalogue, its source changed so
// that the reload reads it again and renders anew (an unchanged source is
// carried over and not read), while one client scrapes it back to back.
// The peak is the reload's own: the process's is reset before it.
func (r *sizeResult) measureReload(t *target, catFile string) error {
	cat, err := os.ReadFile(catFile)
	if err != nil {
		return err
	}
	changed := bytes.Replace(cat, []byte("    timeout: 5m\n"), []byte("    timeout: 6m\n"), 1)
	if bytes.Equal(changed, cat) {
		return fmt.Errorf("%s: no source timeout to change", catFile)
	}
	if err := genfile.WriteBytes(catFile, 0o644, changed); err != nil {
		return err
	}
	// Writing 5 to clear_refs resets the peak resident set (VmHWM).
	if err := os.WriteFile(fmt.Sprintf("/proc/%d/clear_refs", t.proc.Cmd.Process.Pid), []byte("5"), 0); err != nil {
		return err
	}
	done := make(chan struct{})
	scraped := make(chan []time.Duration)
	go func() {
		var ds []time.Duration
		for {
			select {
			case <-done:
				scraped <- ds
				return
			default:
			}
			if d, _, err := scrape(t.url, false); err == nil {
				ds = append(ds, d)
			}
		}
	}()
	start := time.Now()
	resp, err := client.Post(strings.TrimSuffix(t.url, "/metrics")+"/-/reload", "", nil)
	r.reload = time.Since(start)
	close(done)
	r.during = <-scraped
	if err != nil {
		return err
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("kpiwatch reload: %s: %s", resp.Status, body)
	}
	// kpiwatch hands the old exposition back to the system in the
	// background once the new one is served: a few seconds at a million
	// series.
	time.Sleep(settle)
	r.reloadRSS, r.reloadPeak = memory(t.proc.Cmd.Process.Pid)
	return nil
}

// round runs m.clients scrapes of t at once and records each.
func (r *sizeResult) round(t *target, m mode) {
	type result struct {
		d    time.Duration
		size int64
		err  error
	}
	results := make([]result, m.clients)
	var wg sync.WaitGroup
	for i := range results {
		wg.Add(1)
		go func() {
			defer wg.Done()
			d, size, err := scrape(t.url, m.gzip)
			results[i] = result{d, size, err}
		}()
	}
	wg.Wait()
	for _, res := range results {
		if res.err != nil {
			t.skipped = res.err.Error()
			return
		}
		t.times[m] = append(t.times[m], res.d)
		t.bytes[m] = res.size
	}
}

var client = &http.Client{Transport: &http.Transport{DisableCompression: true, MaxIdleConnsPerHost: 64}}

// scrape GETs url and reads the whole response as sent (a gzip response is
// not decompressed: the point is how fast the server delivers it).
func scrape(url string, gzip bool) (time.Duration, int64, error) {
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		return 0, 0, err
	}
	req.Header.Set("Accept", "text/plain;version=0.0.4")
	if gzip {
		req.Header.Set("Accept-Encoding", "gzip")
	}
	start := time.Now()
	resp, err := client.Do(req)
	if err != nil {
		return 0, 0, err
	}
	defer resp.Body.Close()
	n, err := io.Copy(io.Discard, resp.Body)
	d := time.Since(start)
	if err == nil && resp.StatusCode != http.StatusOK {
		err = fmt.Errorf("%s: %s", url, resp.Status)
	}
	if err == nil && gzip != (resp.Header.Get("Content-Encoding") == "gzip") {
		err = fmt.Errorf("%s: asked gzip=%v, got Content-Encoding %q", url, gzip, resp.Header.Get("Content-Encoding"))
	}
	return d, n, err
}

func saveScrape(url string, gzip bool, name string) error {
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	if gzip {
		req.Header.Set("Accept-Encoding", "gzip")
	}
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	return genfile.WriteFile(name, 0o644, func(f io.Writer) error { _, err := io.Copy(f, resp.Body); return err })
}

// writeKPIExposition renders the catalogue's KPI exposition in this process,
// with the same code kpiwatch runs: what the Pushgateway and the textfile
// collector are given to serve.
func writeKPIExposition(catFile, name string) error {
	cat, err := catalogue.LoadFile(catFile, collectors.Check)
	if err != nil {
		return err
	}
	e, err := exporter.New(cat, os.DirFS(filepath.Dir(catFile)), exporter.Options{})
	if err != nil {
		return err
	}
	e.RefreshAll(context.Background())
	err = genfile.WriteFile(name, 0o644, func(f io.Writer) error {
		bw := bufio.NewWriterSize(f, 1<<20)
		if err := e.WriteKPIMetrics(bw); err != nil {
			return err
		}
		return bw.Flush()
	})
	debug.FreeOSMemory() // the exporter is gone; so is its memory
	return err
}

// push PUTs the exposition in file to the Pushgateway.
func push(url, file string) (time.Duration, error) {
	f, err := os.Open(file)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	req, err := http.NewRequest(http.MethodPut, url, f)
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "text/plain; version=0.0.4")
	start := time.Now()
	resp, err := client.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode/100 != 2 {
		return 0, fmt.Errorf("push: %s: %s", resp.Status, body)
	}
	return time.Since(start), nil
}

// waitFor polls url until it answers 200 and, when minLength > 0, with a
// Content-Length of at least minLength (kpiwatch once its sources are read
// and rendered), and returns how long that took.
func waitFor(ctx context.Context, t *target, url string, minLength int64) (time.Duration, error) {
	start := time.Now()
	deadline := time.Now().Add(5 * time.Minute)
	for time.Now().Before(deadline) && ctx.Err() == nil {
		if t.proc.Exited() {
			return 0, fmt.Errorf("%s exited:\n%s", t.name, t.proc.Log())
		}
		method := http.MethodGet
		if minLength > 0 {
			method = http.MethodHead
		}
		req, _ := http.NewRequestWithContext(ctx, method, url, nil)
		if resp, err := client.Do(req); err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK && resp.ContentLength >= minLength {
				return time.Since(start), nil
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	return 0, fmt.Errorf("%s not ready at %s after 5m:\n%s", t.name, url, t.proc.Log())
}

// memory reads a process's resident set and its peak, in bytes.
func memory(pid int) (rss, peak int64) {
	f, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, 0
	}
	for _, l := range strings.Split(string(f), "\n") {
		k, v, _ := strings.Cut(l, ":")
		kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
		if err != nil {
			continue
		}
		switch k {
		case "VmRSS":
			rss = kb << 10
		case "VmHWM":
			peak = kb << 10
		}
	}
	return rss, peak
}

// runStatic serves a file of kpiwatch's response bytes from memory, and its
// gzipped copy to clients that accept gzip, each in one write with its
// length: the fastest a scrape of those bytes can be.
func runStatic(dir, addr string) error {
	plain, err := os.ReadFile(filepath.Join(dir, staticFile))
	if err != nil {
		return err
	}
	gzipped, err := os.ReadFile(filepath.Join(dir, staticFile+".gz"))
	if err != nil {
		return err
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/ready", func(w http.ResponseWriter, _ *http.Request) {})
	mux.HandleFunc("/metrics", func(w http.ResponseWriter, r *http.Request) {
		body := plain
		if strings.Contains(r.Header.Get("Accept-Encoding"), "gzip") {
			body = gzipped
			w.Header().Set("Content-Encoding", "gzip")
		}
		w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		_, _ = w.Write(body)
	})
	srv := &http.Server{Addr: addr, Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	go func() { <-ctx.Done(); _ = srv.Shutdown(context.Background()) }()
	if err := srv.ListenAndServe(); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

func (r *sizeResult) print(w io.Writer) {
	fmt.Fprintf(w, "## %d observed series (static file: %s plain)\n\n", r.series, mb(r.plain))
	head := []string{"server"}
	for _, m := range r.modes {
		head = append(head, m.String()+": median (min–max)", "× static")
	}
	head = append(head, "bytes plain / gzip", "RSS (peak)", "RSS / plain file")
	tw := tabwriter.NewWriter(w, 0, 0, 1, ' ', 0)
	row := func(cells []string) { fmt.Fprintln(tw, "| "+strings.Join(cells, "\t| ")+"\t|") }
	row(head)
	sep := make([]string, len(head))
	for i := range sep {
		sep[i] = "---"
	}
	row(sep)
	static := r.targets[0]
	for _, t := range r.targets {
		cells := []string{t.name}
		for _, m := range r.modes {
			ds := t.times[m]
			if len(ds) == 0 {
				cells = append(cells, "—", "—")
				continue
			}
			cells = append(cells, fmt.Sprintf("%s (%s–%s)", dur(median(ds)), dur(slices.Min(ds)), dur(slices.Max(ds))))
			if sd := static.times[m]; len(sd) > 0 {
				cells = append(cells, fmt.Sprintf("%.2f", float64(median(ds))/float64(median(sd))))
			} else {
				cells = append(cells, "—")
			}
		}
		cells = append(cells, mb(t.bytes[r.modes[0]])+" / "+mb(t.bytes[r.modes[1]]),
			fmt.Sprintf("%s (%s)", mb(t.rss), mb(t.peak)), fmt.Sprintf("%.2f", float64(t.rss)/float64(r.plain)))
		row(cells)
	}
	tw.Flush()
	fmt.Fprintln(w)
	for _, t := range r.targets {
		for _, note := range []string{t.setup, t.skipped} {
			if note != "" {
				fmt.Fprintf(w, "- %s: %s\n", t.name, note)
			}
		}
	}
	if len(r.during) > 0 {
		fmt.Fprintf(w, "- kpiwatch: a reload with its source changed (catalogue, CSV, aggregation, render) took %s; %d plain scrapes meanwhile took %s median, %s at most; RSS %s after it %s, at its height during it %s (%.2fx the plain exposition)\n",
			dur(r.reload), len(r.during), dur(median(r.during)), dur(slices.Max(r.during)), settle, mb(r.reloadRSS), mb(r.reloadPeak), float64(r.reloadPeak)/float64(r.plain))
	}
	fmt.Fprintf(w, "- measured in %s\n\n", r.duration.Round(time.Second))
}

// printScaling shows kpiwatch's costs per series at each size: flat
// columns mean costs that grow linearly with the series.
func printScaling(w io.Writer, results []*sizeResult) {
	fmt.Fprintf(w, "## kpiwatch per observed series\n\n")
	tw := tabwriter.NewWriter(w, 0, 0, 1, ' ', 0)
	fmt.Fprintln(tw, "| series\t| plain scrape\t| gzip scrape\t| reload (read, aggregate, render)\t| RSS\t| exposition\t|")
	fmt.Fprintln(tw, "| ---\t| ---\t| ---\t| ---\t| ---\t| ---\t|")
	for _, r := range results {
		t := r.targets[1]
		per := func(d time.Duration) string {
			return strconv.FormatFloat(float64(d)/float64(r.series), 'f', 0, 64) + " ns"
		}
		perBytes := func(b int64) string {
			return strconv.FormatFloat(float64(b)/float64(r.series), 'f', 0, 64) + " B"
		}
		fmt.Fprintf(tw, "| %d\t| %s\t| %s\t| %s\t| %s\t| %s\t|\n", r.series, per(median(t.times[r.modes[0]])), per(median(t.times[r.modes[1]])),
			per(r.reload), perBytes(t.rss), perBytes(r.plain))
	}
	tw.Flush()
	fmt.Fprintln(w)
}

func median(ds []time.Duration) time.Duration {
	s := slices.Sorted(slices.Values(ds))
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func dur(d time.Duration) string {
	if d < time.Second {
		return strconv.FormatFloat(float64(d)/1e6, 'f', 1, 64) + " ms"
	}
	return strconv.FormatFloat(d.Seconds(), 'f', 2, 64) + " s"
}

func mb(b int64) string {
	return strconv.FormatFloat(float64(b)/(1<<20), 'f', 1, 64) + " MiB"
}
