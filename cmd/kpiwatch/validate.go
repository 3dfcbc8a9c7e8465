package main

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/alecthomas/kingpin/v2"
	"github.com/go-kit/log"

	"github.com/kpiwatch/kpiwatch/catalogue"
	"github.com/kpiwatch/kpiwatch/exporter"
)

type validateCommand struct {
	cmd        *kingpin.CmdClause
	file       *string
	configFile *string
	offline    *bool
}

func newValidateCommand(app *kingpin.Application) *validateCommand {
	c := &validateCommand{cmd: app.Command("validate", "Check a catalogue, then read each of its sources once as a refresh would and say what it would serve; list every problem.")}
	c.file = c.cmd.Arg("file", "Catalogue file (the same as --config.file).").String()
	c.configFile = c.cmd.Flag("config.file", "KPI catalogue file (default: the embedded Project 06 catalogue).").String()
	c.offline = c.cmd.Flag("offline", "Check the catalogue only; do not read the sources (for CI without the data).").Bool()
	return c
}

// shown is how many rejected rows and series validate lists per source.
const shown = 5

func (c *validateCommand) run(ctx context.Context, logger log.Logger, stdout, stderr io.Writer) int {
	path := *c.file
	switch {
	case path == "":
		path = *c.configFile
	case *c.configFile != "" && *c.configFile != path:
		fmt.Fprintf(stderr, "kpiwatch: two catalogues given: %s and --config.file=%s\n", path, *c.configFile)
		return 2
	}
	name := nameOr(path, "embedded Project 06 catalogue")
	cat, dir, err := loadCatalogue(path)
	if err != nil {
		fmt.Fprintln(stderr, err)
		if errs, ok := err.(catalogue.Errors); ok {
			fmt.Fprintf(stderr, "%d problem(s)\n", len(errs))
		}
		return 1
	}
	for _, w := range cat.Warnings {
		fmt.Fprintln(stderr, "warning:", w)
	}
	fmt.Fprintf(stdout, "%s: ok: %d KPIs, %d sources, %d owners\n", name, len(cat.KPIs), len(cat.Sources), len(cat.Owners))
	for _, k := range cat.KPIs {
		if len(k.Sources) > 1 {
			fmt.Fprintf(stdout, "kpi %s: read from %s; for a period two of them give, the later one's figure is served and the other's is a warning naming both places\n",
				k.ID, strings.Join(k.Sources, ", then "))
		}
	}
	if *c.offline {
		fmt.Fprintln(stdout, "sources not read (--offline)")
		return 0
	}
	reports, err := exporter.Probe(ctx, cat, dir, exporter.Options{Logger: logger})
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	failed := 0
	for _, r := range reports {
		if r.Err != nil {
			failed++
		}
		printReport(stdout, cat, r)
	}
	overlaps := exporter.Overlaps(cat, reports)
	for i, o := range overlaps {
		if i == shown {
			fmt.Fprintf(stdout, "... and %d more periods given by two sources\n", len(overlaps)-shown)
			break
		}
		fmt.Fprintf(stdout, "warning: %v\n", o)
	}
	if failed > 0 {
		fmt.Fprintf(stderr, "%d of %d source(s) failed\n", failed, len(reports))
		return 1
	}
	return 0
}

// printReport writes what one source yielded: the rows, the first
// rejections, the series it would serve.
func printReport(w io.Writer, cat *catalogue.Catalogue, r exporter.SourceReport) {
	verdict := "ok"
	if r.Err != nil {
		verdict = "FAILED: " + r.Err.Error()
	}
	fmt.Fprintf(w, "source %s (%s): %s\n", r.Source.ID, r.Source.Collector, verdict)
	fmt.Fprintf(w, "  rows: %d read, %d accepted, %d skipped, %d rejected\n", r.Read(), r.Accepted, r.Skipped, r.RejectedRows())
	for i, e := range r.Rejected {
		if i == shown {
			fmt.Fprintf(w, "  ... and %d more rejected\n", len(r.Rejected)-shown)
			break
		}
		fmt.Fprintf(w, "  rejected: %v\n", e)
	}
	if r.Tasks > 0 {
		fmt.Fprintf(w, "  tasks: %d\n", r.Tasks)
	}
	if len(r.Series) == 0 && (r.Err != nil || r.Tasks > 0) {
		return
	}
	fmt.Fprintf(w, "  serves %d series\n", len(r.Series))
	for i, s := range r.Series {
		if i == shown {
			fmt.Fprintf(w, "  ... and %d more series\n", len(r.Series)-shown)
			break
		}
		k := &cat.KPIs[s.KPI]
		series := exporter.SeriesName(k, s.Labels)
		p := s.Latest()
		value := figure(p.Value)
		if k.Kind == catalogue.KindRatio {
			value += " (" + figure(p.Num) + "/" + figure(p.Den) + ")"
		}
		fmt.Fprintf(w, "    %s: %d report(s), latest %s = %s\n", series, len(s.History), p.Period.Format(time.DateOnly), value)
	}
}

// figure writes a number as a person reads it: 71000000, 0.3734.
func figure(v float64) string {
	s := strconv.FormatFloat(v, 'f', 4, 64)
	return strings.TrimSuffix(strings.TrimRight(s, "0"), ".")
}
