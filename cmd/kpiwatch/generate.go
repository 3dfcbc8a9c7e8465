package main

import (
	"fmt"
	"io"

	"github.com/kpiwatch/kpiwatch/internal/genfile"

	"github.com/alecthomas/kingpin/v2"

	"github.com/kpiwatch/kpiwatch/alerts"
	"github.com/kpiwatch/kpiwatch/catalogue"
	"github.com/kpiwatch/kpiwatch/dashboards"
	"github.com/kpiwatch/kpiwatch/deploy"
)

type generateCommand struct {
	cmd           *kingpin.CmdClause
	configFile    *string
	alertsDir     *string
	dashboardsDir *string
	deployDir     *string
	receivers     *string
}

func newGenerateCommand(app *kingpin.Application) *generateCommand {
	c := &generateCommand{cmd: app.Command("generate", "Write the alert rules, their tests, the Alertmanager configuration and the Grafana dashboards for a catalogue.")}
	c.configFile = c.cmd.Flag("config.file", "KPI catalogue file (default: the embedded Project 06 catalogue).").String()
	c.alertsDir = c.cmd.Flag("alerts.dir", "Where the rules, rule tests and Alertmanager configuration go.").Default("alerts/generated").String()
	c.dashboardsDir = c.cmd.Flag("dashboards.dir", "Where the dashboards and Grafana provisioning go.").Default("dashboards/generated").String()
	c.deployDir = c.cmd.Flag("deploy.dir", "Where the deployment files go (the Kubernetes PrometheusRule and dashboard ConfigMaps under kubernetes/generated).").Default("deploy").String()
	c.receivers = c.cmd.Flag("alertmanager.receivers-file", "The operator's receivers file (addresses per owner); without it receivers have no addresses.").String()
	return c
}

// artifact is one generator's output: files by path relative to its folder.
type artifact struct {
	dir   string
	files func(*catalogue.Catalogue) (map[string][]byte, error)
}

func (c *generateCommand) run(stdout, stderr io.Writer) int {
	cat, _, err := loadCatalogue(*c.configFile)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	var rcv *alerts.Receivers
	if *c.receivers != "" {
		if rcv, err = alerts.LoadReceivers(*c.receivers, cat); err != nil {
			fmt.Fprintln(stderr, err)
			return 1
		}
	}
	for _, a := range []artifact{
		{*c.alertsDir, func(cat *catalogue.Catalogue) (map[string][]byte, error) { return alerts.Files(cat, rcv) }},
		{*c.dashboardsDir, dashboards.Files},
		{*c.deployDir, deploy.Files},
	} {
		files, err := a.files(cat)
		if err == nil {
			err = genfile.Write(a.dir, files)
		}
		if err != nil {
			fmt.Fprintln(stderr, err)
			return 1
		}
		fmt.Fprintf(stdout, "wrote %d files under %s\n", len(files), a.dir)
	}
	return 0
}
