package deploy_test

import (
	"bytes"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/kpiwatch/kpiwatch/deploy"
	"github.com/kpiwatch/kpiwatch/internal/realserver"
	"github.com/kpiwatch/kpiwatch/project06"
)

// repo is the repository root, from deploy/.
const repo = ".."

// rulesFile is the generated rule file every deployment runs.
const rulesFile = "../alerts/generated/kpiwatch.rules.yml"

func TestGeneratedKubernetesObjectsAreUpToDate(t *testing.T) {
	cat, err := project06.Load()
	if err != nil {
		t.Fatal(err)
	}
	files, err := deploy.Files(cat)
	if err != nil {
		t.Fatal(err)
	}
	again, err := deploy.Files(cat)
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range files {
		if !bytes.Equal(want, again[name]) {
			t.Errorf("%s differs between two runs of the generator", name)
		}
		got, err := os.ReadFile(name)
		if err != nil {
			t.Fatalf("%v: run make generate", err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s is not what the generator writes: run make generate and commit", name)
		}
	}
}

// TestPrometheusRuleCarriesTheGeneratedRules checks the PrometheusRule holds
// exactly the generated rule file's groups.
func TestPrometheusRuleCarriesTheGeneratedRules(t *testing.T) {
	var rules, object struct {
		Groups []map[string]any `yaml:"groups"`
		Kind   string           `yaml:"kind"`
		Spec   struct {
			Groups []map[string]any `yaml:"groups"`
		} `yaml:"spec"`
	}
	decodeFile(t, rulesFile, &rules)
	decodeFile(t, deploy.PrometheusRuleFile, &object)
	if object.Kind != "PrometheusRule" || len(rules.Groups) == 0 {
		t.Fatalf("kind %q, %d rule groups", object.Kind, len(rules.Groups))
	}
	a, _ := yaml.Marshal(rules.Groups)
	b, _ := yaml.Marshal(object.Spec.Groups)
	if !bytes.Equal(a, b) {
		t.Error("the PrometheusRule's groups differ from the generated rule file's")
	}
}

func TestKubernetesManifests(t *testing.T) {
	var k struct {
		Resources []string `yaml:"resources"`
	}
	decodeFile(t, "kubernetes/kustomization.yaml", &k)
	for _, want := range []string{deploy.PrometheusRuleFile, deploy.DashboardsFile} {
		if !slices.Contains(k.Resources, strings.TrimPrefix(want, "kubernetes/")) {
			t.Errorf("kustomization.yaml does not list %s", want)
		}
	}
	kinds := map[string]int{}
	dashboards := 0
	for _, r := range k.Resources {
		docs := decodeDocs(t, filepath.Join("kubernetes", r))
		for i, d := range docs {
			var obj struct {
				APIVersion string `yaml:"apiVersion"`
				Kind       string `yaml:"kind"`
				Metadata   struct {
					Name   string            `yaml:"name"`
					Labels map[string]string `yaml:"labels"`
				} `yaml:"metadata"`
				Data map[string]string `yaml:"data"`
			}
			if err := d.Decode(&obj); err != nil {
				t.Fatalf("%s document %d: %v", r, i+1, err)
			}
			if obj.APIVersion == "" || obj.Kind == "" || obj.Metadata.Name == "" {
				t.Errorf("%s document %d: apiVersion, kind and metadata.name are required", r, i+1)
			}
			kinds[obj.Kind]++
			if obj.Kind == "ConfigMap" && obj.Metadata.Labels[deploy.DashboardLabel] == "1" {
				dashboards++
				for name, body := range obj.Data {
					want, err := os.ReadFile(filepath.Join(repo, "dashboards/generated/dashboards", name))
					if err != nil || body != string(want) {
						t.Errorf("ConfigMap %s: %s is not the generated dashboard (%v)", obj.Metadata.Name, name, err)
					}
				}
			}
		}
	}
	for _, kind := range []string{"Deployment", "Service", "ServiceMonitor", "PrometheusRule"} {
		if kinds[kind] != 1 {
			t.Errorf("%d %s objects, want 1", kinds[kind], kind)
		}
	}
	boards, _ := filepath.Glob(filepath.Join(repo, "dashboards/generated/dashboards/*.json"))
	if dashboards == 0 || dashboards != len(boards) {
		t.Errorf("%d dashboard ConfigMaps for %d generated dashboards", dashboards, len(boards))
	}
}

// composeFile is what the tests read of a compose file.
type composeFile struct {
	Services map[string]struct {
		Image string `yaml:"image"`
		Build *struct {
			Context    string `yaml:"context"`
			Dockerfile string `yaml:"dockerfile"`
		} `yaml:"build"`
		Volumes   []string  `yaml:"volumes"`
		DependsOn yaml.Node `yaml:"depends_on"`
	} `yaml:"services"`
	Volumes map[string]any `yaml:"volumes"`
}

// composeFiles are the compose files in deploy/.
var composeFiles = []string{"docker-compose.yml", "victoriametrics-cluster/docker-compose.yml", "ha/docker-compose.yml"}

// mounts lists a compose file's bind mounts: container path -> host path
// (relative to deploy/).
func mounts(t *testing.T, path string) map[string]string {
	t.Helper()
	var c composeFile
	decodeFile(t, path, &c)
	out := map[string]string{}
	for _, s := range c.Services {
		for _, v := range s.Volumes {
			parts := strings.Split(v, ":")
			if strings.HasPrefix(parts[0], ".") || strings.HasPrefix(parts[0], "/") {
				out[parts[1]] = filepath.Join(filepath.Dir(path), parts[0])
			}
		}
	}
	return out
}

func TestComposeFiles(t *testing.T) {
	for _, path := range composeFiles {
		var c composeFile
		decodeFile(t, path, &c)
		if len(c.Services) == 0 {
			t.Fatalf("%s: no services", path)
		}
		dir := filepath.Dir(path)
		for name, s := range c.Services {
			if s.Image == "" && s.Build == nil {
				t.Errorf("%s: service %s has neither image nor build", path, name)
			}
			if s.Build != nil {
				mustExist(t, path, filepath.Join(dir, s.Build.Context, s.Build.Dockerfile))
			}
			for _, v := range s.Volumes {
				src := strings.Split(v, ":")[0]
				if strings.HasPrefix(src, ".") || strings.HasPrefix(src, "/") {
					mustExist(t, path, filepath.Join(dir, src))
				} else if _, ok := c.Volumes[src]; !ok {
					t.Errorf("%s: service %s mounts the undeclared volume %s", path, name, src)
				}
			}
			for _, dep := range dependencies(s.DependsOn) {
				if _, ok := c.Services[dep]; !ok {
					t.Errorf("%s: service %s depends on the unknown service %s", path, name, dep)
				}
			}
		}
	}
}

// dependencies reads depends_on in either of its forms (list or map).
func dependencies(n yaml.Node) []string {
	var out []string
	switch n.Kind {
	case yaml.SequenceNode:
		for _, c := range n.Content {
			out = append(out, c.Value)
		}
	case yaml.MappingNode:
		for i := 0; i < len(n.Content); i += 2 {
			out = append(out, n.Content[i].Value)
		}
	}
	return out
}

// installedRules maps where a deployment puts the generated rule file to
// the repository's copy: the compose files' mounts, and the Debian guide's
// install path.
func installedRules(t *testing.T) map[string]string {
	out := map[string]string{"/etc/prometheus/kpiwatch/kpiwatch.rules.yml": rulesFile}
	for _, path := range composeFiles {
		for container, host := range mounts(t, path) {
			if strings.HasSuffix(container, ".rules.yml") {
				out[container] = host
			}
		}
	}
	guide, err := os.ReadFile("debian.md")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(guide), "/etc/prometheus/kpiwatch/") {
		t.Error("debian.md does not install the rules where systemd/prometheus.yml reads them")
	}
	return out
}

// TestPrometheusConfigs runs the real promtool on every Prometheus-format
// configuration in deploy/, with the rule files it names resolved to the
// generated rules, which promtool then checks too.
func TestPrometheusConfigs(t *testing.T) {
	promtool := realserver.Binary(t, "promtool", "prometheus")
	rules := installedRules(t)
	configs := prometheusConfigs(t)
	if len(configs) < 4 {
		t.Fatalf("found only %v", configs)
	}
	for _, path := range configs {
		var cfg struct {
			RuleFiles []string `yaml:"rule_files"`
		}
		decodeFile(t, path, &cfg)
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		checked := path
		if slices.ContainsFunc(cfg.RuleFiles, filepath.IsAbs) {
			for _, rf := range cfg.RuleFiles {
				host, ok := rules[rf]
				if !ok {
					t.Fatalf("%s: rule file %s is installed from nowhere the tests know", path, rf)
				}
				abs, _ := filepath.Abs(host)
				data = bytes.ReplaceAll(data, []byte(rf), []byte(abs))
			}
			checked = filepath.Join(t.TempDir(), filepath.Base(path))
			if err := os.WriteFile(checked, data, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		out, err := exec.Command(promtool, "check", "config", checked).CombinedOutput()
		if err != nil {
			t.Errorf("promtool check config %s: %v\n%s", path, err, out)
			continue
		}
		if got := strings.Count(string(out), "rules found"); got != len(cfg.RuleFiles) {
			t.Errorf("promtool checked %d rule files of %s, want %d:\n%s", got, path, len(cfg.RuleFiles), out)
		}
	}
}

// prometheusConfigs finds the Prometheus-format configurations in deploy/:
// YAML files with scrape_configs.
func prometheusConfigs(t *testing.T) []string {
	var out []string
	err := filepath.WalkDir(".", func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".yml") && !strings.HasSuffix(path, ".yaml") {
			return err
		}
		data, err := os.ReadFile(path)
		if err == nil && regexp.MustCompile(`(?m)^scrape_configs:`).Match(data) {
			out = append(out, path)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(out)
	return out
}

// TestAlertmanagerConfig runs amtool on the Alertmanager configuration every
// deployment mounts, with its template beside it as they mount it.
func TestAlertmanagerConfig(t *testing.T) {
	amtool := realserver.Binary(t, "amtool", "prometheus-alertmanager")
	for _, path := range composeFiles {
		m := mounts(t, path)
		cfg, tmpl := m["/etc/alertmanager/alertmanager.yml"], m["/etc/alertmanager/kpiwatch.tmpl"]
		if cfg == "" || tmpl == "" || filepath.Dir(cfg) != filepath.Dir(tmpl) {
			t.Errorf("%s: Alertmanager's configuration and template are not mounted side by side", path)
			continue
		}
		out, err := exec.Command(amtool, "check-config", cfg).CombinedOutput()
		if err != nil || !strings.Contains(string(out), "SUCCESS") {
			t.Errorf("amtool check-config %s: %v\n%s", cfg, err, out)
		}
	}
}

// TestVMAlertRunsTheRules checks the rules load in Debian's vmalert, as the
// cluster layout runs them.
func TestVMAlertRunsTheRules(t *testing.T) {
	vmalert := realserver.Binary(t, "vmalert", "victoria-metrics")
	rf := mounts(t, "victoriametrics-cluster/docker-compose.yml")["/etc/vmalert/kpiwatch.rules.yml"]
	if rf == "" {
		t.Fatal("the cluster layout does not mount the rules for vmalert")
	}
	out, err := exec.Command(vmalert, "-dryRun", "-rule="+rf).CombinedOutput()
	if err != nil {
		t.Errorf("vmalert -dryRun -rule=%s: %v\n%s", rf, err, out)
	}
}

// TestDemo runs `make demo` as a user would, on free ports (which also shows
// they can be moved), and checks that history is served and that Alertmanager
// delivers the alerts the sample implies to the demo's webhook receiver.
func TestDemo(t *testing.T) {
	if out, err := exec.Command("bash", "-n", "demo.sh").CombinedOutput(); err != nil {
		t.Fatalf("bash -n demo.sh: %v\n%s", err, out)
	}
	for _, tool := range [][2]string{{"prometheus", "prometheus"}, {"promtool", "prometheus"}, {"prometheus-alertmanager", "prometheus-alertmanager"}, {"victoria-metrics", "victoria-metrics"}} {
		realserver.Binary(t, tool[0], tool[1])
	}
	cmd := exec.Command("bash", "demo.sh", "--check")
	cmd.Env = os.Environ()
	for _, v := range []string{"EXPORTER", "PROMETHEUS", "ALERTMANAGER", "VM", "WEBHOOK"} {
		cmd.Env = append(cmd.Env, "DEMO_"+v+"="+realserver.FreeAddr(t))
	}
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("demo.sh --check: %v\n%s", err, out)
	}
	for _, alert := range []string{"KPITargetMissed", "KPIReportOverdue", "KPITaskOverdue"} {
		if !strings.Contains(string(out), "] "+alert+" ") {
			t.Errorf("the demo printed no delivered %s:\n%s", alert, out)
		}
	}
}

func mustExist(t *testing.T, file, path string) {
	t.Helper()
	if _, err := os.Stat(path); err != nil {
		t.Errorf("%s refers to %s, which does not exist", file, path)
	}
}

func decodeFile(t *testing.T, path string, v any) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(data, v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

// decodeDocs splits a multi-document YAML file.
func decodeDocs(t *testing.T, path string) []*yaml.Node {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var docs []*yaml.Node
	for {
		var n yaml.Node
		if err := dec.Decode(&n); err != nil {
			if errors.Is(err, io.EOF) {
				return docs
			}
			t.Fatalf("%s: %v", path, err)
		}
		docs = append(docs, &n)
	}
}
