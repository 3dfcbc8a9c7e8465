package collectors_test

import (
	"context"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/kpiwatch/kpiwatch/catalogue"
	"github.com/kpiwatch/kpiwatch/collectors"
)

// ministryCatalogue has a source shaped like a ministry's monthly report:
// semicolon separated, Vietnamese headers and numbers, a BOM.
const ministryCatalogue = `apiVersion: kpiwatch.io/v1
kind: Catalogue
metadata: {name: test}
owners:
  - {id: molisa, name: Social protection, block: government}
sources:
  - id: report
    collector: csv
    config:
      path: report.csv
      delimiter: ";"
      mapping:
        kpi_column: "Chỉ tiêu"
        date: "Kỳ báo cáo"
        value: "Giá trị"
        numerator: "Số được chi trả qua tài khoản"
        denominator: "Số đối tượng"
        dimensions: {province: "Tỉnh/TP"}
        numbers: {decimal: ",", thousands: "."}
kpis:
  - id: recipients
    name: Recipients
    name_vi: Đối tượng bảo trợ
    kind: count
    direction: higher_is_better
    owner: molisa
    dimensions: [province]
    cadence: {period: monthly, due_day: 15, grace: 5d}
    source: report
    baseline: {date: 2022-01-01, value: 0}
    targets: [{by: 2025-12-31, value: 1000000}]
  - id: paid_by_bank
    name: Paid by bank
    name_vi: Chi trả qua tài khoản
    kind: ratio
    direction: higher_is_better
    owner: molisa
    dimensions: [province]
    cadence: {period: monthly, due_day: 15, grace: 5d}
    source: report
    baseline: {date: 2022-01-01, value: 0}
    targets: [{by: 2025-12-31, value: 1}]
  - id: satisfaction
    name: Satisfaction index
    kind: level
    direction: higher_is_better
    owner: molisa
    dimensions: [province]
    cadence: {period: monthly, due_day: 15, grace: 5d}
    source: report
    baseline: {date: 2022-01-01, value: 0}
    targets: [{by: 2025-12-31, value: 1}]
`

func load(t *testing.T, cat string, files map[string]string) (*catalogue.Catalogue, fstest.MapFS) {
	t.Helper()
	fsys := fstest.MapFS{}
	for name, data := range files {
		fsys[name] = &fstest.MapFile{Data: []byte(data)}
	}
	c, err := catalogue.Parse("kpis.yaml", []byte(cat), fsys, collectors.Check)
	if err != nil {
		t.Fatal(err)
	}
	return c, fsys
}

func collect(t *testing.T, c *catalogue.Catalogue, fsys fstest.MapFS, source string) (*collectors.Batch, error) {
	t.Helper()
	src, _ := c.Source(source)
	col, errs := collectors.New(collectors.Env{Source: src, Dir: fsys})
	if errs != nil {
		t.Fatal(errs)
	}
	return col.Collect(context.Background(), collectors.NewMapper(c, source))
}

func TestCSVMinistryReport(t *testing.T) {
	report := "\ufeffTỉnh/TP;Chỉ tiêu;Kỳ báo cáo;Giá trị;Số được chi trả qua tài khoản;Số đối tượng\n" +
		"TP. Hồ Chí Minh;recipients;10/2025;1.058.569;;\n" +
		"Tỉnh Bắc Giang;Chi trả qua tài khoản;Tháng 10/2025;;1.200;2.000\n" +
		"Hà Nội;satisfaction;31/10/2025;59,57%;;\n" +
		"Tổng cộng;recipients;10/2025;9.999.999;;\n" +
		";;;;;\n" +
		"Hà Tây;recipients;10/2025;12;;\n" +
		"Huế;recipients;10/2025\n" +
		"Huế;recipients;10/2025;1,5,5;;\n" +
		"Huế;recipients;someday;5;;\n" +
		"Huế;paid_by_bank;10/2025;;10;0\n" +
		"Huế;unknown_kpi;10/2025;1;;\n" +
		";Tổng cộng;10/2025;5;;\n"
	c, fsys := load(t, ministryCatalogue, map[string]string{"report.csv": report})
	b, err := collect(t, c, fsys, "report")
	if err != nil {
		t.Fatal(err)
	}
	oct := time.Date(2025, 10, 1, 0, 0, 0, 0, time.UTC)
	want := []struct {
		kpi, province string
		value         float64
	}{
		{"recipients", "Ho Chi Minh", 1058569},
		{"paid_by_bank", "Bac Ninh", 0.6},
		{"satisfaction", "Ha Noi", 0.5957},
	}
	if len(b.Observations) != len(want) {
		t.Fatalf("got %d observations, want %d: %+v\nrejected: %v", len(b.Observations), len(want), b.Observations, b.Rejected)
	}
	for i, w := range want {
		o := b.Observations[i]
		if c.KPIs[o.KPI].ID != w.kpi || o.Labels[0] != w.province || !o.Period.Equal(oct) || abs(o.Value-w.value) > 1e-9 {
			t.Errorf("observation %d = %s %v %v %v, want %s [%s] %v %v", i, c.KPIs[o.KPI].ID, o.Labels, o.Period, o.Value, w.kpi, w.province, oct, w.value)
		}
	}
	if b.Observations[1].Num != 1200 || b.Observations[1].Den != 2000 {
		t.Errorf("a ratio keeps its numerator and denominator: %+v", b.Observations[1])
	}
	// The totals row and the blank row are skipped; every other bad row is
	// rejected with its row, column and value.
	wantRejected := []string{
		`source report: report.csv: row 7, column "Tỉnh/TP": unknown province "Hà Tây" (did you mean "Ha Nam"?)`,
		`source report: report.csv: row 8: short row: 3 of 6 columns`,
		`source report: report.csv: row 9, column "Giá trị": "1,5,5" is not a number (decimal separator ",", thousands ".")`,
		`source report: report.csv: row 10, column "Kỳ báo cáo": "someday" is not a date`,
		`source report: report.csv: row 11, column "Số đối tượng": denominator 0 is not positive`,
		`source report: report.csv: row 12, column "Chỉ tiêu": kpi "unknown_kpi" is not in the catalogue`,
	}
	if len(b.Rejected) != len(wantRejected) {
		t.Fatalf("rejected %d rows, want %d: %v", len(b.Rejected), len(wantRejected), b.Rejected)
	}
	for i, w := range wantRejected {
		if got := b.Rejected[i].Error(); got != w {
			t.Errorf("rejected[%d]:\n got %s\nwant %s", i, got, w)
		}
	}
}

func TestCSVMissingColumnFailsTheRefresh(t *testing.T) {
	c, fsys := load(t, ministryCatalogue, map[string]string{"report.csv": "Tỉnh;Kỳ\nHà Nội;10/2025\n"})
	_, err := collect(t, c, fsys, "report")
	if err == nil || !strings.Contains(err.Error(), `source report: report.csv: row 1: no column`) || !strings.Contains(err.Error(), "Chỉ tiêu") {
		t.Fatalf("want an error naming the missing columns, got %v", err)
	}
}

func TestCSVMissingFileFailsTheRefresh(t *testing.T) {
	c, fsys := load(t, ministryCatalogue, nil)
	if _, err := collect(t, c, fsys, "report"); err == nil {
		t.Fatal("a missing file must fail the refresh")
	}
}

func TestParseNumber(t *testing.T) {
	vn := collectors.NumberFormat{Decimal: ",", Thousands: "."}
	en := collectors.NumberFormat{}
	cases := []struct {
		in   string
		f    collectors.NumberFormat
		want float64
		ok   bool
	}{
		{"1.058.569", vn, 1058569, true},
		{"59,57%", vn, 0.5957, true},
		{" 40,26 % ", vn, 0.4026, true},
		{"1 058 569", vn, 1058569, true},
		{"1\u00a0058", vn, 1058, true},
		{"-3", vn, -3, true},
		{"1,058,569.5", collectors.NumberFormat{Decimal: ".", Thousands: ","}, 1058569.5, true},
		{"0.5957", en, 0.5957, true},
		{"59.57%", en, 0.5957, true},
		// Where "." separates thousands, 1.5 and 0.5 are mistakes, not 15
		// and 5.
		{"1.5", vn, 0, false},
		{"0.5", vn, 0, false},
		{"1.05.569", vn, 0, false},
		{"12,34.5", vn, 0, false},
		{"1.058,5", vn, 1058.5, true},
		{"1,5", en, 0, false},
		{"", vn, 0, false},
		{"abc", en, 0, false},
		{"NaN", en, 0, false},
		{"1e400", en, 0, false},
	}
	for _, c := range cases {
		got, err := collectors.ParseNumber(c.in, c.f)
		if (err == nil) != c.ok || (c.ok && abs(got-c.want) > 1e-12) {
			t.Errorf("ParseNumber(%q) = %v, %v; want %v ok=%v", c.in, got, err, c.want, c.ok)
		}
	}
}

func TestParseDate(t *testing.T) {
	cases := map[string]string{
		"2025-10":              "2025-10-01",
		"2025-10-31":           "2025-10-31",
		"10/2025":              "2025-10-01",
		"31/10/2025":           "2025-10-31",
		"Tháng 10/2025":        "2025-10-01",
		"T10/2025":             "2025-10-01",
		"2025-10-31T23:00:00Z": "2025-10-31",
		"2026.10":              "2026-10-01",
		"10.2026":              "2026-10-01",
		"31.10.2025":           "2025-10-31",
		"tháng 10 năm 2025":    "2025-10-01",
		"T10-2025":             "2025-10-01",
		" 2025-10\u00a0":       "2025-10-01",
	}
	for in, want := range cases {
		got, err := collectors.ParseDate(in, "")
		if err != nil || got.Format(time.DateOnly) != want {
			t.Errorf("ParseDate(%q) = %v, %v; want %s", in, got, err, want)
		}
	}
	for in, want := range map[string]string{
		"13/13/2025": `"13/13/2025" is not a date`,
		"2025-13":    `"2025-13" is not a date`,
		"2025/02/30": `"2025/02/30" is not a date`,
		"10/25":      `"10/25" is not a date`, // a two-digit year
		"2025":       `"2025" is a year alone, not a date`,
		"Năm 2025":   `"Năm 2025" is a year alone, not a date`,
		"45961":      `"45961" is a number, not a date (an Excel date is read from a cell formatted as a date)`,
		"2026.1":     `"2026.1" is a number, not a date`,
	} {
		if _, err := collectors.ParseDate(in, ""); err == nil || !strings.HasPrefix(err.Error(), want) {
			t.Errorf("ParseDate(%q): %v, want %s", in, err, want)
		}
	}
	if got, err := collectors.ParseDate("2025.10", "2006.01"); err != nil || got.Month() != 10 {
		t.Errorf("an explicit layout is used: %v %v", got, err)
	}
}

func abs(x float64) float64 {
	if x < 0 {
		return -x
	}
	return x
}
