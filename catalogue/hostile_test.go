package catalogue_test

import (
	"fmt"
	"os"
	"path/filepath"
	goruntime "runtime"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/kpiwatch/kpiwatch/catalogue"
	"github.com/kpiwatch/kpiwatch/collectors"
)

// aliasBomb is a few hundred bytes of nested aliases standing for 10^12
// nodes.
func aliasBomb() string {
	var b strings.Builder
	b.WriteString(valid)
	b.WriteString("x-bomb:\n  a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n")
	for i := 1; i <= 12; i++ {
		fmt.Fprintf(&b, "  a%d: &a%d [%s]\n", i, i, strings.TrimSuffix(strings.Repeat(fmt.Sprintf("*a%d, ", i-1), 10), ", "))
	}
	return b.String()
}

// Catalogues built to take the loader down are refused at once, with a
// message that says why, and without the memory they stand for.
func TestHostileCatalogues(t *testing.T) {
	fsys := fstest.MapFS{"data.csv": {Data: []byte("kpi,period,value,num,den,province\n")}}
	for _, c := range []struct {
		name, text, want string
	}{
		{"nested aliases", aliasBomb(), "aliases expand to more than 1000000 nodes"},
		{"an alias inside the catalogue's own keys", strings.Replace(aliasBomb(), "x-bomb:", "metadata2:", 1), "aliases expand to more than"},
		{"an alias inside itself", valid + "x-loop: &l [*l]\n", "aliases expand to more than"},
		{"two documents", valid + "---\n" + valid, "kpis.yaml:"},
		{"two documents, said why", valid + "---\n" + valid, "a second YAML document (after ---): a catalogue is one document"},
		{"an empty file", "", "empty catalogue: the file holds no YAML document"},
		{"only a comment", "# nothing yet\n", "empty catalogue: the file holds no YAML document"},
		{"too large", valid + "# " + strings.Repeat("x", catalogue.MaxBytes) + "\n", "more than 33554432 bytes"},
	} {
		t.Run(c.name, func(t *testing.T) {
			var before goruntime.MemStats
			goruntime.ReadMemStats(&before)
			_, err := catalogue.Parse("kpis.yaml", []byte(c.text), fsys, collectors.Check)
			var after goruntime.MemStats
			goruntime.ReadMemStats(&after)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("got %v, want an error with %q", shorten(err), c.want)
			}
			// A bound, not a timing: refusing the catalogue allocates
			// little next to what it would expand to.
			if grew := after.TotalAlloc - before.TotalAlloc; grew > 256<<20 {
				t.Errorf("refusing it allocated %d MB", grew>>20)
			}
		})
	}
}

func shorten(err error) string {
	s := fmt.Sprint(err)
	if len(s) > 300 {
		s = s[:300] + "..."
	}
	return s
}

// LoadFile reads no more than MaxBytes, and no device or FIFO.
func TestLoadFileBounds(t *testing.T) {
	if _, err := catalogue.LoadFile("/dev/zero", collectors.Check); err == nil || !strings.Contains(err.Error(), "not a regular file") {
		t.Errorf("/dev/zero: %v", err)
	}
	big := filepath.Join(t.TempDir(), "big.yaml")
	if err := os.WriteFile(big, []byte(valid+"# "+strings.Repeat("x", catalogue.MaxBytes)+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := catalogue.LoadFile(big, collectors.Check); err == nil || !strings.Contains(err.Error(), "more than") {
		t.Errorf("a file over MaxBytes: %v", shorten(err))
	}
}

// Anchors and aliases of honest use still load.
func TestHonestAliasesLoad(t *testing.T) {
	text := strings.Replace(valid, "    timeout: 30s\n", "    timeout: &t 30s\n", 1)
	fsys := fstest.MapFS{"data.csv": {Data: []byte("kpi,period,value,num,den,province\n")}}
	if _, err := catalogue.Parse("kpis.yaml", []byte(text), fsys, collectors.Check); err != nil {
		t.Fatal(err)
	}
}
