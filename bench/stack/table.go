package main

import (
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
)

// Result is what one run measured at one catalogue size. Memory is in
// bytes, CPU in cores (CPU seconds per second), times in seconds, samples
// ingested per minute. Prom and VM say which stacks ran.
type Result struct {
	Prom, VM        bool
	Units           bool    // kpiwatch served the unit endpoint
	Observed        float64 // kpi_collector_series
	Exposition      float64 // bytes of kpiwatch's plain /metrics
	UnitsExposition float64 // bytes of its plain unit endpoint
	ExporterRSS     float64
	ExporterCPU     float64
	ReloadPeak      float64 // kpiwatch's highest VmRSS during a reload
	MaxSamples      int64   // most samples a rule reads per series per evaluation
	Rules, Groups   int

	PromHeadSeries   float64
	BareHeadSeries   float64
	PromAppended     float64 // samples a minute, rules' output included
	BareAppended     float64
	PromRuleSeconds  float64 // Σ prometheus_rule_group_last_duration_seconds
	PromLongestGroup float64 // max prometheus_rule_group_last_duration_seconds
	PromMissed       float64 // prometheus_rule_group_iterations_missed_total
	PromScrape       float64 // longest scrape of the main endpoint
	PromScrapeFailed float64
	PromCPU          float64
	BarePromCPU      float64 // the same Prometheus without the rules
	PromRSS          float64
	BarePromRSS      float64
	AMCPU, AMRSS     float64
	PromStackCPU     float64 // kpiwatch + Prometheus + Alertmanager
	PromStackRSS     float64
	PromStackPeak    float64 // Σ of each process's VmHWM
	PromQueries      float64 // the boards' queries answered or failed
	PromQueryErrors  float64
	PromDelivery     float64 // from the exporter judging the target missed to the webhook
	SamplesRead      float64 // samples all rules read in one cycle, measured (NaN: not measured)

	VMSeries            float64 // series written in the current hour
	VMAppended          float64
	VMScrape            float64
	VMScrapeFailed      float64
	VMCPU, VMRSS        float64
	VMAlertSeconds      float64 // Σ over groups of mean vmalert_iteration_duration_seconds
	VMAlertLongestGroup float64
	VMAlertCPU          float64
	VMAlertRSS          float64
	VMAMCPU, VMAMRSS    float64
	VMStackCPU          float64 // kpiwatch + VictoriaMetrics + vmalert + Alertmanager
	VMStackRSS          float64
	VMStackPeak         float64
	VMQueries           float64
	VMQueryErrors       float64
	VMDelivery          float64
}

// row is one line of the table: a measured quantity, or a ratio of two.
type row struct {
	label string
	stack string // StackPrometheus or StackVictoriaMetrics: shown only when it ran
	value func(Result) float64
	per   func(Result) float64 // when set, the row is value / per
	// unit: "series", "bytes", "cores", "ratio", "%core", "samples",
	// "count", "rules", "interval" (a fraction of the interval), "s", "rate"
	unit string
}

func rows(interval time.Duration) []row {
	observed := func(r Result) float64 { return r.Observed }
	cycle := interval.Seconds()
	const p, v = StackPrometheus, StackVictoriaMetrics
	return []row{
		{label: "observed series (kpi_collector_series)", value: observed, unit: "series"},
		{label: "rules / groups", value: func(r Result) float64 { return float64(r.Rules) }, unit: "rules"},
		{label: "most samples a rule reads per series per evaluation", value: func(r Result) float64 { return float64(r.MaxSamples) }, unit: "samples"},
		{label: "kpiwatch plain exposition: /metrics", value: func(r Result) float64 { return r.Exposition }, unit: "bytes"},
		{label: "kpiwatch plain exposition: the unit endpoint", value: func(r Result) float64 {
			if !r.Units {
				return math.NaN()
			}
			return r.UnitsExposition
		}, unit: "bytes"},
		{label: "kpiwatch CPU", value: func(r Result) float64 { return r.ExporterCPU }, unit: "cores"},
		{label: "kpiwatch RSS", value: func(r Result) float64 { return r.ExporterRSS }, unit: "bytes"},
		{label: "kpiwatch peak RSS during a reload", value: func(r Result) float64 { return r.ReloadPeak }, unit: "bytes"},
		{label: "… / plain exposition", value: func(r Result) float64 { return r.ReloadPeak }, per: func(r Result) float64 { return r.Exposition + r.UnitsExposition }, unit: "ratio"},

		{label: "Prometheus head series", stack: p, value: func(r Result) float64 { return r.PromHeadSeries }, unit: "series"},
		{label: "… per observed series", stack: p, value: func(r Result) float64 { return r.PromHeadSeries }, per: observed, unit: "ratio"},
		{label: "Prometheus samples ingested a minute (scrapes and rules)", stack: p, value: func(r Result) float64 { return r.PromAppended }, unit: "rate"},
		{label: "… without the rules (the second Prometheus)", stack: p, value: func(r Result) float64 { return r.BareAppended }, unit: "rate"},
		{label: "samples all rules read per cycle (measured)", stack: p, value: func(r Result) float64 { return r.SamplesRead }, unit: "count"},
		{label: "… per observed series", stack: p, value: func(r Result) float64 { return r.SamplesRead }, per: observed, unit: "ratio"},
		{label: "Prometheus rule evaluation: Σ group wall time / interval", stack: p, value: func(r Result) float64 { return r.PromRuleSeconds / cycle }, unit: "%core"},
		{label: "Prometheus longest rule group / interval", stack: p, value: func(r Result) float64 { return r.PromLongestGroup / cycle }, unit: "interval"},
		{label: "Prometheus missed rule-group iterations", stack: p, value: func(r Result) float64 { return r.PromMissed }, unit: "count"},
		{label: "Prometheus longest scrape of /metrics / interval", stack: p, value: func(r Result) float64 { return r.PromScrape / cycle }, unit: "interval"},
		{label: "Prometheus failed scrapes of /metrics", stack: p, value: func(r Result) float64 { return r.PromScrapeFailed }, unit: "count"},
		{label: "Prometheus CPU", stack: p, value: func(r Result) float64 { return r.PromCPU }, unit: "cores"},
		{label: "Prometheus CPU without the rules (a second one, same scrapes)", stack: p, value: func(r Result) float64 { return r.BarePromCPU }, unit: "cores"},
		{label: "Prometheus CPU the rules cost (with − without)", stack: p, value: func(r Result) float64 { return r.PromCPU - r.BarePromCPU }, unit: "%core"},
		{label: "Prometheus RSS", stack: p, value: func(r Result) float64 { return r.PromRSS }, unit: "bytes"},
		{label: "… per observed series", stack: p, value: func(r Result) float64 { return r.PromRSS }, per: observed, unit: "bytes"},
		{label: "Prometheus RSS without the rules", stack: p, value: func(r Result) float64 { return r.BarePromRSS }, unit: "bytes"},
		{label: "Alertmanager RSS", stack: p, value: func(r Result) float64 { return r.AMRSS }, unit: "bytes"},
		{label: "stack (kpiwatch, Prometheus, Alertmanager) RSS", stack: p, value: func(r Result) float64 { return r.PromStackRSS }, unit: "bytes"},
		{label: "… Σ of each process's peak", stack: p, value: func(r Result) float64 { return r.PromStackPeak }, unit: "bytes"},
		{label: "stack CPU", stack: p, value: func(r Result) float64 { return r.PromStackCPU }, unit: "cores"},
		{label: "board queries answered / with an error (Prometheus)", stack: p, value: func(r Result) float64 { return r.PromQueries }, unit: "count"},
		{label: "… with an error", stack: p, value: func(r Result) float64 { return r.PromQueryErrors }, unit: "count"},
		{label: "missed target: exporter's judgement to webhook (Prometheus)", stack: p, value: func(r Result) float64 { return r.PromDelivery }, unit: "s"},

		{label: "VictoriaMetrics series (written this hour)", stack: v, value: func(r Result) float64 { return r.VMSeries }, unit: "series"},
		{label: "… per observed series", stack: v, value: func(r Result) float64 { return r.VMSeries }, per: observed, unit: "ratio"},
		{label: "VictoriaMetrics samples ingested a minute", stack: v, value: func(r Result) float64 { return r.VMAppended }, unit: "rate"},
		{label: "VictoriaMetrics longest scrape of /metrics / interval", stack: v, value: func(r Result) float64 { return r.VMScrape / cycle }, unit: "interval"},
		{label: "VictoriaMetrics failed scrapes of /metrics", stack: v, value: func(r Result) float64 { return r.VMScrapeFailed }, unit: "count"},
		{label: "vmalert evaluation: Σ group mean wall time / interval", stack: v, value: func(r Result) float64 { return r.VMAlertSeconds / cycle }, unit: "%core"},
		{label: "vmalert longest group (mean) / interval", stack: v, value: func(r Result) float64 { return r.VMAlertLongestGroup / cycle }, unit: "interval"},
		{label: "VictoriaMetrics CPU", stack: v, value: func(r Result) float64 { return r.VMCPU }, unit: "cores"},
		{label: "vmalert CPU", stack: v, value: func(r Result) float64 { return r.VMAlertCPU }, unit: "cores"},
		{label: "VictoriaMetrics RSS", stack: v, value: func(r Result) float64 { return r.VMRSS }, unit: "bytes"},
		{label: "… per observed series", stack: v, value: func(r Result) float64 { return r.VMRSS }, per: observed, unit: "bytes"},
		{label: "vmalert RSS", stack: v, value: func(r Result) float64 { return r.VMAlertRSS }, unit: "bytes"},
		{label: "Alertmanager RSS (vmalert's)", stack: v, value: func(r Result) float64 { return r.VMAMRSS }, unit: "bytes"},
		{label: "stack (kpiwatch, VictoriaMetrics, vmalert, Alertmanager) RSS", stack: v, value: func(r Result) float64 { return r.VMStackRSS }, unit: "bytes"},
		{label: "… Σ of each process's peak", stack: v, value: func(r Result) float64 { return r.VMStackPeak }, unit: "bytes"},
		{label: "stack CPU", stack: v, value: func(r Result) float64 { return r.VMStackCPU }, unit: "cores"},
		{label: "board queries answered (VictoriaMetrics)", stack: v, value: func(r Result) float64 { return r.VMQueries }, unit: "count"},
		{label: "… with an error", stack: v, value: func(r Result) float64 { return r.VMQueryErrors }, unit: "count"},
		{label: "missed target: exporter's judgement to webhook (vmalert)", stack: v, value: func(r Result) float64 { return r.VMDelivery }, unit: "s"},
	}
}

// shown says whether a row belongs to a stack some result ran.
func (rw row) shown(results []Result) bool {
	for _, r := range results {
		if rw.stack == "" || rw.stack == StackPrometheus && r.Prom || rw.stack == StackVictoriaMetrics && r.VM {
			return true
		}
	}
	return false
}

// Project extends ys, measured at xs (observed series, ascending), to x:
// along the line through the last two points (a fixed cost plus a cost per
// series), or in proportion to the series when there is one point or the
// line falls (noise between runs).
func Project(xs, ys []float64, x float64) float64 {
	n := len(xs)
	if n == 0 || xs[n-1] == 0 {
		return math.NaN()
	}
	if n >= 2 && xs[n-1] > xs[n-2] {
		slope := (ys[n-1] - ys[n-2]) / (xs[n-1] - xs[n-2])
		if slope > 0 && ys[n-1]-slope*xs[n-1] >= 0 {
			return ys[n-1] + slope*(x-xs[n-1])
		}
	}
	return ys[n-1] / xs[n-1] * x
}

// Write prints the table: a column per size, and one projected to target
// observed series.
func Write(w io.Writer, results []Result, interval time.Duration, target float64) {
	xs := make([]float64, len(results))
	for i, r := range results {
		xs[i] = r.Observed
	}
	tw := tabwriter.NewWriter(w, 0, 0, 1, ' ', 0)
	head := []string{"", ""}
	for _, r := range results {
		head = append(head, count(r.Observed)+" series")
	}
	head = append(head, count(target)+" projected")
	fmt.Fprintln(tw, "| "+strings.Join(head[1:], "\t| ")+"\t|")
	fmt.Fprintln(tw, "|"+strings.Repeat(" ---\t|", len(head)-1))
	for _, rw := range rows(interval) {
		if !rw.shown(results) {
			continue
		}
		cells := []string{rw.label}
		ys, ds := make([]float64, len(results)), make([]float64, len(results))
		for i, r := range results {
			ys[i] = rw.value(r)
			if rw.per != nil {
				ds[i] = rw.per(r)
			}
			cells = append(cells, format(rw, ys[i], ds[i]))
		}
		if len(results) == 0 {
			continue
		}
		switch rw.unit {
		case "rules", "samples", "count", "s":
			cells = append(cells, "")
		default:
			y := Project(xs, ys, target)
			var d float64
			if rw.per != nil {
				d = Project(xs, ds, target)
			}
			cells = append(cells, format(rw, y, d))
		}
		if rw.label == "rules / groups" {
			for i, r := range results {
				cells[i+1] = fmt.Sprintf("%d / %d", r.Rules, r.Groups)
			}
		}
		fmt.Fprintln(tw, "| "+strings.Join(cells, "\t| ")+"\t|")
	}
	tw.Flush()
}

func format(rw row, v, per float64) string {
	if math.IsNaN(v) {
		return "—"
	}
	if rw.per != nil {
		if per == 0 {
			return "—"
		}
		v /= per
		if rw.unit == "bytes" {
			return strconv.FormatFloat(v, 'f', 0, 64) + " B"
		}
		return strconv.FormatFloat(v, 'f', 2, 64)
	}
	switch rw.unit {
	case "series", "samples", "count", "rules":
		return count(v)
	case "bytes":
		return size(v)
	case "cores":
		return strconv.FormatFloat(v, 'f', 3, 64)
	case "%core":
		return strconv.FormatFloat(100*v, 'f', 1, 64) + "% of a core"
	case "interval":
		return strconv.FormatFloat(v, 'f', 2, 64) + "×"
	case "s":
		return strconv.FormatFloat(v, 'f', 0, 64) + " s"
	case "rate":
		return count(v) + "/min"
	}
	return strconv.FormatFloat(v, 'g', 4, 64)
}

// count writes an integer with thousands separators.
func count(v float64) string {
	if math.IsNaN(v) {
		return "—"
	}
	s := strconv.FormatInt(int64(math.Round(v)), 10)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

// size writes bytes in MiB below a GiB, else GiB.
func size(b float64) string {
	if b >= 1<<30 {
		return strconv.FormatFloat(b/(1<<30), 'f', 2, 64) + " GiB"
	}
	return strconv.FormatFloat(b/(1<<20), 'f', 1, 64) + " MiB"
}

// Machine is what a server set needs at a projected load: cores and memory
// with the headroom an operator keeps (twice the measured use, so a
// compaction, a reload or a burst of queries fits), rounded up to what one
// buys: whole cores, memory in powers of two GiB.
func Machine(cores, rss float64) string {
	c := math.Ceil(2 * cores)
	gib := 2 * rss / (1 << 30)
	m := 1.0
	for m < gib {
		m *= 2
	}
	return fmt.Sprintf("%.0f cores, %.0f GiB", max(c, 1), m)
}

// Machines projects each stack's needs to target observed series.
func Machines(w io.Writer, results []Result, target float64) {
	xs := make([]float64, len(results))
	for i, r := range results {
		xs[i] = r.Observed
	}
	proj := func(f func(Result) float64) float64 {
		ys := make([]float64, len(results))
		for i, r := range results {
			ys[i] = f(r)
		}
		return Project(xs, ys, target)
	}
	var parts []string
	if (row{stack: StackPrometheus}).shown(results) {
		parts = append(parts, "Prometheus + Alertmanager: "+Machine(proj(func(r Result) float64 { return r.PromCPU + r.AMCPU }), proj(func(r Result) float64 { return r.PromRSS + r.AMRSS })))
	}
	if (row{stack: StackVictoriaMetrics}).shown(results) {
		parts = append(parts, "VictoriaMetrics + vmalert + Alertmanager: "+Machine(proj(func(r Result) float64 { return r.VMCPU + r.VMAlertCPU + r.VMAMCPU }), proj(func(r Result) float64 { return r.VMRSS + r.VMAlertRSS + r.VMAMRSS })))
	}
	parts = append(parts, "kpiwatch: reload peak "+size(proj(func(r Result) float64 { return r.ReloadPeak })))
	fmt.Fprintf(w, "- machine at %s observed series (2x the projected use): %s\n", count(target), strings.Join(parts, "; "))
}
