package collectors

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
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

// today is the clock of the tests that judge dates against today.
var today = time.Date(2026, 12, 3, 13, 0, 0, 0, time.UTC)

// yearlyCatalogue is the test catalogue with the digital index reported
// once a year.
var yearlyCatalogue = strings.Replace(testCatalogue, "    cadence: {period: monthly, due_day: 15}\n    source: src\n    baseline: {date: 2024-01-01, value: 0.3}",
	"    cadence: {period: yearly, due_day: 15}\n    source: src\n    baseline: {date: 2024-01-01, value: 0.3}", 1)

// readRows reads csv (kpi;province;period;value;num;den rows) through a
// CSV source of cat, as a refresh does on the day today.
func readRows(t *testing.T, cat, csv string) (*Mapper, *Batch) {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "r.csv"), []byte("kpi;province;period;value;num;den\n"+csv), 0o644); err != nil {
		t.Fatal(err)
	}
	c, m := newCatalogueSource(t, cat, dir, `collector: csv
config:
  path: r.csv
  delimiter: ";"
  mapping:
    kpi_column: kpi
    date: period
    value: value
    numerator: num
    denominator: den
    dimensions: {province: province}
    numbers: {decimal: ","}`)
	m.now = func() time.Time { return today }
	return m, collect(t, c, m)
}

// wantRejected checks that the batch rejected exactly the rows wanted,
// each error beginning with its want.
func wantRejected(t *testing.T, b *Batch, wants ...string) {
	t.Helper()
	got := errorTexts(b.Rejected)
	if len(b.Rejected) != len(wants) {
		t.Errorf("%d rejected, want %d:\n%s", len(b.Rejected), len(wants), got)
	}
	wantContains(t, got, wants...)
}

// A period cell is read one way or rejected at its row and column: a year
// alone is the year of a yearly KPI and no month of a monthly one, 2026.10
// and 10.2026 are October, a number is no Excel serial, and a date before
// 2015 or beyond a period from today is no report.
func TestPeriodCells(t *testing.T) {
	m, b := readRows(t, yearlyCatalogue, `digital_index;Hà Nội;2025;0,5;;
digital_index;Huế;Năm 2024;0,4;;
vneid_accounts;Hà Nội;2026.10;10;;
vneid_accounts;Huế;10.2026;11;;
vneid_accounts;Đà Nẵng;tháng 9 năm 2026;12;;
vneid_accounts;Cần Thơ;31.08.2026;13;;
vneid_accounts;An Giang;2027-01;14;;
vneid_accounts;Cà Mau;2025;1;;
vneid_accounts;Lào Cai;45961;1;;
vneid_accounts;Sơn La;1969-07;1;;
vneid_accounts;Lai Châu;0001-01-01;1;;
vneid_accounts;Điện Biên;2099-12;1;;
vneid_accounts;Cao Bằng;2027-02;1;;
vneid_accounts;Lạng Sơn;2025-13;1;;
vneid_accounts;Thái Nguyên;2025/02/30;1;;
vneid_accounts;Phú Thọ;10/25;1;;
vneid_accounts;Bắc Ninh;2026.1;1;;
`)
	got := observed(m, b)
	for key, want := range map[string]float64{
		"digital_index/Ha Noi/2025-01": 0.5, "digital_index/Hue/2024-01": 0.4,
		"vneid_accounts/Ha Noi/2026-10": 10, "vneid_accounts/Hue/2026-10": 11, "vneid_accounts/Da Nang/2026-09": 12,
		"vneid_accounts/Can Tho/2026-08": 13, "vneid_accounts/An Giang/2027-01": 14,
	} {
		if o, ok := got[key]; !ok || o.Value != want {
			t.Errorf("%s = %v (read: %v), want %v", key, o.Value, ok, want)
		}
	}
	wantRejected(t, b,
		`r.csv: row 9, column "period": "2025" is a year alone, but kpi "vneid_accounts" is reported monthly: give the month (2025-10)`,
		`r.csv: row 10, column "period": "45961" is a number, not a date (an Excel date is read from a cell formatted as a date)`,
		`r.csv: row 11, column "period": "1969-07": 1969-07-01 is before 2015-01-01, the earliest date a report may be for`,
		`r.csv: row 12, column "period": "0001-01-01": 0001-01-01 is before 2015-01-01`,
		`r.csv: row 13, column "period": "2099-12": 2099-12-01 is after 2027-01-03, a monthly period from today`,
		`r.csv: row 14, column "period": "2027-02": 2027-02-01 is after 2027-01-03`,
		`r.csv: row 15, column "period": "2025-13" is not a date`,
		`r.csv: row 16, column "period": "2025/02/30" is not a date`,
		`r.csv: row 17, column "period": "10/25" is not a date`,
		`r.csv: row 18, column "period": "2026.1" is a number, not a date`,
	)
}
