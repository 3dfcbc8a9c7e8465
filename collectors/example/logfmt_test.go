package example

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kpiwatch/kpiwatch/catalogue"
	"github.com/kpiwatch/kpiwatch/collectors"
)

func TestLogfmtCollector(t *testing.T) {
	dir := t.TempDir()
	lines := `province="Hà Nội" date=2025-10 value=1.058.569
province="TP. Hồ Chí Minh" date=31/10/2025 value=2.345.678 note="late"

province=Huế date=2025-10 value="chưa có"
`
	if err := os.WriteFile(filepath.Join(dir, "counters.log"), []byte(lines), 0o644); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile("testdata/catalogue.yaml")
	if err != nil {
		t.Fatal(err)
	}
	cat, err := catalogue.Parse("catalogue.yaml", data, os.DirFS(dir), collectors.Check)
	if err != nil {
		t.Fatal(err)
	}
	c, errs := collectors.New(collectors.Env{Source: cat.Sources[0], Dir: os.DirFS(dir)})
	if errs != nil {
		t.Fatal(errs)
	}
	b, err := c.Collect(context.Background(), collectors.NewMapper(cat, "counters"))
	if err != nil {
		t.Fatal(err)
	}
	oct := time.Date(2025, 10, 1, 0, 0, 0, 0, time.UTC)
	want := []struct {
		province string
		value    float64
	}{{"Ha Noi", 1058569}, {"Ho Chi Minh", 2345678}}
	if len(b.Observations) != len(want) {
		t.Fatalf("%d observations, want %d", len(b.Observations), len(want))
	}
	for i, w := range want {
		o := b.Observations[i]
		if o.Labels[0] != w.province || o.Value != w.value || !o.Period.Equal(oct) {
			t.Errorf("observation %d: %v %g %v, want %s %g %v", i, o.Labels, o.Value, o.Period, w.province, w.value, oct)
		}
	}
	wantErr := `source counters: counters.log: row 4, column "value": "chưa có" is not a number`
	if len(b.Rejected) != 1 || b.Rejected[0].Error() != wantErr {
		t.Errorf("rejected %v, want [%s]", b.Rejected, wantErr)
	}
}

func TestLogfmtConfigErrors(t *testing.T) {
	data, err := os.ReadFile("testdata/catalogue.yaml")
	if err != nil {
		t.Fatal(err)
	}
	bad := strings.Replace(string(data), "path: counters.log", "file: counters.log", 1)
	_, err = catalogue.Parse("catalogue.yaml", []byte(bad), os.DirFS(t.TempDir()), collectors.Check)
	if want := "catalogue.yaml:11: sources[0].config.file: unknown field"; err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("error %v, want %q in it", err, want)
	}
}
