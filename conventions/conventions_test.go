package conventions

import (
	"os"
	"regexp"
	"strings"
	"testing"
)

var validName = regexp.MustCompile(`^[a-zA-Z_:][a-zA-Z0-9_:]*$`)

// TestReadmeListsEveryMetric keeps the README's metrics reference complete.
func TestReadmeListsEveryMetric(t *testing.T) {
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for n := range Help {
		names = append(names, n)
	}
	for _, n := range names {
		if !validName.MatchString(n) {
			t.Errorf("%q is not a valid metric name", n)
		}
		if !strings.HasPrefix(n, Prefix) && !strings.Contains(n, ":"+Prefix) {
			t.Errorf("%q does not carry the %s prefix", n, Prefix)
		}
		if !strings.Contains(string(readme), "`"+n+"`") {
			t.Errorf("README.md does not document %s", n)
		}
	}
}
