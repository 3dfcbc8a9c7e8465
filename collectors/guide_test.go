package collectors

import (
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/kpiwatch/kpiwatch/catalogue"
)

// guideBlocks returns the fenced code blocks of docs/collectors.md that
// follow the given marker comment.
func guideBlocks(t testing.TB, guide, marker string) []string {
	t.Helper()
	data, err := os.ReadFile(guide)
	if err != nil {
		t.Fatal(err)
	}
	var blocks []string
	for _, part := range strings.Split(string(data), "<!-- "+marker+" -->\n")[1:] {
		for strings.HasPrefix(part, "<!-- ") { // another marker on the same block
			part = part[strings.Index(part, "\n")+1:]
		}
		start := strings.Index(part, "\n") + 1 // past the opening fence
		end := strings.Index(part, "\n```\n")
		if !strings.HasPrefix(part, "```") || end < start {
			t.Fatalf("%s: a %s marker not followed by a fenced block", guide, marker)
		}
		blocks = append(blocks, part[start:end+1])
	}
	return blocks
}

// Every source the guide shows loads: its collector accepts its config.
func TestGuideExamples(t *testing.T) {
	blocks := guideBlocks(t, "../docs/collectors.md", "guide-example")
	seen := map[string]bool{}
	for _, block := range blocks {
		var sources []catalogue.Source
		if err := yaml.Unmarshal([]byte(block), &sources); err != nil {
			t.Fatalf("%v in:\n%s", err, block)
		}
		for _, s := range sources {
			if _, errs := New(Env{Source: s}); errs != nil {
				t.Errorf("source %s: %v", s.ID, errs)
			}
			seen[s.Collector] = true
		}
	}
	for _, name := range []string{"csv", "excel", "json", "sql", "tasks"} {
		if !seen[name] {
			t.Errorf("the guide has no example of the %s collector", name)
		}
	}
}

// Every report shape the guide shows reads as the guide says: its files
// (<!-- shape-data NAME FILE -->), read by its source (<!-- shape-source
// NAME -->) over the test catalogue, give the observations shown
// (<!-- shape-expect NAME -->) and reject nothing else.
func TestGuideShapes(t *testing.T) {
	const guide = "../docs/collectors.md"
	data, err := os.ReadFile(guide)
	if err != nil {
		t.Fatal(err)
	}
	names := regexp.MustCompile(`<!-- shape-source (\S+) -->`).FindAllStringSubmatch(string(data), -1)
	if len(names) == 0 {
		t.Fatal("the guide shows no report shape")
	}
	for _, n := range names {
		name := n[1]
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			for _, f := range regexp.MustCompile(`<!-- shape-data `+regexp.QuoteMeta(name)+` (.+?) -->`).FindAllStringSubmatch(string(data), -1) {
				if err := os.MkdirAll(filepath.Join(dir, filepath.Dir(f[1])), 0o755); err != nil {
					t.Fatal(err)
				}
				writeGuideFile(t, dir, f[1], guideBlocks(t, guide, "shape-data "+name+" "+f[1])[0])
			}
			var sources []yaml.Node
			if err := yaml.Unmarshal([]byte(guideBlocks(t, guide, "shape-source "+name)[0]), &sources); err != nil {
				t.Fatal(err)
			}
			node := &sources[0]
			for i := 0; i < len(node.Content); i += 2 {
				if node.Content[i].Value == "id" { // the test catalogue's source is "src"
					node.Content = append(node.Content[:i], node.Content[i+2:]...)
				}
			}
			src, err := yaml.Marshal(node)
			if err != nil {
				t.Fatal(err)
			}
			c, m := newCatalogueSource(t, cumulativeCatalogue, dir, string(src))
			b := collect(t, c, m)
			var got []string
			for k, o := range observed(m, b) {
				got = append(got, k+" "+strconv.FormatFloat(o.Value, 'f', -1, 64))
			}
			var want, rejections []string
			for _, line := range strings.Split(strings.TrimSpace(guideBlocks(t, guide, "shape-expect "+name)[0]), "\n") {
				if r, ok := strings.CutPrefix(line, "rejected: "); ok {
					rejections = append(rejections, r)
				} else {
					want = append(want, line)
				}
			}
			wantContains(t, errorTexts(b.Rejected), rejections...)
			if len(b.Rejected) != len(rejections) {
				t.Errorf("rejected %d, the guide says %d:\n%s", len(b.Rejected), len(rejections), errorTexts(b.Rejected))
			}
			sort.Strings(got)
			sort.Strings(want)
			if g, w := strings.Join(got, "\n"), strings.Join(want, "\n"); g != w {
				t.Errorf("read:\n%s\nthe guide says:\n%s", g, w)
			}
		})
	}
}

// writeGuideFile writes a file the guide shows; a workbook is shown as its
// first sheet's rows, cells separated by ";" (an empty cell is blank).
func writeGuideFile(t *testing.T, dir, name, block string) {
	t.Helper()
	if !strings.HasSuffix(name, ".xlsx") {
		writeFile(t, dir, name, block)
		return
	}
	var rows [][]any
	for _, line := range strings.Split(strings.TrimSuffix(block, "\n"), "\n") {
		var row []any
		for _, cell := range strings.Split(line, ";") {
			if cell = strings.TrimSpace(cell); cell == "" {
				row = append(row, nil)
			} else {
				row = append(row, cell)
			}
		}
		rows = append(rows, row)
	}
	writeWorkbook(t, filepath.Join(dir, filepath.Dir(name)), filepath.Base(name), map[string][][]any{"Sheet1": rows}, []string{"Sheet1"})
}
