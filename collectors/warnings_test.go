package collectors

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kpiwatch/kpiwatch/catalogue"
)

func TestRatioMappedWithValueWarns(t *testing.T) {
	for _, c := range []struct {
		mapping string
		want    string
	}{
		{"kpi: benefit_bank_ratio\n      value: v", `sources[0].config.mapping.value: kpi "benefit_bank_ratio" is a ratio: its rows are rejected unless numerator and denominator are mapped`},
		{"kpi_column: k\n      value: v", `kpi "benefit_bank_ratio" is a ratio`},
		{"kpi: vneid_accounts\n      value: v", ""},
		{"kpi: benefit_bank_ratio\n      numerator: n\n      denominator: d", ""},
	} {
		src := "    collector: csv\n    config:\n      path: r.csv\n      mapping:\n        date: p\n        dimensions: {province: p}\n        " + strings.ReplaceAll(c.mapping, "\n      ", "\n        ")
		cat, err := catalogue.Parse("catalogue.yaml", []byte(strings.Replace(testCatalogue, "%s", src, 1)), os.DirFS(t.TempDir()), Check)
		if err != nil {
			t.Fatal(err)
		}
		got := catalogue.Errors(Warnings(cat)).Error()
		if c.want == "" && got != "" || !strings.Contains(got, c.want) {
			t.Errorf("mapping %q: warnings %q, want %q", c.mapping, got, c.want)
		}
	}
}

func TestMisspeltColumnAndKPISuggested(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "r.csv"), []byte("Tỉnh/TP,Kỳ báo cáo,Giá trị\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	c, m := newTestSource(t, dir, "collector: csv\nconfig:\n  path: r.csv\n  mapping:\n    kpi: vneid_accounts\n    date: Kỳ báo cáo\n    value: Gía trị\n    dimensions: {province: Tỉnh/TP}")
	_, err := Collect(context.Background(), c, m)
	if err == nil || !strings.Contains(err.Error(), `r.csv: row 1: no column ["Gía trị"] (did you mean "Giá trị"?)`) {
		t.Errorf("a misspelt column: %v", err)
	}
	c, m = newTestSource(t, dir, "collector: csv\nconfig:\n  path: r.csv\n  mapping:\n    kpi: vneid_acounts\n    date: Kỳ báo cáo\n    value: Giá trị\n    dimensions: {province: Tỉnh/TP}")
	_, err = Collect(context.Background(), c, m)
	if err == nil || !strings.Contains(err.Error(), `kpi "vneid_acounts" is not in the catalogue (did you mean "vneid_accounts"?)`) {
		t.Errorf("a misspelt kpi: %v", err)
	}
	if err := os.WriteFile(filepath.Join(dir, "k.csv"), []byte("k,p,v,t\nehealth_record,2025-10,1,Huế\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	c, m = newTestSource(t, dir, "collector: csv\nconfig:\n  path: k.csv\n  mapping:\n    kpi_column: k\n    date: p\n    value: v\n    dimensions: {province: t}")
	b, err := Collect(context.Background(), c, m)
	if err != nil || len(b.Rejected) != 1 || !strings.Contains(b.Rejected[0].Error(), `row 2, column "k": kpi "ehealth_record" is not in the catalogue (did you mean "ehealth_records"?)`) {
		t.Errorf("a misspelt kpi in a row: %v %v", err, b)
	}
}
