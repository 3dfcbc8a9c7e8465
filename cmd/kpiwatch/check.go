package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/alecthomas/kingpin/v2"

	"github.com/kpiwatch/kpiwatch/alerts"
)

type checkCommand struct {
	cmd *kingpin.CmdClause
	out *outputFlags
}

func newCheckCommand(app *kingpin.Application) *checkCommand {
	c := &checkCommand{cmd: app.Command("check", "Check what generate wrote with the real tools: promtool check rules, promtool test rules, amtool check-config.")}
	c.out = addOutputFlags(c.cmd)
	return c
}

// tool is a check run with a Debian package's program.
type tool struct {
	name, pkg string
	args      []string
}

func (c *checkCommand) run(stdout, stderr io.Writer) int {
	dir, _, _ := c.out.dirs()
	for _, f := range []string{alerts.RulesFile, alerts.RulesTestFile, alerts.AlertmanagerFile} {
		if _, err := os.Stat(filepath.Join(dir, f)); errors.Is(err, fs.ErrNotExist) {
			fmt.Fprintf(stderr, "%s has no %s: run kpiwatch generate with the same flags first\n", dir, f)
			return 1
		}
	}
	failed := 0
	if err := c.current(dir); err != nil {
		fmt.Fprintln(stderr, err)
		failed++
	}
	for _, t := range []tool{
		{"promtool", "prometheus", []string{"check", "rules", "--lint=all", "--lint-fatal", alerts.RulesFile}},
		{"promtool", "prometheus", []string{"test", "rules", alerts.RulesTestFile}},
		{"amtool", "prometheus-alertmanager", []string{"check-config", alerts.AlertmanagerFile}},
	} {
		if err := t.run(dir, stdout); err != nil {
			fmt.Fprintln(stderr, err)
			failed++
		}
	}
	if failed > 0 {
		fmt.Fprintf(stderr, "%d check(s) failed\n", failed)
		return 1
	}
	fmt.Fprintf(stdout, "%s: rules, rule tests and Alertmanager configuration pass\n", dir)
	return 0
}

// current checks that the rules and rule tests in dir are what the
// catalogue generates today: checking files the catalogue no longer
// generates would pass what will not be deployed.
func (c *checkCommand) current(dir string) error {
	cat, _, err := loadCatalogue(*c.out.configFile)
	if err != nil {
		return err
	}
	files, err := c.out.alertFiles(cat)
	if err != nil {
		return err
	}
	for _, f := range []string{alerts.RulesFile, alerts.RulesTestFile, alerts.AlertmanagerFile} {
		have, err := os.ReadFile(filepath.Join(dir, f))
		if err != nil {
			return err
		}
		if !bytes.Equal(have, files[f]) {
			return fmt.Errorf("%s is not what the catalogue generates today: run kpiwatch generate with the same flags", filepath.Join(dir, f))
		}
	}
	return nil
}

// run runs the tool in dir, its output going to w; a tool not installed is
// an error that names the package to install.
func (t tool) run(dir string, w io.Writer) error {
	path, err := exec.LookPath(t.name)
	if err != nil {
		return fmt.Errorf("%s not found: install Debian's %s package (apt-get install %s)", t.name, t.pkg, t.pkg)
	}
	fmt.Fprintf(w, "$ %s %s (in %s)\n", t.name, strings.Join(t.args, " "), dir)
	cmd := exec.Command(path, t.args...)
	cmd.Dir = dir
	cmd.Stdout, cmd.Stderr = w, w
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("%s %s: %w", t.name, strings.Join(t.args, " "), err)
	}
	return nil
}
