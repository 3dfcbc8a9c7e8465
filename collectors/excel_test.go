package collectors

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"runtime/metrics"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"
)

// writeWorkbook writes sheets of rows (nil cells stay empty) to dir/name,
// merging the given ranges on the first sheet.
func writeWorkbook(t testing.TB, dir, name string, sheets map[string][][]any, order []string, merges ...[2]string) {
	t.Helper()
	f := excelize.NewFile()
	defer f.Close()
	for i, sheet := range order {
		if i == 0 {
			if err := f.SetSheetName("Sheet1", sheet); err != nil {
				t.Fatal(err)
			}
		} else if _, err := f.NewSheet(sheet); err != nil {
			t.Fatal(err)
		}
		for r, row := range sheets[sheet] {
			for c, v := range row {
				if v == nil {
					continue
				}
				cell, _ := excelize.CoordinatesToCellName(c+1, r+1)
				if err := f.SetCellValue(sheet, cell, v); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	for _, m := range merges {
		if err := f.MergeCell(order[0], m[0], m[1]); err != nil {
			t.Fatal(err)
		}
	}
	if err := f.SaveAs(filepath.Join(dir, name)); err != nil {
		t.Fatal(err)
	}
}

var oct31 = time.Date(2025, 10, 31, 0, 0, 0, 0, time.UTC)

// A report as ministries lay it out: title rows, a header over two rows
// with merged group cells, numbers as numbers and as Vietnamese text, a
// totals row, a footnote under the table.
func TestExcelMergedHeaderRatio(t *testing.T) {
	dir := t.TempDir()
	writeWorkbook(t, dir, "chi-tra.xlsx", map[string][][]any{
		"Ghi chú": {{"Số liệu do Bộ Công an tổng hợp"}},
		"Báo cáo": {
			{"BÁO CÁO KẾT QUẢ CHI TRẢ AN SINH XÃ HỘI QUA TÀI KHOẢN"},
			{"(Kèm theo Công văn số 123/BCA-C06)"},
			{"STT", "Tỉnh, thành phố", "Kỳ báo cáo", "Chi trả an sinh xã hội", nil},
			{nil, nil, nil, "Qua tài khoản", "Tổng số\nngười nhận"},
			{1, "Hà Nội", oct31, 1058569, "1.200.000"},
			{2, "TP. Hồ Chí Minh", "10/2025", "2.345.678", 3000000},
			{nil, nil, nil, nil, nil},
			{3, "Huế", "Tháng 10/2025", "850.000", "1.000.000"},
			{nil, "Tổng cộng", "10/2025", "4.254.247", "5.200.000"},
			{"Ghi chú: số liệu tạm tính"},
		},
	}, []string{"Báo cáo", "Ghi chú"}, [2]string{"A3", "A4"}, [2]string{"B3", "B4"}, [2]string{"C3", "C4"}, [2]string{"D3", "E3"})
	c, m := newTestSource(t, dir, `
collector: excel
config:
  path: chi-tra.xlsx
  sheet: {name: Báo cáo, header_row: 3, header_rows: 2, last_row: 9}
  mapping:
    kpi: benefit_bank_ratio
    date: Kỳ báo cáo
    numerator: Chi trả an sinh xã hội Qua tài khoản
    denominator: Chi trả an sinh xã hội Tổng số người nhận
    dimensions: {province: "Tỉnh, thành phố"}
    numbers: {decimal: ","}
`)
	b := collect(t, c, m)
	if len(b.Rejected) > 0 {
		t.Fatalf("rejected: %s", errorTexts(b.Rejected))
	}
	got := observed(m, b)
	for key, want := range map[string][2]float64{
		"benefit_bank_ratio/Ha Noi/2025-10":      {1058569, 1200000},
		"benefit_bank_ratio/Ho Chi Minh/2025-10": {2345678, 3000000},
		"benefit_bank_ratio/Hue/2025-10":         {850000, 1000000},
	} {
		o, ok := got[key]
		if !ok {
			t.Errorf("no observation %s (have %v)", key, got)
			continue
		}
		if o.Num != want[0] || o.Den != want[1] || o.Value != want[0]/want[1] {
			t.Errorf("%s: num %g den %g value %g, want %g/%g", key, o.Num, o.Den, o.Value, want[0], want[1])
		}
	}
	if len(b.Observations) != 3 {
		t.Errorf("%d observations, want 3 (totals row and blank row skipped)", len(b.Observations))
	}
	if o := got["benefit_bank_ratio/Hue/2025-10"]; o.Loc.Row != 8 {
		t.Errorf("Hue's row is %d, want 8 as Excel numbers it", o.Loc.Row)
	}
}

// Numbers typed as text the Vietnamese way, number cells with fractions,
// percentages, an Excel date serial and a KPI column, on the second sheet.
func TestExcelVietnameseNumbersByIndex(t *testing.T) {
	dir := t.TempDir()
	writeWorkbook(t, dir, "tong-hop.xlsx", map[string][][]any{
		"Bìa": {{"Tổng hợp"}},
		"Số liệu": {
			{"Chỉ tiêu", "Tỉnh", "Tháng", "Giá trị"},
			{"vneid_accounts", "Hà Nội", "2025-10", "1.058.569"},
			{"Tài khoản định danh điện tử mức 2", "Đà Nẵng", oct31, 250000},
			{"digital_index", "Hà Nội", "10/2025", "59,57%"},
			{"digital_index", "Huế", "T10/2025", 0.625},
			{"vneid_accounts", "Cả nước", "10/2025", "1.308.569"},
		},
	}, []string{"Bìa", "Số liệu"})
	c, m := newTestSource(t, dir, `
collector: excel
config:
  path: tong-hop.xlsx
  sheet: {index: 2}
  mapping:
    kpi_column: Chỉ tiêu
    date: Tháng
    value: Giá trị
    dimensions: {province: Tỉnh}
    numbers: {decimal: ",", thousands: "."}
`)
	b := collect(t, c, m)
	if len(b.Rejected) > 0 {
		t.Fatalf("rejected: %s", errorTexts(b.Rejected))
	}
	got := observed(m, b)
	for key, want := range map[string]float64{
		"vneid_accounts/Ha Noi/2025-10":  1058569,
		"vneid_accounts/Da Nang/2025-10": 250000,
		"digital_index/Ha Noi/2025-10":   0.5957,
		"digital_index/Hue/2025-10":      0.625,
	} {
		if o, ok := got[key]; !ok || o.Value != want {
			t.Errorf("%s = %g (present %v), want %g", key, o.Value, ok, want)
		}
	}
	if len(b.Observations) != 4 {
		t.Errorf("%d observations, want 4 (the national row skipped)", len(b.Observations))
	}
}

func TestExcelMissingSheet(t *testing.T) {
	dir := t.TempDir()
	writeWorkbook(t, dir, "r.xlsx", map[string][][]any{"A": {{"x"}}, "B": {{"y"}}}, []string{"A", "B"})
	for cfg, want := range map[string]string{
		"{name: Tháng 10}": `source src: r.xlsx: no sheet "Tháng 10" (the workbook has ["A" "B"])`,
		"{index: 3}":       `source src: r.xlsx: no sheet 3: the workbook shows 2 (["A" "B"])`,
	} {
		c, m := newTestSource(t, dir, fmt.Sprintf(`
collector: excel
config:
  path: r.xlsx
  sheet: %s
  mapping: {kpi: vneid_accounts, date: Tháng, value: Giá trị, dimensions: {province: Tỉnh}}
`, cfg))
		_, err := c.Collect(context.Background(), m)
		if err == nil || err.Error() != want {
			t.Errorf("sheet %s: error %v, want %s", cfg, err, want)
		}
	}
}

// TestExcelHiddenSheets: a sheet no tab shows (hidden, or "very hidden",
// which only a macro can show) is never read unless named: a workbook whose
// first sheet keeps last year's figures hidden is read from the first sheet
// a person sees, and sheet.index counts the tabs a person sees.
func TestExcelHiddenSheets(t *testing.T) {
	dir := t.TempDir()
	table := func(figure int) [][]any {
		return [][]any{{"Tỉnh", "Tháng", "Giá trị"}, {"Hà Nội", "10/2025", figure}}
	}
	writeWorkbook(t, dir, "r.xlsx", map[string][][]any{"Cũ": table(1), "Rất cũ": table(2), "Báo cáo": table(3), "Ghi chú": table(4)}, []string{"Cũ", "Rất cũ", "Báo cáo", "Ghi chú"})
	f, err := excelize.OpenFile(filepath.Join(dir, "r.xlsx"))
	if err != nil {
		t.Fatal(err)
	}
	f.SetActiveSheet(2) // Excel hides no active sheet
	if err := errors.Join(f.SetSheetVisible("Cũ", false), f.SetSheetVisible("Rất cũ", false, true), f.Save(), f.Close()); err != nil {
		t.Fatal(err)
	}
	for sheet, want := range map[string]float64{"{}": 3, "{index: 1}": 3, "{index: 2}": 4, "{name: cũ}": 1, "{name: Rất cũ}": 2} {
		c, m := newTestSource(t, dir, fmt.Sprintf(`
collector: excel
config:
  path: r.xlsx
  sheet: %s
  mapping: {kpi: vneid_accounts, date: Tháng, value: Giá trị, dimensions: {province: Tỉnh}}
`, sheet))
		b := collect(t, c, m)
		if len(b.Observations) != 1 || b.Observations[0].Value != want {
			t.Errorf("sheet %s: read %+v, want the figure %g", sheet, b.Observations, want)
		}
	}
	c, m := newTestSource(t, dir, `
collector: excel
config:
  path: r.xlsx
  sheet: {index: 3}
  mapping: {kpi: vneid_accounts, date: Tháng, value: Giá trị, dimensions: {province: Tỉnh}}
`)
	_, err = c.Collect(context.Background(), m)
	if want := `source src: r.xlsx: no sheet 3: the workbook shows 2 (["Cũ (hidden)" "Rất cũ (hidden)" "Báo cáo" "Ghi chú"])`; err == nil || err.Error() != want {
		t.Errorf("index 3 of 2 visible sheets: %v, want %s", err, want)
	}
}

func TestExcelTextWhereNumberBelongs(t *testing.T) {
	dir := t.TempDir()
	writeWorkbook(t, dir, "r.xlsx", map[string][][]any{"Số liệu": {
		{"Báo cáo tháng 10"},
		{"Tỉnh", "Tháng", "Giá trị"},
		{"Hà Nội", "10/2025", 1058569},
		{"Đà Nẵng", "10/2025", "chưa báo cáo"},
	}}, []string{"Số liệu"})
	c, m := newTestSource(t, dir, `
collector: excel
config:
  path: r.xlsx
  sheet: {header_row: 2}
  mapping: {kpi: vneid_accounts, date: Tháng, value: Giá trị, dimensions: {province: Tỉnh}, numbers: {decimal: ","}}
`)
	b := collect(t, c, m)
	if len(b.Observations) != 1 || len(b.Rejected) != 1 {
		t.Fatalf("%d observations, %d rejected; want 1 and 1", len(b.Observations), len(b.Rejected))
	}
	want := `source src: r.xlsx: row 4, column "Giá trị": "chưa báo cáo" is not a number`
	if got := b.Rejected[0].Error(); got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
}

func TestExcelHeaderWithoutMappedColumn(t *testing.T) {
	dir := t.TempDir()
	writeWorkbook(t, dir, "r.xlsx", map[string][][]any{"S": {{"Title"}, {"Tỉnh", "Tháng"}}}, []string{"S"})
	c, m := newTestSource(t, dir, `
collector: excel
config:
  path: r.xlsx
  sheet: {header_row: 2}
  mapping: {kpi: vneid_accounts, date: Tháng, value: Giá trị, dimensions: {province: Tỉnh}}
`)
	_, err := c.Collect(context.Background(), m)
	wantContains(t, fmt.Sprint(err), `source src: r.xlsx: row 2: no column ["Giá trị"] (the header has ["Tỉnh" "Tháng"])`)
}

func TestExcelConfigErrors(t *testing.T) {
	got := configErrors(t, t.TempDir(), `
collector: excel
config:
  sheet: {name: A, index: 2, header_row: 3, first_row: 2, colour: red}
  mapping: {kpi: vneid_accounts, date: d, value: v}
`)
	wantContains(t, got, "sources[0].config.sheet.colour: unknown field")
	got = configErrors(t, t.TempDir(), `
collector: excel
config:
  sheet: {name: A, index: 2, header_row: 3, first_row: 2}
  mapping: {kpi: vneid_accounts, date: d, value: v}
`)
	wantContains(t, got, "sources[0].config.path: required", "sources[0].config.sheet.index: set one of name and index, not both",
		"sources[0].config.sheet.first_row: 2 is not below the header (rows 3-3)")
}

func TestCombineHeader(t *testing.T) {
	got := combineHeader([][]string{
		{"STT", "Tỉnh", "Tài khoản", "", "", "Ghi chú", ""},
		{"", "", "Mức 1", "Mức  2", "", "", "Khác"},
	})
	want := []string{"STT", "Tỉnh", "Tài khoản Mức 1", "Tài khoản Mức 2", "", "Ghi chú", "Khác"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("got  %q\nwant %q", got, want)
	}
}

// A read that outlives its context stops, rather than holding the source.
func TestExcelHonoursContext(t *testing.T) {
	dir := t.TempDir()
	rows := [][]any{{"Tỉnh", "Tháng", "Giá trị"}}
	for i := range 10000 {
		rows = append(rows, []any{"Hà Nội", "2025-10", i})
	}
	writeWorkbook(t, dir, "r.xlsx", map[string][][]any{"S": rows}, []string{"S"})
	c, m := newTestSource(t, dir, `
collector: excel
config:
  path: r.xlsx
  mapping: {kpi: vneid_accounts, date: Tháng, value: Giá trị, dimensions: {province: Tỉnh}}
`)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := c.Collect(ctx, m); !errors.Is(err, context.Canceled) {
		t.Errorf("got %v, want %v", err, context.Canceled)
	}
	if b := collect(t, c, m); len(b.Observations) != 10000 {
		t.Errorf("%d observations, want 10000", len(b.Observations))
	}
}

// BenchmarkExcel100kRows reads a 100,000-row workbook and reports the peak
// live heap: the row iterator keeps it far below the workbook's size in
// cells.
func BenchmarkExcel100kRows(b *testing.B) {
	dir := b.TempDir()
	f := excelize.NewFile()
	sw, err := f.NewStreamWriter("Sheet1")
	if err != nil {
		b.Fatal(err)
	}
	_ = sw.SetRow("A1", []any{"Tỉnh", "Tháng", "Giá trị", "Ghi chú"})
	provinces := []string{"Hà Nội", "Huế", "Đà Nẵng", "TP. Hồ Chí Minh", "Cần Thơ"}
	const rows = 100_000
	for r := 0; r < rows; r++ {
		cell, _ := excelize.CoordinatesToCellName(1, r+2)
		month := time.Date(2017, time.Month(1+r/len(provinces)%108), 1, 0, 0, 0, 0, time.UTC) // 2017 to 2025
		_ = sw.SetRow(cell, []any{provinces[r%len(provinces)], month.Format("2006-01"), r * 7, "đã kiểm tra"})
	}
	if err := sw.Flush(); err != nil {
		b.Fatal(err)
	}
	if err := f.SaveAs(filepath.Join(dir, "big.xlsx")); err != nil {
		b.Fatal(err)
	}
	f.Close()
	c, m := newTestSource(b, dir, `
collector: excel
config:
  path: big.xlsx
  mapping: {kpi: vneid_accounts, date: Tháng, value: Giá trị, dimensions: {province: Tỉnh}}
`)
	b.ReportAllocs()
	b.ResetTimer()
	var peak uint64
	for b.Loop() {
		stop := sampleHeap(&peak)
		batch, err := c.Collect(context.Background(), m)
		stop()
		if err != nil || len(batch.Observations) != rows {
			b.Fatalf("%v: %d observations, want %d; rejected %d", err, len(batch.Observations), rows, len(batch.Rejected))
		}
	}
	b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MiB")
}

// sampleHeap records the largest live heap seen until stop is called.
func sampleHeap(peak *uint64) (stop func()) {
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
		tick := time.NewTicker(2 * time.Millisecond)
		defer tick.Stop()
		for {
			metrics.Read(s)
			*peak = max(*peak, s[0].Value.Uint64())
			select {
			case <-done:
				return
			case <-tick.C:
			}
		}
	}()
	return func() { close(done); wg.Wait() }
}
