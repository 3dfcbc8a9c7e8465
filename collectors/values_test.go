package collectors

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// wideSource reads csv through a wide CSV source on the cumulative test
// catalogue with the catalogue-wide locale (none when empty); kpis is the
// source's wide.kpis.
func wideSource(t *testing.T, locale, csv, kpis string) (*Mapper, *Batch) {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "w.csv"), []byte(csv), 0o644); err != nil {
		t.Fatal(err)
	}
	cat := cumulativeCatalogue
	if locale != "" {
		cat = strings.Replace(cat, "metadata: {name: collectors-test}", "metadata: {name: collectors-test, locale: "+locale+"}", 1)
	}
	c, m := newCatalogueSource(t, cat, dir, `collector: csv
config:
  path: w.csv
  delimiter: ";"
  wide:
    dimensions: {province: Tỉnh}
    kpis: `+kpis)
	return m, collect(t, c, m)
}

// Running totals are read in the catalogue's locale: under vi, 1.000 is a
// thousand whether the figures are summed up (a cumulative KPI from monthly
// figures) or differenced (a monthly KPI from running totals), and the
// opening balance too.
func TestWideSumsHonourTheLocale(t *testing.T) {
	m, b := wideSource(t, "vi", `Tỉnh;TK Lũy kế đến 31/7/2025;TK T8/2025;TK T9/2025;SK T8/2025;SK T9/2025;SK T10/2025
Hà Nội;1.000.000;1.000;2.500,5;1.000;3.000;6.000
Huế;0;12;7;100;100;250
`, `[{kpi: vneid_accounts, under: TK, values: per_period, opening: TK Lũy kế đến 31/7/2025}, {kpi: ehealth_records, under: SK, values: cumulative}]`)
	if len(b.Rejected) > 0 {
		t.Fatalf("rejected: %s", errorTexts(b.Rejected))
	}
	got := observed(m, b)
	for key, want := range map[string]float64{
		"vneid_accounts/Ha Noi/2025-08": 1001000, "vneid_accounts/Ha Noi/2025-09": 1003500.5,
		"vneid_accounts/Hue/2025-08": 12, "vneid_accounts/Hue/2025-09": 19,
		"ehealth_records/Ha Noi/2025-09": 2000, "ehealth_records/Ha Noi/2025-10": 3000,
		"ehealth_records/Hue/2025-09": 0, "ehealth_records/Hue/2025-10": 150,
	} {
		if o, ok := got[key]; !ok || o.Value != want {
			t.Errorf("%s = %v (read: %v), want %v", key, o.Value, ok, want)
		}
	}
	if len(got) != 8 {
		t.Errorf("%d observations, want 8: %v", len(got), got)
	}
}

// Under en, 1.000 is one and 1,000 a thousand; where no format is set, a
// running total that reads two ways is rejected at its cell, since a sum
// cannot wait for a later row to show the format.
func TestWideSumsOtherFormats(t *testing.T) {
	const kpis = `[{kpi: vneid_accounts, under: TK, values: per_period}]`
	m, b := wideSource(t, "en", "Tỉnh;TK T8/2025;TK T9/2025\nHà Nội;1,000.5;1.000\n", kpis)
	got := observed(m, b)
	if got["vneid_accounts/Ha Noi/2025-08"].Value != 1000.5 || got["vneid_accounts/Ha Noi/2025-09"].Value != 1001.5 || len(b.Rejected) > 0 {
		t.Errorf("en: %v, rejected %s", got, errorTexts(b.Rejected))
	}
	m, b = wideSource(t, "vi", "Tỉnh;TK T8/2025;TK T9/2025\nHà Nội;1,000.5;1.000\n", kpis)
	if len(b.Observations) != 0 {
		t.Errorf("vi: read %v from an English number", observed(m, b))
	}
	wantContains(t, errorTexts(b.Rejected), `w.csv: row 2, column "TK T8/2025": "1,000.5" is not a number`)
	_, b = wideSource(t, "", "Tỉnh;TK T8/2025;TK T9/2025\nHà Nội;1.000;2.000\n", kpis)
	wantContains(t, errorTexts(b.Rejected), `w.csv: row 2, column "TK T8/2025": "1.000" could be 1000 (locale vi) or 1 (locale en)`)
}
