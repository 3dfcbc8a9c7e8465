package main

import (
	"fmt"
	"io"
	"path/filepath"

	"github.com/alecthomas/kingpin/v2"

	"github.com/kpiwatch/kpiwatch/alerts"
	"github.com/kpiwatch/kpiwatch/catalogue"
	"github.com/kpiwatch/kpiwatch/dashboards"
	"github.com/kpiwatch/kpiwatch/deploy"
	"github.com/kpiwatch/kpiwatch/internal/genfile"
)

// outputFlags say where generated files go, for generate and check alike.
type outputFlags struct {
	configFile    *string
	outputDir     *string
	alertsDir     *string
	dashboardsDir *string
	deployDir     *string
	// receiversFile is the operator's receivers file; check takes it too, so
	// that it compares with what generate wrote from it.
	receiversFile *string
}

func addOutputFlags(cmd *kingpin.CmdClause) *outputFlags {
	return &outputFlags{
		configFile: cmd.Flag("config.file", "KPI catalogue file (default: the embedded Project 06 catalogue).").String(),
		outputDir: cmd.Flag("output.dir", "Where the generated files go, in alerts/, dashboards/ and deploy/ (default: generated/ beside the catalogue; for the embedded catalogue, the repository's alerts/generated, dashboards/generated and deploy).").
			String(),
		alertsDir:     cmd.Flag("alerts.dir", "Where the rules, rule tests and Alertmanager configuration go (overrides --output.dir).").String(),
		dashboardsDir: cmd.Flag("dashboards.dir", "Where the dashboards and Grafana provisioning go (overrides --output.dir).").String(),
		deployDir:     cmd.Flag("deploy.dir", "Where the deployment files go, the Kubernetes PrometheusRule and dashboard ConfigMaps under kubernetes/generated (overrides --output.dir).").String(),
		receiversFile: cmd.Flag("alertmanager.receivers-file", "The operator's receivers file (addresses per owner); without it receivers have no addresses.").String(),
	}
}

// alertFiles are the rules, rule tests and Alertmanager configuration that
// the catalogue and the receivers file give.
func (o *outputFlags) alertFiles(cat *catalogue.Catalogue) (map[string][]byte, error) {
	var rcv *alerts.Receivers
	if *o.receiversFile != "" {
		var err error
		if rcv, err = alerts.LoadReceivers(*o.receiversFile, cat); err != nil {
			return nil, err
		}
	}
	return alerts.Files(cat, rcv)
}

// dirs are the folders the generated files go in. An operator's catalogue
// gets its own, beside it, so that generating it never touches the
// repository's Project 06 artifacts; only the embedded catalogue writes
// those.
func (o *outputFlags) dirs() (alertsDir, dashboardsDir, deployDir string) {
	out := *o.outputDir
	if out == "" && *o.configFile != "" {
		out = filepath.Join(filepath.Dir(*o.configFile), "generated")
	}
	if out == "" {
		alertsDir, dashboardsDir, deployDir = filepath.Join("alerts", "generated"), filepath.Join("dashboards", "generated"), "deploy"
	} else {
		alertsDir, dashboardsDir, deployDir = filepath.Join(out, "alerts"), filepath.Join(out, "dashboards"), filepath.Join(out, "deploy")
	}
	for _, o := range []struct{ flag, dir *string }{{o.alertsDir, &alertsDir}, {o.dashboardsDir, &dashboardsDir}, {o.deployDir, &deployDir}} {
		if *o.flag != "" {
			*o.dir = *o.flag
		}
	}
	return alertsDir, dashboardsDir, deployDir
}

type generateCommand struct {
	cmd *kingpin.CmdClause
	out *outputFlags
}

func newGenerateCommand(app *kingpin.Application) *generateCommand {
	c := &generateCommand{cmd: app.Command("generate", "Write the alert rules, their tests, the Alertmanager configuration and the Grafana dashboards for a catalogue.")}
	c.out = addOutputFlags(c.cmd)
	return c
}

// artifact is one generator's output: files by path relative to its folder.
type artifact struct {
	dir   string
	files func(*catalogue.Catalogue) (map[string][]byte, error)
}

func (c *generateCommand) run(stdout, stderr io.Writer) int {
	cat, _, err := loadCatalogue(*c.out.configFile)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	alertsDir, dashboardsDir, deployDir := c.out.dirs()
	for _, a := range []artifact{
		{alertsDir, c.out.alertFiles},
		{dashboardsDir, dashboards.Files},
		{deployDir, deploy.Files},
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
