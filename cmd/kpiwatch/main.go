// Command kpiwatch serves programme KPIs as Prometheus metrics and generates
// the alert rules and dashboards that go with them, all from one catalogue.
package main

import (
	"context"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"github.com/alecthomas/kingpin/v2"
	"github.com/go-kit/log"
	"github.com/go-kit/log/level"
	"github.com/prometheus/common/version"

	"github.com/kpiwatch/kpiwatch/catalogue"
	"github.com/kpiwatch/kpiwatch/collectors"
	"github.com/kpiwatch/kpiwatch/internal/logging"
	"github.com/kpiwatch/kpiwatch/project06"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// run is main with its context, arguments and streams passed in, for tests.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	app := kingpin.New("kpiwatch", "Programme KPIs as Prometheus metrics, alert rules and Grafana dashboards, from one catalogue.")
	app.Version(version.Print("kpiwatch"))
	app.HelpFlag.Short('h')
	app.UsageWriter(stdout)
	app.ErrorWriter(stderr)
	// --help and --version end the program, but through run's return, so
	// that tests and deferred cleanup see it.
	terminated := false
	app.Terminate(func(int) { terminated = true })
	logLevel := app.Flag("log.level", "Only log messages with the given severity or above.").Default("info").Enum(logging.Levels...)
	logFormat := app.Flag("log.format", "Output format of log messages.").Default("logfmt").Enum(logging.Formats...)

	serve := newServeCommand(app)
	validate := newValidateCommand(app)
	gen := newGenerateCommand(app)
	bf := newBackfillCommand(app)
	check := newCheckCommand(app)
	initCmd := newInitCommand(app)
	rep := newReportCommand(app)

	cmd, err := app.Parse(args)
	if terminated {
		return 0
	}
	if err != nil {
		fmt.Fprintln(stderr, "kpiwatch:", err)
		return 2
	}
	logger, slogger, err := logging.New(stderr, *logLevel, *logFormat)
	if err != nil {
		fmt.Fprintln(stderr, "kpiwatch:", err)
		return 2
	}
	switch cmd {
	case validate.cmd.FullCommand():
		return validate.run(ctx, logger, stdout, stderr)
	case gen.cmd.FullCommand():
		return gen.run(stdout, stderr)
	case check.cmd.FullCommand():
		return check.run(stdout, stderr)
	case initCmd.cmd.FullCommand():
		return initCmd.run(stdout, stderr)
	case bf.cmd.FullCommand():
		return bf.run(ctx, logger, stdout, stderr)
	case rep.cmd.FullCommand():
		return rep.run(ctx, logger, stdout, stderr)
	default:
		return serve.run(ctx, logger, slogger)
	}
}

// loadCatalogue reads the catalogue at path, or the embedded Project 06
// catalogue when path is empty. It returns the folder its relative paths
// resolve in. The catalogue's warnings include its mappings'.
func loadCatalogue(path string) (*catalogue.Catalogue, fs.FS, error) {
	var c *catalogue.Catalogue
	var dir fs.FS
	var err error
	if path == "" {
		c, err = project06.Load()
		dir = project06.FS
	} else {
		c, err = catalogue.LoadFile(path, collectors.Check)
		dir = os.DirFS(filepath.Dir(path))
	}
	if err != nil {
		return nil, nil, err
	}
	c.Warnings = c.Locate(append(c.Warnings, collectors.Warnings(c)...))
	return c, dir, nil
}

func nameOr(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func logFatal(logger log.Logger, msg string, err error) int {
	level.Error(logger).Log("msg", msg, "err", err)
	return 1
}
