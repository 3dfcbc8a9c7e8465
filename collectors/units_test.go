package collectors_test

import (
	"context"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/kpiwatch/kpiwatch/catalogue"
	"github.com/kpiwatch/kpiwatch/collectors"
	"github.com/kpiwatch/kpiwatch/units/unitstest"
)

const communeCatalogue = `apiVersion: kpiwatch.io/v1
kind: Catalogue
metadata: {name: tay-ninh, units: units.yaml}
blocks: [{id: province, name_vi: Khối chính quyền, name_en: Provincial government}]
owners: [{id: sct, name: Department of Industry and Trade, block: province}]
sources:
  - id: communes
    collector: csv
    config:
      path: r.csv
      mapping: {kpi: dossiers, date: Kỳ, value: Số hồ sơ, dimensions: {commune: Xã/phường}}
kpis:
  - id: dossiers
    name: Dossiers filed online
    kind: count
    direction: higher_is_better
    owner: sct
    dimensions: [commune]
    cadence: {period: monthly, due_day: 15}
    source: communes
    baseline: {date: 2025-01-01, value: 0}
    targets: [{by: 2026-12-31, value: 1000, scope: each}]
`

func collectCommunes(t *testing.T, rows string) *collectors.Batch {
	t.Helper()
	fsys := unitstest.Files()
	fsys["r.csv"] = &fstest.MapFile{Data: []byte("Xã/phường,Kỳ,Số hồ sơ\n" + rows)}
	c, err := catalogue.Parse("kpis.yaml", []byte(communeCatalogue), fsys, collectors.Check)
	if err != nil {
		t.Fatal(err)
	}
	src, _ := c.Source("communes")
	col, errs := collectors.New(collectors.Env{Source: src, Dir: fsys})
	if errs != nil {
		t.Fatal(errs)
	}
	b, err := collectors.Collect(context.Background(), col, collectors.NewMapper(c, "communes"))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// A misspelt commune is a rejected row naming file, row and column, with a
// short did-you-mean.
func TestUnknownCommuneIsRejected(t *testing.T) {
	b := collectCommunes(t, "Xã Phước Vinh,2025-10,10\nPhuoc Vinhh,2025-10,20\nPhường Tân Ninh,2025-10,30\n")
	if len(b.Observations) != 2 || len(b.Rejected) != 1 {
		t.Fatalf("%d observations, rejected %v; want 2 and 1", len(b.Observations), b.Rejected)
	}
	want := `source communes: r.csv: row 3, column "Xã/phường": unknown commune "Phuoc Vinhh" (did you mean "Phuoc Vinh" or "Phuoc Minh"?)`
	if got := b.Rejected[0].Error(); got != want {
		t.Errorf("rejected:\n got %s\nwant %s", got, want)
	}
	for _, o := range b.Observations {
		if l := o.Labels[0]; l != "Phuoc Vinh" && l != "Tan Ninh" {
			t.Errorf("served as %q, want the units' names", l)
		}
	}
}

// Two former communes' reports for a month before their merger are parts
// of their successor's: both are served under it, each as its own unit
// (the exporter sums them). Since the merger, one former name alone stands
// for the successor, and two names of it in one month are rejected.
func TestMergedCommunes(t *testing.T) {
	b := collectCommunes(t, strings.Join([]string{
		"Xã Long Thuận,2025-06,10",
		"Long Giang,2025-06,20",
		"Long Thuận,2025-09,15",
		"Long Thuận,2025-10,16",
		"Long Giang,2025-10,21",
	}, "\n")+"\n")
	units := map[string]string{}
	for _, o := range b.Observations {
		if o.Labels[0] != "Ben Cau" {
			t.Errorf("served as %q, want Ben Cau", o.Labels[0])
		}
		units[o.Period.Format("2006-01")+" "+o.Unit] = o.Labels[0]
	}
	if len(b.Observations) != 3 || units["2025-06 Long Thuan"] == "" || units["2025-06 Long Giang"] == "" || units["2025-09 Long Thuan"] == "" {
		t.Errorf("observations %v, want June's two and September's", units)
	}
	if len(b.Rejected) != 2 || !strings.Contains(b.Rejected[0].Error(), `Ben Cau is reported for 2025-10 under "Long Thuan" here and under "Long Giang" at r.csv row 6, names of one commune since 2025-07-01`) {
		t.Errorf("rejected %v", b.Rejected)
	}
}
