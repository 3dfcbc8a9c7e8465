package main

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kpiwatch/kpiwatch/internal/realserver"
)

// generated lists the files under dir, relative to it.
func generated(t *testing.T, dir string) []string {
	t.Helper()
	var files []string
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			rel, _ := filepath.Rel(dir, p)
			files = append(files, filepath.ToSlash(rel))
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

// An operator's catalogue generates beside itself (or where --output.dir
// says), never into the repository's Project 06 artifacts, which only the
// embedded catalogue writes (make generate).
func TestGenerateWritesBesideTheCatalogue(t *testing.T) {
	dir := t.TempDir()
	cfg := write(t, dir, "kpis.yaml", testCatalogue)
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	before := generated(t, wd)
	other := filepath.Join(t.TempDir(), "out")
	for _, c := range []struct {
		args []string
		out  string
	}{
		{[]string{"--config.file=" + cfg}, filepath.Join(dir, "generated")},
		{[]string{"--config.file=" + cfg, "--output.dir=" + other}, other},
	} {
		var stdout, stderr bytes.Buffer
		if code := run(context.Background(), append([]string{"generate"}, c.args...), &stdout, &stderr); code != 0 {
			t.Fatalf("generate %v: exit %d\n%s", c.args, code, stderr.String())
		}
		files := strings.Join(generated(t, c.out), "\n")
		for _, want := range []string{"alerts/kpiwatch.rules.yml", "alerts/kpiwatch.rules.test.yml", "alerts/alertmanager.yml",
			"dashboards/dashboards/kpiwatch-overview.json", "deploy/kubernetes/generated/prometheusrule.yaml"} {
			if !strings.Contains(files, want) {
				t.Errorf("generate %v wrote no %s under %s:\n%s", c.args, want, c.out, files)
			}
		}
		// The rules name no KPI where a rule holds them all; their tests do.
		rules, err := os.ReadFile(filepath.Join(c.out, "alerts", "kpiwatch.rules.yml"))
		if err == nil {
			var tests []byte
			tests, err = os.ReadFile(filepath.Join(c.out, "alerts", "kpiwatch.rules.test.yml"))
			rules = append(rules, tests...)
		}
		if err != nil || !strings.Contains(string(rules), `from the catalogue "test"`) || !strings.Contains(string(rules), "paid_by_bank") {
			t.Errorf("the rules are not the operator's catalogue's: %v", err)
		}
	}
	if after := generated(t, wd); strings.Join(after, "\n") != strings.Join(before, "\n") {
		t.Errorf("generate wrote into the working directory:\n%v", after)
	}
}

func TestCheck(t *testing.T) {
	dir := t.TempDir()
	cfg := write(t, dir, "kpis.yaml", testCatalogue)
	if code := run(context.Background(), []string{"generate", "--config.file=" + cfg}, io.Discard, io.Discard); code != 0 {
		t.Fatalf("generate: exit %d", code)
	}
	realserver.Binary(t, "promtool", "prometheus")
	realserver.Binary(t, "amtool", "prometheus-alertmanager")
	check := func() (int, string) {
		var out bytes.Buffer
		code := run(context.Background(), []string{"check", "--config.file=" + cfg}, &out, &out)
		return code, out.String()
	}
	code, out := check()
	if code != 0 {
		t.Fatalf("check of freshly generated files: exit %d\n%s", code, out)
	}
	for _, want := range []string{"SUCCESS: ", "Unit Testing:  kpiwatch.rules.test.yml", "Checking 'alertmanager.yml'  SUCCESS", "rules, rule tests and Alertmanager configuration pass"} {
		if !strings.Contains(out, want) {
			t.Errorf("check output lacks %q:\n%s", want, out)
		}
	}

	// A rule test that no longer holds fails the check.
	tests := filepath.Join(dir, "generated", "alerts", "kpiwatch.rules.test.yml")
	data, err := os.ReadFile(tests)
	if err != nil {
		t.Fatal(err)
	}
	broken := strings.Replace(string(data), "              severity: warning\n", "              severity: none\n", 1)
	if broken == string(data) {
		t.Fatal("test broken: no expected alert of severity warning in the generated rule tests")
	}
	write(t, filepath.Dir(tests), filepath.Base(tests), broken)
	if code, out := check(); code != 1 || !strings.Contains(out, "promtool test rules kpiwatch.rules.test.yml: exit status 1") {
		t.Errorf("a failing rule test: exit %d\n%s", code, out)
	}

	// Files older than the catalogue fail the check, whatever the tools say.
	write(t, filepath.Dir(tests), filepath.Base(tests), string(data))
	write(t, dir, "kpis.yaml", strings.Replace(testCatalogue, "value: 1}", "value: 0.95}", 1))
	if code, out := check(); code != 1 || !strings.Contains(out, "kpiwatch.rules.test.yml is not what the catalogue generates today: run kpiwatch generate") {
		t.Errorf("a catalogue edited after generate: exit %d\n%s", code, out)
	}
	write(t, dir, "kpis.yaml", testCatalogue)

	// check takes generate's receivers flag and compares the Alertmanager
	// configuration written from it; forgetting the flag is named.
	receivers := write(t, dir, "receivers.yml", "owners:\n  mps:\n    webhook_configs:\n      - url: https://alerts.example.gov.vn/hooks/mps\n")
	withReceivers := []string{"--config.file=" + cfg, "--alertmanager.receivers-file=" + receivers}
	if code := run(context.Background(), append([]string{"generate"}, withReceivers...), io.Discard, io.Discard); code != 0 {
		t.Fatalf("generate with receivers: exit %d", code)
	}
	var rcvOut bytes.Buffer
	if code := run(context.Background(), append([]string{"check"}, withReceivers...), &rcvOut, &rcvOut); code != 0 {
		t.Errorf("check with generate's receivers flag: exit %d\n%s", code, rcvOut.String())
	}
	if code, out := check(); code != 1 || !strings.Contains(out, "alertmanager.yml is not what the catalogue generates today") {
		t.Errorf("check without the receivers generate used: exit %d\n%s", code, out)
	}
	if code := run(context.Background(), []string{"generate", "--config.file=" + cfg}, io.Discard, io.Discard); code != 0 {
		t.Fatalf("generate: exit %d", code)
	}

	// Without the tools, check names the packages to install.
	t.Setenv("PATH", t.TempDir())
	code, out = check()
	if code != 1 || !strings.Contains(out, "promtool not found: install Debian's prometheus package (apt-get install prometheus)") ||
		!strings.Contains(out, "amtool not found: install Debian's prometheus-alertmanager package") {
		t.Errorf("tools missing: exit %d\n%s", code, out)
	}

	// Before generate, check says to run it.
	if code, out := func() (int, string) {
		var o bytes.Buffer
		c := run(context.Background(), []string{"check", "--output.dir=" + t.TempDir()}, &o, &o)
		return c, o.String()
	}(); code != 1 || !strings.Contains(out, "run kpiwatch generate with the same flags first") {
		t.Errorf("nothing generated: exit %d\n%s", code, out)
	}
}
