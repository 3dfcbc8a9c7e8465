package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/alecthomas/kingpin/v2"
	"github.com/go-kit/log"
	"github.com/prometheus/common/model"

	"github.com/kpiwatch/kpiwatch/backfill"
	"github.com/kpiwatch/kpiwatch/collectors"
	"github.com/kpiwatch/kpiwatch/internal/genfile"
	"github.com/kpiwatch/kpiwatch/internal/redact"
	"github.com/kpiwatch/kpiwatch/push"
)

const (
	formatOpenMetrics = "openmetrics"
	formatVM          = "vm"
)

type backfillCommand struct {
	cmd        *kingpin.CmdClause
	configFile *string
	format     *string
	output     *string
	vmURL      *string
	auth       authFlags
	start, end *string
	step       model.Duration
	labels     *[]string
}

func newBackfillCommand(app *kingpin.Application) *backfillCommand {
	c := &backfillCommand{cmd: app.Command("backfill", "Write the sources' dated history as the series the exporter would have served each day: OpenMetrics for promtool, or an import into VictoriaMetrics.")}
	c.configFile = c.cmd.Flag("config.file", "KPI catalogue file (default: the embedded Project 06 catalogue and sample data).").PlaceHolder("FILE").String()
	c.format = c.cmd.Flag("format", "openmetrics: a file for `promtool tsdb create-blocks-from openmetrics`; vm: import into VictoriaMetrics at --vm.url.").Default(formatOpenMetrics).Enum(formatOpenMetrics, formatVM)
	c.output = c.cmd.Flag("output", "OpenMetrics file to write (- for standard output).").Default("-").String()
	c.vmURL = c.cmd.Flag("vm.url", "VictoriaMetrics (or vmagent) import URL, e.g. http://localhost:8428/api/v1/import/prometheus.").PlaceHolder("URL").String()
	c.auth = addAuthFlags(c.cmd, "vm")
	c.start = c.cmd.Flag("start", "First day to backfill, YYYY-MM-DD (default: when the first report took effect).").PlaceHolder("DATE").String()
	c.end = c.cmd.Flag("end", "Last day to backfill, YYYY-MM-DD (default: today, UTC).").PlaceHolder("DATE").String()
	c.cmd.Flag("step", "Time between samples; days are aligned on midnight UTC.").Default("1d").SetValue(&c.step)
	c.labels = c.cmd.Flag("extra-label", "Label name=value added to every series; repeat. Give the job and instance labels your scrape (or push) gives the live series, e.g. job=kpiwatch.").PlaceHolder("NAME=VALUE").Strings()
	return c
}

func (c *backfillCommand) run(ctx context.Context, logger log.Logger, stdout, stderr io.Writer) int {
	started := time.Now()
	opts, err := c.options(logger, stderr)
	if err != nil {
		fmt.Fprintln(stderr, "kpiwatch backfill:", err)
		return 2
	}
	auth := c.auth.auth()
	if *c.format == formatVM {
		if *c.vmURL == "" {
			fmt.Fprintln(stderr, "kpiwatch backfill: --format=vm needs --vm.url")
			return 2
		}
		if _, err := auth.Header(); err != nil {
			return logFatal(logger, "reading the VictoriaMetrics credentials", err)
		}
	}
	cat, dir, err := loadCatalogue(*c.configFile)
	if err != nil {
		return logFatal(logger, "loading the catalogue", err)
	}
	r, err := backfill.Build(ctx, cat, dir, opts)
	if opts.Progress != nil {
		fmt.Fprintln(stderr)
	}
	if err != nil {
		return logFatal(logger, "building the backfill", err)
	}
	dest := *c.output
	switch *c.format {
	case formatVM:
		dest = *c.vmURL
		err = backfill.ImportVictoriaMetrics(ctx, http.DefaultClient, *c.vmURL, auth, r)
	case formatOpenMetrics:
		err = writeOpenMetrics(*c.output, stdout, r)
	}
	if err != nil {
		return logFatal(logger, "writing the backfill", err)
	}
	fmt.Fprintf(stderr, "backfilled %d samples of %d series, %s to %s every %s, into %s in %s; %d source rows rejected\n",
		r.Samples, len(r.Series), r.Start.Format(time.DateOnly), r.End.Format(time.DateOnly), model.Duration(r.Step),
		redactedDest(dest), time.Since(started).Round(time.Millisecond), collectors.RejectedRows(r.Rejected))
	if *c.format == formatOpenMetrics && *c.output != "-" {
		fmt.Fprintf(stderr, "next: promtool tsdb create-blocks-from openmetrics --max-block-duration=4374h %s <prometheus data dir>\n", *c.output)
	}
	return 0
}

func (c *backfillCommand) options(logger log.Logger, stderr io.Writer) (backfill.Options, error) {
	opts := backfill.Options{Step: time.Duration(c.step), Logger: logger}
	var err error
	if opts.Labels, err = push.ParseLabels(*c.labels); err != nil {
		return opts, err
	}
	if *c.start != "" {
		if opts.Start, err = time.Parse(time.DateOnly, *c.start); err != nil {
			return opts, fmt.Errorf("--start: want YYYY-MM-DD: %w", err)
		}
	}
	opts.End = time.Now().UTC()
	if *c.end != "" {
		if opts.End, err = time.Parse(time.DateOnly, *c.end); err != nil {
			return opts, fmt.Errorf("--end: want YYYY-MM-DD: %w", err)
		}
	}
	if isTerminal(stderr) {
		opts.Progress = progressBar(stderr, time.Now)
	}
	return opts, nil
}

func writeOpenMetrics(path string, stdout io.Writer, r *backfill.Result) error {
	if path == "-" {
		return backfill.WriteOpenMetrics(stdout, r)
	}
	return genfile.WriteFile(path, 0o644, func(w io.Writer) error { return backfill.WriteOpenMetrics(w, r) })
}

func redactedDest(dest string) string {
	if strings.Contains(dest, "://") {
		return redact.URL(dest)
	}
	return dest
}

// isTerminal reports whether w is a terminal, where a progress bar helps
// rather than filling a log.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// progressBar redraws one line, at most ten times a second by the clock now.
func progressBar(w io.Writer, now func() time.Time) func(done, total int) {
	var last time.Time
	return func(done, total int) {
		if done < total && now().Sub(last) < 100*time.Millisecond {
			return
		}
		last = now()
		const width = 40
		filled := width * done / total
		fmt.Fprintf(w, "\r[%s%s] %3d%% %d/%d sample times", strings.Repeat("=", filled), strings.Repeat(" ", width-filled), 100*done/total, done, total)
	}
}
