package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/alecthomas/kingpin/v2"
	"github.com/go-kit/log"
	"github.com/go-kit/log/level"

	"github.com/kpiwatch/kpiwatch/exporter"
	"github.com/kpiwatch/kpiwatch/internal/genfile"
	"github.com/kpiwatch/kpiwatch/web"
)

type reportCommand struct {
	cmd        *kingpin.CmdClause
	configFile *string
	period     *string
	out        *string
	lang       *string
	noSandbox  *bool
}

func newReportCommand(app *kingpin.Application) *reportCommand {
	c := &reportCommand{cmd: app.Command("report", "Write the monthly briefing: HTML, or PDF through headless Chromium when --out ends in .pdf.")}
	c.configFile = c.cmd.Flag("config.file", "KPI catalogue file (default: the embedded Project 06 catalogue and sample data).").String()
	c.period = c.cmd.Flag("period", "Month to brief on, YYYY-MM (default: the latest whose reports were due).").String()
	c.out = c.cmd.Flag("out", "Output file: .pdf for a PDF (needs Debian's chromium; HTML beside it otherwise), anything else for HTML (default: standard output).").String()
	c.lang = c.cmd.Flag("lang", "Language of the briefing.").Default("vi").Enum("vi", "en")
	c.noSandbox = c.cmd.Flag("web.chromium-no-sandbox", "Run Chromium without its sandbox, which it refuses to root (a CI container); never needed by an ordinary user.").Bool()
	return c
}

func (c *reportCommand) run(ctx context.Context, logger log.Logger, stdout, stderr io.Writer) int {
	target := "/report?lang=" + *c.lang
	if *c.period != "" {
		if _, err := web.ParsePeriod(*c.period); err != nil {
			fmt.Fprintln(stderr, "kpiwatch report: --period:", err)
			return 2
		}
		target += "&period=" + *c.period
	}
	cat, dir, err := loadCatalogue(*c.configFile)
	if err != nil {
		return logFatal(logger, "loading the catalogue", err)
	}
	exp, err := exporter.New(cat, dir, exporter.Options{Logger: logger})
	if err != nil {
		return logFatal(logger, "building collectors", err)
	}
	exp.RefreshAll(ctx)
	if *c.period != "" {
		if _, err := web.BriefingPeriod(exp.Snapshot(), *c.period); err != nil {
			fmt.Fprintln(stderr, "kpiwatch report: --period:", err)
			return 2
		}
	}
	pages := web.New(exp.Snapshot, web.Options{})
	if *c.out == "" {
		if err := pages.Write(stdout, target); err != nil {
			return logFatal(logger, "writing the briefing", err)
		}
		return 0
	}
	pdf := strings.EqualFold(filepath.Ext(*c.out), ".pdf")
	htmlPath := *c.out
	if pdf {
		htmlPath = strings.TrimSuffix(*c.out, filepath.Ext(*c.out)) + ".html"
	}
	if err := genfile.WriteFile(htmlPath, 0o644, func(w io.Writer) error { return pages.Write(w, target) }); err != nil {
		return logFatal(logger, "writing the briefing", err)
	}
	if !pdf {
		return 0
	}
	abs, err := filepath.Abs(htmlPath)
	if err != nil {
		return logFatal(logger, "writing the briefing", err)
	}
	switch err := web.PrintPDF(ctx, "file://"+abs, *c.out, *c.noSandbox); {
	case errors.Is(err, web.ErrNoChromium):
		level.Warn(logger).Log("msg", "no PDF: the briefing is written as HTML", "file", htmlPath, "err", err)
		return 0
	case err != nil:
		return logFatal(logger, "printing the briefing to PDF", err)
	}
	_ = os.Remove(htmlPath)
	return 0
}
