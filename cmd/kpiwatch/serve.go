package main

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/alecthomas/kingpin/v2"
	"github.com/go-kit/log"
	"github.com/go-kit/log/level"
	"github.com/prometheus/client_golang/prometheus"
	promcollectors "github.com/prometheus/client_golang/prometheus/collectors"
	versioncollector "github.com/prometheus/client_golang/prometheus/collectors/version"
	"github.com/prometheus/common/version"
	"github.com/prometheus/exporter-toolkit/web"
	"github.com/prometheus/exporter-toolkit/web/kingpinflag"

	"github.com/kpiwatch/kpiwatch/conventions"
	"github.com/kpiwatch/kpiwatch/exporter"
	kpiweb "github.com/kpiwatch/kpiwatch/web"
)

// defaultAddress is outside 9100-9999, which the Prometheus project has
// fully allocated to other exporters; 10606 recalls Project 06.
const defaultAddress = ":10606"

type serveCommand struct {
	cmd         *kingpin.CmdClause
	configFile  *string
	metricsPath *string
	web         *web.FlagConfig
	renderEvery *time.Duration
	lifecycle   *bool
	push        *pushFlags
}

func newServeCommand(app *kingpin.Application) *serveCommand {
	c := &serveCommand{cmd: app.Command("serve", "Serve the catalogue's KPIs as Prometheus metrics (the default).").Default()}
	c.configFile = c.cmd.Flag("config.file", "KPI catalogue file (default: the embedded Project 06 catalogue and sample data).").String()
	c.metricsPath = c.cmd.Flag("web.telemetry-path", "Path under which to expose metrics.").Default("/metrics").String()
	c.renderEvery = c.cmd.Flag("render.interval", "How often statuses are re-judged between refreshes (they follow the calendar).").Default("1h").Duration()
	c.lifecycle = c.cmd.Flag("web.enable-lifecycle", "Enable reloading the catalogue over HTTP (POST /-/reload), as Prometheus does; SIGHUP always reloads.").Default("false").Bool()
	c.web = kingpinflag.AddFlags(c.cmd, defaultAddress)
	c.push = addPushFlags(c.cmd)
	return c
}

func (c *serveCommand) run(ctx context.Context, logger log.Logger, slogger *slog.Logger) int {
	level.Info(logger).Log("msg", "starting kpiwatch", "version", version.Info(), "build_context", version.BuildContext())
	cat, dir, err := loadCatalogue(*c.configFile)
	if err != nil {
		return logFatal(logger, "loading the catalogue", err)
	}
	exp, err := exporter.New(cat, dir, exporter.Options{Logger: logger, RenderEvery: *c.renderEvery})
	if err != nil {
		return logFatal(logger, "building collectors", err)
	}
	exp.Start(ctx)

	reg := prometheus.NewRegistry()
	reg.MustRegister(exp.Collector(), versioncollector.NewCollector("kpi"),
		promcollectors.NewGoCollector(), promcollectors.NewProcessCollector(promcollectors.ProcessCollectorOpts{}))
	if err := c.push.start(ctx, exp, reg, logger); err != nil {
		return logFatal(logger, "configuring the push", err)
	}

	// Parsing the catalogue is part of the reload: one at a time, and
	// requests that come while one runs share the next.
	reload := newCoalescer(func() error {
		cat, dir, err := loadCatalogue(*c.configFile)
		if err != nil {
			exp.ReloadFailed()
		} else {
			err = exp.Reload(ctx, cat, dir)
		}
		if err != nil {
			level.Error(logger).Log("msg", "reload refused; keeping the running catalogue", "err", err)
			return err
		}
		level.Info(logger).Log("msg", "catalogue reloaded", "kpis", len(cat.KPIs), "sources", len(cat.Sources))
		return nil
	}).Do
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	go func() {
		for {
			select {
			case <-ctx.Done():
				return
			case <-hup:
				_ = reload()
			}
		}
	}()

	httpReload := reload
	if !*c.lifecycle {
		httpReload = nil
	}
	srv := &http.Server{Handler: routes(exp, reg, *c.metricsPath, httpReload), ReadHeaderTimeout: 10 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- web.ListenAndServe(srv, c.web, slogger) }()
	select {
	case err := <-errc:
		if !errors.Is(err, http.ErrServerClosed) {
			return logFatal(logger, "serving", err)
		}
	case <-ctx.Done():
		level.Info(logger).Log("msg", "shutting down")
		shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(shutdown)
	}
	return 0
}

// routes is the HTTP surface: the scorecard and briefing pages at /, and
// what Prometheus users expect: metrics (the roll-ups at metricsPath, every
// observed series at conventions.UnitsPath), health, readiness and reload
// (refused, as by Prometheus, unless reload is set: --web.enable-lifecycle).
func routes(exp *exporter.Exporter, g prometheus.Gatherer, metricsPath string, reload func() error) http.Handler {
	mux := http.NewServeMux()
	metrics := exp.Handler(g)
	mux.Handle(metricsPath, metrics)
	mux.Handle(conventions.UnitsPath, metrics)
	mux.HandleFunc("/-/healthy", func(w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write([]byte("Healthy.\n"))
	})
	mux.HandleFunc("/-/ready", func(w http.ResponseWriter, _ *http.Request) {
		if !exp.Ready() {
			http.Error(w, "Not ready: sources not yet read and served.", http.StatusServiceUnavailable)
			return
		}
		_, _ = w.Write([]byte("Ready.\n"))
	})
	mux.HandleFunc("/-/reload", func(w http.ResponseWriter, r *http.Request) {
		if reload == nil {
			http.Error(w, "Lifecycle API is not enabled (--web.enable-lifecycle).", http.StatusForbidden)
			return
		}
		if r.Method != http.MethodPost && r.Method != http.MethodPut {
			w.Header().Set("Allow", "POST, PUT")
			http.Error(w, "Use POST or PUT to reload.", http.StatusMethodNotAllowed)
			return
		}
		if err := reload(); err != nil {
			http.Error(w, "Reload refused; the running catalogue is kept:\n"+err.Error(), http.StatusBadRequest)
			return
		}
		_, _ = w.Write([]byte("Reloaded.\n"))
	})
	if metricsPath != "/" {
		mux.Handle("/", kpiweb.New(exp.Snapshot, kpiweb.Options{MetricsPath: metricsPath}))
	}
	return mux
}
