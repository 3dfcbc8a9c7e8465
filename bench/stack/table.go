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
// bytes, CPU in cores (CPU seconds per second), times in seconds.
type Result struct {
	Observed        float64 // kpi_collector_series
	Exposition      float64 // bytes of kpiwatch's plain /metrics
	ExporterRSS     float64
	ReloadPeak      float64 // kpiwatch's highest VmRSS during a reload
	PromHeadSeries  float64
	PromRuleSeconds float64 // Σ prometheus_rule_group_last_duration_seconds
	PromMissed      float64 // prometheus_rule_group_iterations_missed_total
	PromCPU         float64
	BarePromCPU     float64 // the same Prometheus without the rules
	PromRSS         float64
	AMCPU, AMRSS    float64
	VMSeries        float64 // count({__name__!=""})
	VMCPU, VMRSS    float64
	VMAlertSeconds  float64 // Σ over groups of mean vmalert_iteration_duration_seconds
	VMAlertCPU      float64
	VMAlertRSS      float64
	MaxSamples      int64   // most samples a rule reads per series per evaluation
	SamplesRead     float64 // samples all rules read in one cycle, measured (NaN: not measured)
	Rules, Groups   int
}

// row is one line of the table: a measured quantity, or a ratio of two.
type row struct {
	label string
	value func(Result) float64
	per   func(Result) float64 // when set, the row is value / per
	unit  string               // "series", "bytes", "cores", "s", "ratio", "%core", "samples"
}

func rows(interval time.Duration) []row {
	observed := func(r Result) float64 { return r.Observed }
	cycle := interval.Seconds()
	return []row{
		{label: "observed series (kpi_collector_series)", value: observed, unit: "series"},
		{label: "rules / groups", value: func(r Result) float64 { return float64(r.Rules) }, unit: "rules"},
		{label: "most samples a rule reads per series per evaluation", value: func(r Result) float64 { return float64(r.MaxSamples) }, unit: "samples"},
		{label: "samples all rules read per cycle (measured)", value: func(r Result) float64 { return r.SamplesRead }, unit: "count"},
		{label: "… per observed series", value: func(r Result) float64 { return r.SamplesRead }, per: observed, unit: "ratio"},
		{label: "Prometheus head series", value: func(r Result) float64 { return r.PromHeadSeries }, unit: "series"},
		{label: "… per observed series", value: func(r Result) float64 { return r.PromHeadSeries }, per: observed, unit: "ratio"},
		{label: "Prometheus rule evaluation: Σ group wall time / interval", value: func(r Result) float64 { return r.PromRuleSeconds / cycle }, unit: "%core"},
		{label: "Prometheus missed rule-group iterations", value: func(r Result) float64 { return r.PromMissed }, unit: "count"},
		{label: "Prometheus CPU", value: func(r Result) float64 { return r.PromCPU }, unit: "cores"},
		{label: "Prometheus CPU without the rules (a second one, same scrapes)", value: func(r Result) float64 { return r.BarePromCPU }, unit: "cores"},
		{label: "Prometheus CPU the rules cost (with − without)", value: func(r Result) float64 { return r.PromCPU - r.BarePromCPU }, unit: "%core"},
		{label: "Prometheus RSS", value: func(r Result) float64 { return r.PromRSS }, unit: "bytes"},
		{label: "… per observed series", value: func(r Result) float64 { return r.PromRSS }, per: observed, unit: "bytes"},
		{label: "Alertmanager RSS", value: func(r Result) float64 { return r.AMRSS }, unit: "bytes"},
		{label: "VictoriaMetrics series", value: func(r Result) float64 { return r.VMSeries }, unit: "series"},
		{label: "… per observed series", value: func(r Result) float64 { return r.VMSeries }, per: observed, unit: "ratio"},
		{label: "VictoriaMetrics CPU", value: func(r Result) float64 { return r.VMCPU }, unit: "cores"},
		{label: "VictoriaMetrics RSS", value: func(r Result) float64 { return r.VMRSS }, unit: "bytes"},
		{label: "… per observed series", value: func(r Result) float64 { return r.VMRSS }, per: observed, unit: "bytes"},
		{label: "vmalert evaluation: Σ group mean wall time / interval", value: func(r Result) float64 { return r.VMAlertSeconds / cycle }, unit: "%core"},
		{label: "vmalert CPU", value: func(r Result) float64 { return r.VMAlertCPU }, unit: "cores"},
		{label: "vmalert RSS", value: func(r Result) float64 { return r.VMAlertRSS }, unit: "bytes"},
		{label: "kpiwatch plain exposition", value: func(r Result) float64 { return r.Exposition }, unit: "bytes"},
		{label: "kpiwatch RSS", value: func(r Result) float64 { return r.ExporterRSS }, unit: "bytes"},
		{label: "kpiwatch peak RSS during a reload", value: func(r Result) float64 { return r.ReloadPeak }, unit: "bytes"},
		{label: "… / plain exposition", value: func(r Result) float64 { return r.ReloadPeak }, per: func(r Result) float64 { return r.Exposition }, unit: "ratio"},
	}
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
		case "rules", "samples", "count":
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
	prom := Machine(proj(func(r Result) float64 { return r.PromCPU + r.AMCPU }), proj(func(r Result) float64 { return r.PromRSS + r.AMRSS }))
	vm := Machine(proj(func(r Result) float64 { return r.VMCPU + r.VMAlertCPU + r.AMCPU }), proj(func(r Result) float64 { return r.VMRSS + r.VMAlertRSS + r.AMRSS }))
	fmt.Fprintf(w, "- machine at %s observed series (2x the projected use): Prometheus + Alertmanager: %s; VictoriaMetrics + vmalert + Alertmanager: %s; kpiwatch: reload peak %s\n",
		count(target), prom, vm, size(proj(func(r Result) float64 { return r.ReloadPeak })))
}
