package collectors

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/kpiwatch/kpiwatch/catalogue"
)

// cumulativeCatalogue is the test catalogue with VNeID accounts counted to
// date, as the programme reports them.
var cumulativeCatalogue = strings.Replace(testCatalogue, "    kind: count\n    direction: higher_is_better\n    owner: mps\n",
	"    kind: count\n    cumulative: true\n    direction: higher_is_better\n    owner: mps\n", 1)

// newCatalogueSource is newTestSource on a catalogue of the test's own.
func newCatalogueSource(t testing.TB, cat, dir, source string) (Collector, *Mapper) {
	t.Helper()
	src := "    " + strings.ReplaceAll(strings.TrimSpace(source), "\n", "\n    ")
	c, err := catalogue.Parse("catalogue.yaml", []byte(strings.Replace(cat, "%s", src, 1)), os.DirFS(dir), Check)
	if err != nil {
		t.Fatalf("catalogue: %v", err)
	}
	col, errs := New(Env{Source: c.Sources[0], Dir: os.DirFS(dir), Root: dir})
	if errs != nil {
		t.Fatal(errs)
	}
	return col, NewMapper(c, "src")
}

func TestHeaderPeriod(t *testing.T) {
	month := func(y, m, n int) span { return months(y, m, n) }
	for header, want := range map[string]span{
		"T1/2025":                        month(2025, 1, 1),
		"T10/2025":                       month(2025, 10, 1),
		"Tháng 10/2025":                  month(2025, 10, 1),
		"tháng 3 năm 2025":               month(2025, 3, 1),
		"10/2025":                        month(2025, 10, 1),
		"2025-10":                        month(2025, 10, 1),
		"Quý III/2025":                   month(2025, 7, 3),
		"Quý IV năm 2024":                month(2024, 10, 3),
		"Q2 2025":                        month(2025, 4, 3),
		"6 tháng đầu năm 2025":           month(2025, 1, 6),
		"6 tháng cuối năm 2025":          month(2025, 7, 6),
		"9 tháng 2025":                   month(2025, 1, 9),
		"Năm 2025":                       month(2025, 1, 12),
		"2025":                           month(2025, 1, 12),
		"Năm 2025 T1":                    month(2025, 1, 1),
		"Năm 2025 Tháng 12":              month(2025, 12, 1),
		"Lũy kế đến 31/10/2025":          {time.Date(2025, 10, 31, 0, 0, 0, 0, time.UTC), time.Date(2025, 11, 1, 0, 0, 0, 0, time.UTC)},
		"Lũy kế đến hết tháng 10/2025":   month(2025, 10, 1),
		"Tài khoản mức 2 Năm 2025 Quý I": month(2025, 1, 3),
		"Số lượng (tính đến T9/2025)":    month(2025, 9, 1),
		"Kết quả thực hiện năm 2025 (*)": {}, // words beside a year: not a period
		"Tỉnh, thành phố":                {},
		"T13/2025":                       {},
		"Quý III":                        {}, // no year
		"2026.10":                        month(2026, 10, 1),
		"10.2026":                        month(2026, 10, 1),
		"2026.1":                         {}, // 2026.10 typed as a number
		"2026,1":                         {},
		"So sánh 2024-2025":              {},
		"31/02/2025":                     {},
		"Kết quả Tháng 10/2025 Năm 2024": {},
		"Ước thực hiện 13 tháng đầu năm 2025": {},
	} {
		got, ok := headerPeriod(header)
		if ok != !want.start.IsZero() || got != want {
			t.Errorf("%q: got %v, %v; want %v", header, got, ok, want)
		}
	}
}

func TestPeriodPattern(t *testing.T) {
	p, err := compilePeriodPattern(`Kỳ (?P<month>\d+)\.(?P<year>\d{4})`)
	if err != nil {
		t.Fatal(err)
	}
	if got, ok := p.period("Số liệu Kỳ 7.2025"); !ok || got != months(2025, 7, 1) {
		t.Errorf("got %v, %v", got, ok)
	}
	if _, ok := p.period("Kỳ 13.2025"); ok {
		t.Error("month 13 read as a period")
	}
	if _, err := compilePeriodPattern(`(?P<month>\d+)`); err == nil {
		t.Error("a pattern without a year accepted")
	}
}

// A ministry's workbook: a title, a header over three rows (KPI, year,
// month) in merged cells, monthly new accounts beside the total before
// them and the plan, e-health records to date by month, a former
// province, a totals row, an unknown unit, a bad number, a month not
// reported yet.
func TestExcelWideTable(t *testing.T) {
	dir := t.TempDir()
	writeWorkbook(t, dir, "de-an-06.xlsx", map[string][][]any{
		"Tổng hợp": {
			{"BÁO CÁO KẾT QUẢ TRIỂN KHAI ĐỀ ÁN 06 NĂM 2025"},
			{nil},
			{"STT", "Tỉnh, thành phố", "Tài khoản định danh điện tử mức 2", nil, nil, nil, nil, "Hồ sơ sức khỏe điện tử", nil, nil},
			{nil, nil, "Lũy kế đến 31/7/2025", "Năm 2025", nil, nil, "Kế hoạch 2025", "Lũy kế", nil, "Kế hoạch 2025"},
			{nil, nil, nil, "T8", "T9", "T10", nil, "Tháng 9/2025", "Tháng 10/2025", nil},
			{1, "Hà Nội", "5.000.000", 120000, "130.500", "98.765", "5.600.000", "2.000.000", "2.150.000", "3.000.000"},
			{2, "Hà Giang", 300000, "1.000", "2.000", nil, "320.000", "100.000", "100.500", "150.000"},
			{3, "Tỉnh Ngoài Danh Mục", 1, 1, 1, 1, 1, 1, 1, 1},
			{4, "Thừa Thiên Huế", "800.000", "1.000", "12a", "3.000", "900.000", "400.000", "390.000", "500.000"},
			{nil, "Tổng cộng", "6.100.000", "122.000", "132.500", "101.765", nil, "2.500.000", "2.640.500", nil},
		},
	}, []string{"Tổng hợp"}, [2]string{"C3", "G3"}, [2]string{"H3", "J3"}, [2]string{"D4", "F4"}, [2]string{"H4", "I4"})
	c, m := newCatalogueSource(t, cumulativeCatalogue, dir, `
collector: excel
config:
  path: de-an-06.xlsx
  sheet: {header_row: 3, header_rows: 3}
  wide:
    dimensions: {province: "Tỉnh, thành phố"}
    numbers: {decimal: ",", thousands: "."}
    kpis:
      - kpi: vneid_accounts
        under: Tài khoản định danh điện tử mức 2
        values: per_period
        opening: Tài khoản định danh điện tử mức 2 Lũy kế đến 31/7/2025
      - kpi: ehealth_records
        under: Hồ sơ sức khỏe điện tử
        values: cumulative
`)
	b := collect(t, c, m)
	got := observed(m, b)
	want := map[string]float64{
		"vneid_accounts/Ha Noi/2025-08":       5120000,
		"vneid_accounts/Ha Noi/2025-09":       5250500,
		"vneid_accounts/Ha Noi/2025-10":       5349265,
		"vneid_accounts/Tuyen Quang/2025-08":  301000,
		"vneid_accounts/Tuyen Quang/2025-09":  303000,
		"vneid_accounts/Hue/2025-08":          801000,
		"ehealth_records/Ha Noi/2025-10":      150000,
		"ehealth_records/Tuyen Quang/2025-10": 500,
	}
	for k, v := range want {
		if o, ok := got[k]; !ok || o.Value != v {
			t.Errorf("%s: got %v (found %v), want %v", k, o.Value, ok, v)
		}
	}
	if len(b.Observations) != len(want) {
		t.Errorf("%d observations, want %d: %v", len(b.Observations), len(want), got)
	}
	if o := got["vneid_accounts/Tuyen Quang/2025-08"]; o.Unit != "Ha Giang" || o.Loc.Row != 7 {
		t.Errorf("former province: unit %q row %d", o.Unit, o.Loc.Row)
	}
	rejected := errorTexts(b.Rejected)
	wantContains(t, rejected, `de-an-06.xlsx: row 8, column "Tỉnh, thành phố"`, "Tỉnh Ngoài Danh Mục",
		`row 9, column "Tài khoản định danh điện tử mức 2 Năm 2025 T9": "12a" is not a number`,
		`row 9, column "Hồ sơ sức khỏe điện tử Lũy kế Tháng 10/2025": 390000 is below the running total before it, 400000: a count's own figure for a period cannot be negative`)
	if len(b.Rejected) != 3 {
		t.Errorf("want 3 rejected (one per bad row and KPI, not per column):\n%s", rejected)
	}
}

// A CSV with a column per month and a plan column, in Vietnamese number
// format; the plan is not read.
func TestCSVWideMonths(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "tk.csv", "STT;Tỉnh/thành phố;T8/2025;T9/2025;T10/2025;Kế hoạch năm 2025\n"+
		"1;TP. Hồ Chí Minh;1.000.000;1.100.000;;2.000.000\n"+
		"2;Quảng Nam;200.000;210.000;220.500;300.000\n"+
		";Cả nước;1.200.000;1.310.000;220.500;2.300.000\n")
	c, m := newCatalogueSource(t, cumulativeCatalogue, dir, `
collector: csv
config:
  path: tk.csv
  delimiter: ";"
  wide:
    dimensions: {province: Tỉnh/thành phố}
    numbers: {decimal: ","}
    kpis: [{kpi: vneid_accounts}]
`)
	b := collect(t, c, m)
	got := observed(m, b)
	if len(b.Rejected) != 0 || len(b.Observations) != 5 {
		t.Fatalf("%d observations %v, rejected %v", len(b.Observations), got, b.Rejected)
	}
	if o := got["vneid_accounts/Da Nang/2025-10"]; o.Value != 220500 || o.Unit != "Quang Nam" {
		t.Errorf("Quảng Nam T10: %+v", o)
	}
	if _, ok := got["vneid_accounts/Ho Chi Minh/2025-10"]; ok {
		t.Error("a blank month read")
	}
}

// One row per province and month, a column per KPI: several KPIs in one
// pass.
func TestCSVSeveralKPIsOnePass(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "thang.csv", "Tỉnh,Kỳ báo cáo,Tài khoản mức 2,Hồ sơ sức khỏe,Ghi chú,Chỉ số T9/2025\n"+
		"Hà Nội,Tháng 10/2025,\"5.349.265\",\"150.000\",,\"0,71\"\n"+
		"Bắc Ninh,10/2025,\"1.000\",x,chưa đủ,\n")
	c, m := newTestSource(t, dir, `
collector: csv
config:
  path: thang.csv
  wide:
    dimensions: {province: Tỉnh}
    date: Kỳ báo cáo
    numbers: {decimal: ","}
    kpis:
      - {kpi: vneid_accounts, column: Tài khoản mức 2}
      - {kpi: ehealth_records, column: Hồ sơ sức khỏe}
      - {kpi: digital_index, under: Chỉ số}
`)
	b := collect(t, c, m)
	got := observed(m, b)
	if got["vneid_accounts/Ha Noi/2025-10"].Value != 5349265 || got["ehealth_records/Ha Noi/2025-10"].Value != 150000 || got["vneid_accounts/Bac Ninh/2025-10"].Value != 1000 ||
		got["digital_index/Ha Noi/2025-09"].Value != 0.71 || len(got) != 4 {
		t.Errorf("got %v", got)
	}
	wantContains(t, errorTexts(b.Rejected), `thang.csv: row 3, column "Hồ sơ sức khỏe": "x" is not a number`)
}

// What a wide table cannot mean is refused before any row is read, naming
// the column.
func TestWideRefusals(t *testing.T) {
	for name, tc := range map[string]struct{ csv, kpis, want string }{
		"quarter for a monthly KPI": {"Tỉnh,Quý III/2025\nHà Nội,1\n", "[{kpi: ehealth_records}]", `column "Quý III/2025" covers 2025-07-01 to 2025-09-30, not one monthly period`},
		"same month twice":          {"Tỉnh,T10/2025,Tháng 10/2025\nHà Nội,1,2\n", "[{kpi: ehealth_records}]", `columns "T10/2025" and "Tháng 10/2025" are for the same monthly period`},
		"gap in a sum":              {"Tỉnh,T8/2025,T10/2025\nHà Nội,1,2\n", "[{kpi: vneid_accounts, values: per_period}]", "leave a gap or overlap"},
		"no period under a label":   {"Tỉnh,TK T8/2025,TK Ghi chú\nHà Nội,1,2\n", "[{kpi: ehealth_records, under: TK}]", `column "TK Ghi chú"`},
		"ratio":                     {"Tỉnh,T8/2025\nHà Nội,1\n", "[{kpi: benefit_bank_ratio}]", "is a ratio: give the group labels of its numerator and denominator"},
		"no columns":                {"Tỉnh,Ghi chú\nHà Nội,1\n", "[{kpi: ehealth_records}]", "no period columns"},
	} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			writeFile(t, dir, "w.csv", tc.csv)
			c, m := newCatalogueSource(t, cumulativeCatalogue, dir, "collector: csv\nconfig:\n  path: w.csv\n  wide:\n    dimensions: {province: Tỉnh}\n    kpis: "+tc.kpis)
			_, err := c.Collect(t.Context(), m)
			if err == nil {
				t.Fatal("read, want an error")
			}
			wantContains(t, err.Error(), "w.csv", tc.want)
		})
	}
}

func TestWideConfigErrors(t *testing.T) {
	got := configErrors(t, t.TempDir(), `
collector: csv
config:
  path: w.csv
  mapping: {kpi: vneid_accounts, date: d, value: v}
  wide:
    period_pattern: "(?P<month>\\d+)"
    kpis:
      - {kpi: a, under: x, column: y, values: monthly}
      - {kpi: b}
      - {kpi: c}
`)
	wantContains(t, got, "config.mapping: set one of mapping (a long table) and wide")
	got = configErrors(t, t.TempDir(), `
collector: excel
config:
  path: w.xlsx
  wide:
    period_pattern: "(?P<month>\\d+)"
    kpis:
      - {kpi: a, under: x, column: y, values: monthly}
      - {kpi: b}
      - {kpi: c}
`)
	wantContains(t, got, "config.wide.period_pattern", "no named group (?P<year>", "config.wide.kpis[0].column: set at most one",
		"set wide.date", `config.wide.kpis[0].values: "monthly" is not`, "config.wide.kpis: at most one KPI may take every period column")
}

// A ratio from a wide table: its parts under two group labels, paired by
// period, so that it rolls up as sum over sum.
func TestExcelWideRatio(t *testing.T) {
	dir := t.TempDir()
	writeWorkbook(t, dir, "an-sinh.xlsx", map[string][][]any{"Báo cáo": {
		{"Tỉnh/TP", "Số người hưởng", nil, "Số người nhận qua tài khoản", nil, "Tỷ lệ", nil},
		{nil, "Tháng 9/2025", "Tháng 10/2025", "Tháng 9/2025", "Tháng 10/2025", "Tháng 9/2025", "Tháng 10/2025"},
		{"Hà Nội", "1.000.000", 1010000, "600.000", "707.000", "60%", "70%"},
		{"Bắc Giang", 200000, nil, 50000, nil, "25%", nil},
		{"Toàn quốc", 1200000, 1010000, 650000, 707000, nil, nil},
	}}, []string{"Báo cáo"}, [2]string{"B1", "C1"}, [2]string{"D1", "E1"}, [2]string{"F1", "G1"})
	c, m := newTestSource(t, dir, `
collector: excel
config:
  path: an-sinh.xlsx
  sheet: {header_rows: 2}
  wide:
    dimensions: {province: Tỉnh/TP}
    numbers: {decimal: ","}
    skip: [Tỷ lệ]
    kpis:
      - {kpi: benefit_bank_ratio, numerator: Số người nhận qua tài khoản, denominator: Số người hưởng}
`)
	b := collect(t, c, m)
	got := observed(m, b)
	if o := got["benefit_bank_ratio/Ha Noi/2025-10"]; o.Num != 707000 || o.Den != 1010000 || o.Value != 0.7 {
		t.Errorf("Ha Noi October: %+v", o)
	}
	if o := got["benefit_bank_ratio/Bac Ninh/2025-09"]; o.Num != 50000 || o.Den != 200000 || o.Unit != "Bac Giang" {
		t.Errorf("Bac Giang September: %+v", o)
	}
	if len(b.Observations) != 3 || len(b.Rejected) != 0 {
		t.Errorf("%d observations, rejected %v", len(b.Observations), b.Rejected)
	}

	writeFile(t, dir, "r.csv", "Tỉnh,TS T9/2025,TS T10/2025,MS T9/2025\nHà Nội,1,2,3\n")
	c, m = newTestSource(t, dir, "collector: csv\nconfig:\n  path: r.csv\n  wide:\n    dimensions: {province: Tỉnh}\n    kpis: [{kpi: benefit_bank_ratio, numerator: TS, denominator: MS}]")
	_, err := c.Collect(t.Context(), m)
	wantContains(t, fmt.Sprint(err), `column "TS T10/2025": kpi "benefit_bank_ratio": no denominator under "MS" for 2025-10-01 to 2025-10-31`)
}

// BenchmarkCSVWide10kRows reads a wide table of 10,000 rows by 24 months
// of per-period figures summed up into a cumulative KPI: 240,000
// observations.
func BenchmarkCSVWide10kRows(b *testing.B) {
	dir := b.TempDir()
	var sb strings.Builder
	sb.WriteString("Tỉnh")
	for i := range 24 {
		fmt.Fprintf(&sb, ";T%d/%d", i%12+1, 2024+i/12)
	}
	sb.WriteString(";Kế hoạch\n")
	provinces := []string{"Hà Nội", "Huế", "Đà Nẵng", "TP. Hồ Chí Minh", "Cần Thơ", "Thừa Thiên Huế", "Hà Giang"}
	const rows = 10_000
	for r := range rows {
		sb.WriteString(provinces[r%len(provinces)])
		for i := range 24 {
			fmt.Fprintf(&sb, ";%d.%03d", 1+r%50, i)
		}
		sb.WriteString(";1.000.000\n")
	}
	writeFile(b, dir, "wide.csv", sb.String())
	c, m := newCatalogueSource(b, cumulativeCatalogue, dir, `
collector: csv
config:
  path: wide.csv
  delimiter: ";"
  wide:
    dimensions: {province: Tỉnh}
    numbers: {decimal: ","}
    kpis: [{kpi: vneid_accounts, values: per_period}]
`)
	b.ReportAllocs()
	b.ResetTimer()
	var peak uint64
	for b.Loop() {
		stop := sampleHeap(&peak)
		batch, err := c.Collect(context.Background(), m)
		stop()
		if err != nil || len(batch.Observations) != rows*24 {
			b.Fatalf("%v: %d observations, want %d; rejected %d", err, len(batch.Observations), rows*24, len(batch.Rejected))
		}
	}
	b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MiB")
}

// A KPI under a year heading ("Năm 2024" over "T11", "T12") keeps the
// year for its months, as when the year sits between the KPI's label and
// the months.
func TestWideUnderAYear(t *testing.T) {
	dir := t.TempDir()
	writeWorkbook(t, dir, "y.xlsx", map[string][][]any{"Báo cáo": {
		{"Tỉnh", "Năm 2024", nil, "Năm 2025", nil},
		{nil, "T11", "T12", "T1", "T2"},
		{"Hà Nội", 10, 20, 30, nil},
	}}, []string{"Báo cáo"}, [2]string{"B1", "C1"}, [2]string{"D1", "E1"})
	c, m := newTestSource(t, dir, `
collector: excel
config:
  path: y.xlsx
  sheet: {header_rows: 2}
  wide:
    dimensions: {province: Tỉnh}
    kpis: [{kpi: vneid_accounts, under: Năm 2024}, {kpi: ehealth_records, under: Năm 2025}]
`)
	b := collect(t, c, m)
	got := observed(m, b)
	if got["vneid_accounts/Ha Noi/2024-11"].Value != 10 || got["vneid_accounts/Ha Noi/2024-12"].Value != 20 || got["ehealth_records/Ha Noi/2025-01"].Value != 30 || len(got) != 3 {
		t.Errorf("got %v, rejected %v", got, errorTexts(b.Rejected))
	}
}
