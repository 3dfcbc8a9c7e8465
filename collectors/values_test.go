package collectors

import (
	"database/sql"
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
	m.now = today
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
vneid_accounts;Hải Phòng; 2026-07 ;15;;
vneid_accounts;Hưng Yên;Tháng Mười/2025;1;;
vneid_accounts;Quảng Ninh;T13/2025;1;;
`)
	got := observed(m, b)
	for key, want := range map[string]float64{
		"digital_index/Ha Noi/2025-01": 0.5, "digital_index/Hue/2024-01": 0.4,
		"vneid_accounts/Ha Noi/2026-10": 10, "vneid_accounts/Hue/2026-10": 11, "vneid_accounts/Da Nang/2026-09": 12,
		"vneid_accounts/Can Tho/2026-08": 13, "vneid_accounts/An Giang/2027-01": 14, "vneid_accounts/Hai Phong/2026-07": 15,
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
		`r.csv: row 20, column "period": "Tháng Mười/2025" is not a date`, // month names are not read
		`r.csv: row 21, column "period": "T13/2025" is not a date`,
	)
}

// In a workbook, a date cell is read as the date it shows, and a number
// cell in the period column is no Excel serial: 2025 is the year of a
// yearly KPI, 2026.1 (2026.10 typed as a number) is rejected, and a date
// cell showing 1905 is before any report.
func TestExcelPeriodCells(t *testing.T) {
	dir := t.TempDir()
	writeWorkbook(t, dir, "r.xlsx", map[string][][]any{"S": {
		{"Chỉ tiêu", "Tỉnh", "Kỳ", "Giá trị"},
		{"digital_index", "Hà Nội", 2025, 0.5},
		{"vneid_accounts", "Hà Nội", time.Date(2026, 10, 31, 0, 0, 0, 0, time.UTC), 1000},
		{"vneid_accounts", "Huế", 2026.1, 1000},
		{"vneid_accounts", "Đà Nẵng", time.Date(1905, 7, 17, 0, 0, 0, 0, time.UTC), 1000},
		{"vneid_accounts", "Cần Thơ", 45961, 1000},
	}}, []string{"S"})
	c, m := newCatalogueSource(t, yearlyCatalogue, dir, "collector: excel\nconfig:\n  path: r.xlsx\n  mapping:\n    kpi_column: Chỉ tiêu\n    date: Kỳ\n    value: Giá trị\n    dimensions: {province: Tỉnh}")
	m.now = today
	b := collect(t, c, m)
	got := observed(m, b)
	if got["digital_index/Ha Noi/2025-01"].Value != 0.5 || got["vneid_accounts/Ha Noi/2026-10"].Value != 1000 || len(got) != 2 {
		t.Errorf("read %v", got)
	}
	wantRejected(t, b,
		`r.xlsx: row 4, column "Kỳ": "2026.1" is a number, not a date`,
		`r.xlsx: row 5, column "Kỳ": "1905-07-17": 1905-07-17 is before 2015-01-01`,
		`r.xlsx: row 6, column "Kỳ": "45961" is a number, not a date`)
}

// Figures no report can mean are rejected at their row and column: a count
// or a ratio's part below zero, beyond the KPI's max_value (1e15 unless the
// catalogue says), not a finite number. A numerator above its denominator
// is served, flagged suspect by the judgement.
func TestImpossibleValues(t *testing.T) {
	cat := strings.Replace(testCatalogue, "    baseline: {date: 2024-01-01, value: 0.3}", "    baseline: {date: 2024-01-01, value: 0.3}\n    max_value: 100", 1)
	m, b := readRows(t, cat, `vneid_accounts;Hà Nội;2025-10;-5;;
vneid_accounts;Huế;2025-10;(1.000);;
vneid_accounts;Đà Nẵng;2025-10;1e308;;
vneid_accounts;Cần Thơ;2025-10;1.000.000.000.000.001;;
vneid_accounts;An Giang;2025-10;999.999.999.999.999;;
vneid_accounts;Cà Mau;2025-10;NaN;;
vneid_accounts;Lào Cai;2025-10;Inf;;
vneid_accounts;Sơn La;2025-10;1e400;;
benefit_bank_ratio;Hà Nội;2025-10;;-1;10
benefit_bank_ratio;Huế;2025-10;;12;10
benefit_bank_ratio;Đà Nẵng;2025-10;;1;0
digital_index;Hà Nội;2025-10;(12,5);;
digital_index;Huế;2025-10;100,5;;
`)
	got := observed(m, b)
	for key, want := range map[string]float64{
		"vneid_accounts/An Giang/2025-10": 999999999999999, "benefit_bank_ratio/Hue/2025-10": 1.2, "digital_index/Ha Noi/2025-10": -12.5,
	} {
		if o, ok := got[key]; !ok || o.Value != want {
			t.Errorf("%s = %v (read: %v), want %v", key, o.Value, ok, want)
		}
	}
	wantRejected(t, b,
		`r.csv: row 2, column "value": -5 is below zero, and kpi "vneid_accounts" is a count`,
		`r.csv: row 3, column "value": -1000 is below zero, and kpi "vneid_accounts" is a count`,
		`r.csv: row 4, column "value": 1e+308 is beyond 1e+15, the largest figure kpi "vneid_accounts" may have (its max_value)`,
		`r.csv: row 5, column "value": 1.000000000000001e+15 is beyond 1e+15`,
		`r.csv: row 7, column "value": "NaN" is not a number`,
		`r.csv: row 8, column "value": "Inf" is not a number`,
		`r.csv: row 9, column "value": "1e400" is too large a number`,
		`r.csv: row 10, column "num": -1 is below zero, and kpi "benefit_bank_ratio" is a ratio of counts`,
		`r.csv: row 12, column "den": denominator 0 is not positive`,
		`r.csv: row 14, column "value": 100.5 is beyond 100, the largest figure kpi "digital_index" may have (its max_value)`,
	)
}

// A JSON number too large for a float64, or too large for the KPI, rejects
// its row; the document's other rows are read.
func TestJSONNumberTooLarge(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "doc.json", `[{"tinh": "Hà Nội", "ky": "2025-10", "so": 1e400},
{"tinh": "Huế", "ky": "2025-10", "so": 1000000000000000000000000000000},
{"tinh": "Đà Nẵng", "ky": "2025-10", "so": -3},
{"tinh": "Cần Thơ", "ky": "2025-10", "so": 1058569}]`)
	c, m := newTestSource(t, dir, `collector: json
config:
  path: doc.json
  mapping: {kpi: vneid_accounts, date: ky, value: so, dimensions: {province: tinh}}`)
	b := collect(t, c, m)
	if got := observed(m, b); got["vneid_accounts/Can Tho/2025-10"].Value != 1058569 || len(got) != 1 {
		t.Errorf("read %v", got)
	}
	wantRejected(t, b,
		`doc.json: row 1, column "so": "1e400" is too large a number`,
		`doc.json: row 2, column "so": 1e+30 is beyond 1e+15`,
		`doc.json: row 3, column "so": -3 is below zero`)
}

// Numbers as reports write them, each read one way in its format or
// rejected: the other locale's separators, accountants' negatives, percent
// cells, spaces and non-breaking spaces.
func TestHostileNumberCells(t *testing.T) {
	for _, c := range []struct {
		in, locale string
		want       float64
		err        string
	}{
		{"1.000", "vi", 1000, ""},
		{"1.000", "en", 1, ""},
		{"1,000.5", "vi", 0, `"1,000.5" is not a number (decimal separator ",", thousands ".")`},
		{"1.000,5", "en", 0, `"1.000,5" is not a number (decimal separator ".", thousands ",")`},
		{"1,000.5", "en", 1000.5, ""},
		{"1.000,5", "vi", 1000.5, ""},
		{"(1.000)", "vi", -1000, ""},
		{"(1,5%)", "vi", -0.015, ""},
		{"(-5)", "vi", 0, `"(-5)" is not a number`},
		{"\u22125", "en", -5, ""},
		{"85%", "vi", 0.85, ""},
		{"85 %", "en", 0.85, ""},
		{"0,85", "vi", 0.85, ""},
		{"0.85", "vi", 0, `"0.85" is not a number ("." must separate groups of three digits)`},
		{"0.85", "en", 0.85, ""},
		{"1.000 ", "vi", 1000, ""},
		{"\u00a01.000.000\u00a0", "vi", 1000000, ""},
		{"1\u00a0000\u202f000", "en", 1000000, ""},
		{"1.00", "vi", 0, `"1.00" is not a number ("." must separate groups of three digits)`},
		{"1e-400", "en", 0, ""},
		{"", "vi", 0, "empty number"},
	} {
		f := viNumbers
		if c.locale == "en" {
			f = enNumbers
		}
		got, err := ParseNumber(c.in, f)
		switch {
		case c.err == "" && (err != nil || got != c.want):
			t.Errorf("%s: ParseNumber(%q) = %v, %v; want %v", c.locale, c.in, got, err, c.want)
		case c.err != "" && (err == nil || err.Error() != c.err):
			t.Errorf("%s: ParseNumber(%q) = %v, %v; want the error %s", c.locale, c.in, got, err, c.err)
		}
	}
}

// Since the merger, a province reported under two names of units merged
// into it in one period is rejected, every row naming the others; before
// it, the former units' figures roll up, and a province reported under one
// former name alone stands for the province.
func TestMergedUnitsTwice(t *testing.T) {
	m, b := readRows(t, testCatalogue, `vneid_accounts;Tuyên Quang;2025-10;700;;
vneid_accounts;Hà Giang;2025-10;300;;
vneid_accounts;Tuyên Quang;2025-06;650;;
vneid_accounts;Hà Giang;2025-06;280;;
vneid_accounts;Hà Nam;2025-10;100;;
vneid_accounts;Nam Định;2025-10;200;;
vneid_accounts;Ninh Bình;2025-10;300;;
vneid_accounts;Bắc Kạn;2025-10;50;;
vneid_accounts;Tỉnh Tuyên Quang;2025-09;710;;
benefit_bank_ratio;Hà Giang;2025-10;;1;2
benefit_bank_ratio;Tuyên Quang;2025-09;;1;2
`)
	got := observed(m, b)
	if len(got) != 5 || got["vneid_accounts/Thai Nguyen/2025-10"].Value != 50 || got["vneid_accounts/Tuyen Quang/2025-09"].Value != 710 ||
		got["benefit_bank_ratio/Tuyen Quang/2025-10"].Value != 0.5 || got["benefit_bank_ratio/Tuyen Quang/2025-09"].Value != 0.5 {
		t.Errorf("read %v", got)
	}
	if n := len(b.Observations); n != 6 { // Tuyên Quang and Hà Giang in June, rolled up by the exporter
		t.Errorf("%d observations, want 6", n)
	}
	const since = ", names of one province since 2025-07-01: which figure is the province's cannot be told, so none is used"
	wantRejected(t, b,
		`r.csv: row 2: Tuyen Quang is reported for 2025-10 under "Tuyen Quang" here and under "Ha Giang" at r.csv row 3`+since,
		`r.csv: row 3: Tuyen Quang is reported for 2025-10 under "Ha Giang" here and under "Tuyen Quang" at r.csv row 2`+since,
		`r.csv: row 6: Ninh Binh is reported for 2025-10 under "Ha Nam" here and under "Nam Dinh" at r.csv row 7 and under "Ninh Binh" at r.csv row 8`+since,
		`r.csv: row 7: Ninh Binh is reported for 2025-10 under "Nam Dinh" here and under "Ha Nam" at r.csv row 6 and under "Ninh Binh" at r.csv row 8`+since,
		`r.csv: row 8: Ninh Binh is reported for 2025-10 under "Ninh Binh" here and under "Ha Nam" at r.csv row 6 and under "Nam Dinh" at r.csv row 7`+since,
	)
}

// A form's period cell is read as a person sees it: 2026.10 typed into a
// number cell holds 2026.1 and names no period (the form is rejected at the
// cell), 10.2026 typed so is October, and a date cell showing 1969 is no
// report's. A quarter's figure of a count of each month is no month's.
func TestFormPeriodCells(t *testing.T) {
	dir := t.TempDir()
	folder := filepath.Join(dir, "bieu-mau")
	if err := os.Mkdir(folder, 0o755); err != nil {
		t.Fatal(err)
	}
	order := []string{"Biểu mẫu 01"}
	writeWorkbook(t, folder, "ha-noi.xlsx", formSheet("UBND THÀNH PHỐ HÀ NỘI", 2026.10, "1.000", 1, 1, 2), order)
	writeWorkbook(t, folder, "hue.xlsx", formSheet("UBND THÀNH PHỐ HUẾ", 10.2026, "2.000", 1, 1, 2), order)
	writeWorkbook(t, folder, "da-nang.xlsx", formSheet("UBND THÀNH PHỐ ĐÀ NẴNG", time.Date(1969, 7, 1, 0, 0, 0, 0, time.UTC), "3.000", 1, 1, 2), order)
	writeWorkbook(t, folder, "hai-phong.xlsx", formSheet("UBND THÀNH PHỐ HẢI PHÒNG", "Quý III/2025", "4.000", 1, 1, 2), order)
	c, m := newTestSource(t, dir, `
collector: excel
config:
  path: bieu-mau
  form:
    unit: {cell: A1}
    period: {label: "Kỳ báo cáo"}
    numbers: {decimal: ","}
    values:
      - {kpi: vneid_accounts, label: Số tài khoản định danh điện tử mức 2, offset: 2}
`)
	m.now = today
	b := collect(t, c, m)
	if got := observed(m, b); got["vneid_accounts/Hue/2026-10"].Value != 2000 || len(got) != 1 {
		t.Errorf("read %v", got)
	}
	wantRejected(t, b,
		`bieu-mau/da-nang.xlsx: row 4, column "B4": "1969-07-31": 1969-07-31 is before 2015-01-01`,
		`bieu-mau/ha-noi.xlsx: row 4, column "B4": period: "2026.1" names no period`,
		`bieu-mau/hai-phong.xlsx: row 7, column "D7": kpi "vneid_accounts" counts each monthly period on its own, but the form's period "Quý III/2025" covers 2025-07-01 to 2025-09-30`)
}

// A database's figures are held to the same rules as a file's: a negative
// count, an infinity, a figure beyond max_value, a year typed as a number
// in the period column of a monthly KPI are rejected at their row and
// column; the other rows are read.
func TestSQLImpossibleValues(t *testing.T) {
	path := filepath.Join(t.TempDir(), "stats.db")
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{
		`CREATE TABLE report (tinh TEXT, ky TEXT, so REAL)`,
		`INSERT INTO report VALUES ('Hà Nội', '2025-10', 1058569), ('Huế', '2025-10', -1), ('Đà Nẵng', '2025-10', 9e999),
		  ('Cần Thơ', '2025-10', 1e300), ('An Giang', 2025, 5), ('Cà Mau', '2025-10', 12.5)`,
	} {
		if _, err := db.Exec(s); err != nil {
			t.Fatal(err)
		}
	}
	db.Close()
	t.Setenv("KPIWATCH_TEST_SQLITE", "file:"+path)
	c, m := newTestSource(t, t.TempDir(), `collector: sql
config:
  driver: sqlite
  dsn: {env: KPIWATCH_TEST_SQLITE}
  query: SELECT * FROM report
  mapping: {kpi: vneid_accounts, date: ky, value: so, dimensions: {province: tinh}}`)
	b := collect(t, c, m)
	if got := observed(m, b); got["vneid_accounts/Ha Noi/2025-10"].Value != 1058569 || got["vneid_accounts/Ca Mau/2025-10"].Value != 12.5 || len(got) != 2 {
		t.Errorf("read %v", got)
	}
	wantRejected(t, b,
		`sqlite query: row 2, column "so": -1 is below zero, and kpi "vneid_accounts" is a count`,
		`sqlite query: row 3, column "so": "+Inf" is not a number`,
		`sqlite query: row 4, column "so": 1e+300 is beyond 1e+15`,
		`sqlite query: row 5, column "ky": "2025" is a year alone, but kpi "vneid_accounts" is reported monthly`)
}

// Running totals are held to the same rules as every figure: an impossible
// one rejects its cell (and the sums after it), the row's earlier periods
// kept.
func TestWideSumsOfImpossibleFigures(t *testing.T) {
	m, b := wideSource(t, "vi", `Tỉnh;TK T8/2025;TK T9/2025;TK T10/2025
Hà Nội;1.000;(500);2.000
Huế;1.000;1e308;2.000
Đà Nẵng;NaN;1;1
`, `[{kpi: vneid_accounts, under: TK, values: per_period}]`)
	got := observed(m, b)
	if got["vneid_accounts/Ha Noi/2025-08"].Value != 1000 || got["vneid_accounts/Hue/2025-08"].Value != 1000 || len(got) != 2 {
		t.Errorf("read %v", got)
	}
	wantRejected(t, b,
		`w.csv: row 2, column "TK T9/2025": -500 is below zero, and kpi "vneid_accounts" is a count`,
		`w.csv: row 3, column "TK T9/2025": 1e+308 is beyond 1e+15`,
		`w.csv: row 4, column "TK T8/2025": "NaN" is not a number`)
}

// The workbook: a cumulative KPI whose monthly figures are text
// cells written the Vietnamese way, summed up under metadata.locale: vi
// with no numbers: in the source, beside number cells.
func TestExcelWideSumsHonourTheLocale(t *testing.T) {
	dir := t.TempDir()
	writeWorkbook(t, dir, "w.xlsx", map[string][][]any{"S": {
		{"Tỉnh", "T8/2025", "T9/2025", "T10/2025"},
		{"Hà Nội", "1.000", 2500.5, "1.000.000"},
		{"Huế", 12, "7", "1.000,5"},
	}}, []string{"S"})
	cat := strings.Replace(cumulativeCatalogue, "metadata: {name: collectors-test}", "metadata: {name: collectors-test, locale: vi}", 1)
	c, m := newCatalogueSource(t, cat, dir, "collector: excel\nconfig:\n  path: w.xlsx\n  wide:\n    dimensions: {province: Tỉnh}\n    kpis: [{kpi: vneid_accounts, values: per_period}]")
	b := collect(t, c, m)
	if len(b.Rejected) > 0 {
		t.Fatalf("rejected: %s", errorTexts(b.Rejected))
	}
	got := observed(m, b)
	for key, want := range map[string]float64{
		"vneid_accounts/Ha Noi/2025-08": 1000, "vneid_accounts/Ha Noi/2025-09": 3500.5, "vneid_accounts/Ha Noi/2025-10": 1003500.5,
		"vneid_accounts/Hue/2025-08": 12, "vneid_accounts/Hue/2025-09": 19, "vneid_accounts/Hue/2025-10": 1019.5,
	} {
		if o, ok := got[key]; !ok || o.Value != want {
			t.Errorf("%s = %v (read: %v), want %v", key, o.Value, ok, want)
		}
	}
}
