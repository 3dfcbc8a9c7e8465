package example

import (
	"os"
	"strings"
	"testing"
)

// The guide shows this collector as it is, so the listing cannot go stale.
func TestGuideShowsTheExample(t *testing.T) {
	guide, err := os.ReadFile("../../docs/collectors.md")
	if err != nil {
		t.Fatal(err)
	}
	source, err := os.ReadFile("logfmt.go")
	if err != nil {
		t.Fatal(err)
	}
	_, listing, found := strings.Cut(string(guide), "<!-- guide-collector -->\n```go\n")
	if !found || !strings.HasPrefix(listing, string(source)+"```\n") {
		t.Error("docs/collectors.md does not show collectors/example/logfmt.go as it is: copy the file into the block after <!-- guide-collector -->")
	}
}
