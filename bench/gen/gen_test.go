package gen_test

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/kpiwatch/kpiwatch/bench/gen"
	"github.com/kpiwatch/kpiwatch/catalogue"
	"github.com/kpiwatch/kpiwatch/collectors"
	"github.com/kpiwatch/kpiwatch/units"
)

func TestGeneratedCatalogueIsDeterministicAndLoads(t *testing.T) {
	c := gen.New(20000)
	if c.Series() != 20000 || len(c.KPIs) != gen.KPIs || len(c.Communes) != 200 {
		t.Fatalf("%d series of %d KPIs over %d communes, want 20000 of %d over 200", c.Series(), len(c.KPIs), len(c.Communes), gen.KPIs)
	}
	seen := map[string]bool{}
	provinces := map[string]bool{}
	for _, cm := range c.Communes {
		key := cm.Province.Name + "/" + cm.Name
		if seen[key] {
			t.Errorf("commune %s twice", key)
		}
		seen[key] = true
		provinces[cm.Province.Name] = true
	}
	if len(provinces) != len(units.Default().Level("province").Current()) {
		t.Errorf("communes in %d provinces, want all %d", len(provinces), len(units.Default().Level("province").Current()))
	}
	var files [2][]byte
	for i := range files {
		dir := t.TempDir()
		path, err := c.Write(dir)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := catalogue.LoadFile(path, collectors.Check); err != nil {
			t.Fatal(err)
		}
		if files[i], err = os.ReadFile(filepath.Join(dir, gen.DataFile)); err != nil {
			t.Fatal(err)
		}
	}
	if !bytes.Equal(files[0], files[1]) {
		t.Error("two runs wrote different CSVs")
	}
	if rows := bytes.Count(files[0], []byte("\n")); rows != c.Series()+1 {
		t.Errorf("%d lines, want a header and %d rows", rows, c.Series())
	}
}

func TestMissPutsOneTargetInThePast(t *testing.T) {
	now := time.Date(2026, 12, 3, 13, 0, 0, 0, time.UTC)
	c := gen.New(1000).Miss(now)
	path, err := c.Write(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	cat, err := catalogue.LoadFile(path, collectors.Check)
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range cat.KPIs {
		by := k.Targets[len(k.Targets)-1].By.Time
		if missed := k.ID == c.Missed(); missed != by.Before(now.AddDate(0, 0, -1).Add(time.Second)) {
			t.Errorf("%s: target due %s (missed KPI %s)", k.ID, by.Format(time.DateOnly), c.Missed())
		}
	}
	if c.Missed() != gen.New(1000).Missed() {
		t.Error("Miss changed which KPI is the first")
	}
}
