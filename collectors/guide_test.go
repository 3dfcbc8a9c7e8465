package collectors

import (
	"os"
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
