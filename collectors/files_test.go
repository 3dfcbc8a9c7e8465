package collectors

import (
	"errors"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A folder of province workbooks, one a month each, named by province and
// month: each lists the KPIs in rows. One file is not a workbook, one is
// named in no known way, one lacks the column; Office's lock file and a
// note are not reports. Each bad file is rejected by name, the others read.
func TestExcelFolderOfProvinceFiles(t *testing.T) {
	dir := t.TempDir()
	folder := filepath.Join(dir, "bao-cao", "2025-10")
	if err := os.MkdirAll(folder, 0o755); err != nil {
		t.Fatal(err)
	}
	report := func(rows ...[]any) map[string][][]any {
		return map[string][][]any{"Biểu 01": append([][]any{
			{"UBND TỈNH"},
			{"STT", "Chỉ tiêu", "Kết quả thực hiện"},
		}, rows...)}
	}
	writeWorkbook(t, folder, "Ha Noi_T10-2025.xlsx", report(
		[]any{1, "Tài khoản định danh điện tử mức 2", "5.349.265"},
		[]any{2, "E-health records", 150000},
	), []string{"Biểu 01"})
	writeWorkbook(t, folder, "Hà Giang_T10-2025.xlsx", report( // a former province
		[]any{1, "vneid_accounts", "304.500"},
		[]any{2, "ehealth_records", "chưa báo cáo"},
	), []string{"Biểu 01"})
	writeWorkbook(t, folder, "Hue_T9-2025.xlsx", report(
		[]any{1, "vneid_accounts", 801000},
	), []string{"Biểu 01"})
	writeWorkbook(t, folder, "Cao Bang_T10-2025.xlsx", map[string][][]any{"Biểu 01": {{"UBND TỈNH"}, {"STT", "Chỉ tiêu", "Số liệu"}, {1, "vneid_accounts", 1}}}, []string{"Biểu 01"})
	writeWorkbook(t, folder, "bao cao thang 10.xlsx", report([]any{1, "vneid_accounts", 1}), []string{"Biểu 01"})
	writeFile(t, folder, "Lai Chau_T10-2025.xlsx", "Lai Chau, T10: 1.234 tài khoản\n")
	writeFile(t, folder, "~$Ha Noi_T10-2025.xlsx", "lock")
	writeFile(t, folder, "ghi-chu.txt", "not a report")
	c, m := newTestSource(t, dir, `
collector: excel
config:
  path: bao-cao/2025-10
  file_name: '^(?P<tinh>.+)_T(?P<month>\d{1,2})-(?P<year>\d{4})\.xlsx$'
  sheet: {header_row: 2}
  mapping:
    kpi_column: Chỉ tiêu
    date: period
    value: Kết quả thực hiện
    dimensions: {province: tinh}
    numbers: {decimal: ","}
`)
	b := collect(t, c, m)
	got := observed(m, b)
	for k, v := range map[string]float64{
		"vneid_accounts/Ha Noi/2025-10":      5349265,
		"ehealth_records/Ha Noi/2025-10":     150000,
		"vneid_accounts/Tuyen Quang/2025-10": 304500,
		"vneid_accounts/Hue/2025-09":         801000,
	} {
		if got[k].Value != v {
			t.Errorf("%s = %v, want %v", k, got[k].Value, v)
		}
	}
	if len(b.Observations) != 4 {
		t.Errorf("%d observations, want 4", len(b.Observations))
	}
	rejected := errorTexts(b.Rejected)
	wantContains(t, rejected,
		`bao-cao/2025-10/Hà Giang_T10-2025.xlsx: row 4, column "Kết quả thực hiện": "chưa báo cáo" is not a number`,
		`file rejected: source src: bao-cao/2025-10/Cao Bang_T10-2025.xlsx: row 2: no column ["Kết quả thực hiện"]`,
		`file rejected: source src: bao-cao/2025-10/bao cao thang 10.xlsx: the file name "bao cao thang 10.xlsx" does not match file_name`,
		`file rejected: source src: bao-cao/2025-10/Lai Chau_T10-2025.xlsx: not a workbook`)
	if len(b.Rejected) != 4 {
		t.Errorf("want 4 rejected:\n%s", rejected)
	}
	if read, rej, ok := c.(FileCounter).Files(); !ok || read != 3 || rej != 3 {
		t.Errorf("files read %d, rejected %d (%v); want 3 and 3", read, rej, ok)
	}
}

// A glob over monthly folders of wide CSV tables, the province from the
// file's name; when every file is bad the refresh fails, naming the first.
func TestCSVGlobOfWideTables(t *testing.T) {
	dir := t.TempDir()
	for name, data := range map[string]string{
		"2025/q3/vneid-Quang Ninh.csv":  "Chỉ tiêu;T7/2025;T8/2025;T9/2025\nTài khoản;1.000;2.000;3.000\n",
		"2025/q4/vneid-Quang Ninh.csv":  "Chỉ tiêu;T10/2025\nTài khoản;4.000\n",
		"2025/q4/vneid-Vinh Phuc.csv":   "Chỉ tiêu;T10/2025\nTài khoản;5.500\n",
		"2025/q4/vneid-Tinh Moi.csv":    "Chỉ tiêu;T10/2025\nTài khoản;1\n",
		"2025/q4/khac/vneid-Ha Noi.csv": "not matched by the glob",
	} {
		if err := os.MkdirAll(filepath.Dir(filepath.Join(dir, name)), 0o755); err != nil {
			t.Fatal(err)
		}
		writeFile(t, dir, name, data)
	}
	source := `
collector: csv
config:
  path: "2025/*/vneid-*.csv"
  file_name: '^vneid-(?P<tinh>.+)\.csv$'
  delimiter: ";"
  wide:
    dimensions: {province: tinh}
    numbers: {decimal: ","}
    kpis: [{kpi: ehealth_records}]
`
	c, m := newTestSource(t, dir, source)
	b := collect(t, c, m)
	got := observed(m, b)
	if len(got) != 5 || got["ehealth_records/Quang Ninh/2025-09"].Value != 3000 || got["ehealth_records/Phu Tho/2025-10"].Value != 5500 {
		t.Errorf("got %v", got)
	}
	wantContains(t, errorTexts(b.Rejected), `2025/q4/vneid-Tinh Moi.csv: row 2, column "tinh": unknown province "Tinh Moi"`)
	if read, rej, _ := c.(FileCounter).Files(); read != 4 || rej != 0 {
		t.Errorf("files read %d, rejected %d", read, rej)
	}

	c, m = newTestSource(t, dir, `
collector: csv
config:
  path: "2025/q4/*.csv"
  mapping: {kpi: ehealth_records, date: Kỳ, value: Số lượng}
`)
	_, err := c.Collect(t.Context(), m)
	if err == nil {
		t.Fatal("every file bad, and the refresh succeeded")
	}
	wantContains(t, err.Error(), "every one of 3 files rejected", `2025/q4/vneid-Quang Ninh.csv: row 1: no column ["Kỳ" "Số lượng"]`)

	c, m = newTestSource(t, dir, "collector: csv\nconfig:\n  path: \"2026/*.csv\"\n  mapping: {kpi: ehealth_records, date: Kỳ, value: Số lượng}")
	if _, err := c.Collect(t.Context(), m); err == nil || !strings.Contains(err.Error(), `no file matches "2026/*.csv"`) {
		t.Errorf("an empty glob: %v", err)
	}
}

// A folder of province workbooks whose unit and period are in title cells
// above the table, not in the file names.
func TestExcelUnitAndPeriodFromTitleCells(t *testing.T) {
	dir := t.TempDir()
	sheet := func(authority, period string, accounts any) map[string][][]any {
		return map[string][][]any{"Sheet1": {
			{authority},
			{"Kỳ báo cáo:", period},
			{"STT", "Chỉ tiêu", "Kết quả"},
			{1, "vneid_accounts", accounts},
			{2, "ehealth_records", 10},
		}}
	}
	writeWorkbook(t, dir, "a.xlsx", sheet("UBND TỈNH HÀ GIANG", "Tháng 10/2025", "304.500"), []string{"Sheet1"})
	writeWorkbook(t, dir, "b.xlsx", sheet("Ủy ban nhân dân thành phố Huế", "Quý III/2025", 801000), []string{"Sheet1"})
	writeWorkbook(t, dir, "c.xlsx", map[string][][]any{"Sheet1": {{"UBND TỈNH LÀO CAI"}, {"Kỳ:", "10/2025"}, {"STT", "Chỉ tiêu", "Kết quả"}, {1, "vneid_accounts", 1}}}, []string{"Sheet1"})
	c, m := newTestSource(t, dir, `
collector: excel
config:
  path: "*.xlsx"
  sheet: {header_row: 3}
  cells:
    tinh: {cell: A1}
    ky: {label: Kỳ báo cáo}
  mapping:
    kpi_column: Chỉ tiêu
    date: ky
    value: Kết quả
    dimensions: {province: tinh}
    numbers: {decimal: ","}
`)
	b := collect(t, c, m)
	got := observed(m, b)
	if got["vneid_accounts/Tuyen Quang/2025-10"].Value != 304500 || got["vneid_accounts/Hue/2025-09"].Value != 801000 || got["ehealth_records/Hue/2025-09"].Value != 10 || len(got) != 4 {
		t.Errorf("got %v", got)
	}
	wantContains(t, errorTexts(b.Rejected), `file rejected: source src: c.xlsx: cells.ky: no cell holds the label "Kỳ báo cáo"`)
	if len(b.Rejected) != 1 {
		t.Errorf("rejected %v", b.Rejected)
	}
}

// TestRejectedFileCountsItsRows: a file of a folder rejected whole counts
// the data rows it held, however it failed: a lost column, a stray quote,
// an encoding (CSV lines that hold more than delimiters), a workbook's
// missing column (its sheet's rows that are not blank, under the header),
// a form's unit (its figures); a file that cannot be opened as what it
// should be counts as one.
func TestRejectedFileCountsItsRows(t *testing.T) {
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "csv"), 0o755); err != nil {
		t.Fatal(err)
	}
	rows := func(n int, line string) string { return strings.Repeat(line, n) }
	writeFile(t, dir, "csv/a-good.csv", "Tỉnh;Kỳ;Số\nHà Nội;10/2025;1\n")
	writeFile(t, dir, "csv/b-lost-column.csv", "Tỉnh;Kỳ\n"+rows(95, "Huế;10/2025\n")+";;\n\n")
	writeFile(t, dir, "csv/c-stray-quote.csv", "Tỉnh;Kỳ;Số\n"+rows(10, "Huế;10/2025;1\n")+"\"Huế;10/2025;1\n"+rows(20, "Huế;10/2025;1\n"))
	writeFile(t, dir, "csv/d-cp1258.csv", "Ti\xd2nh;Ky\xcc;S\xf4\xec\n"+rows(7, "Hu\xea\xec;10/2025;1\n"))
	c, m := newTestSource(t, dir, "collector: csv\nconfig:\n  path: csv\n  delimiter: \";\"\n  mapping: {kpi: vneid_accounts, date: Kỳ, value: Số, dimensions: {province: Tỉnh}}")
	b := collect(t, c, m)
	want := map[string]int{"b-lost-column.csv": 95, "c-stray-quote.csv": 31, "d-cp1258.csv": 7}
	checkFileRows(t, b.Rejected, want)
	if RejectedRows(b.Rejected) != 95+31+7 {
		t.Errorf("RejectedRows = %d, want %d", RejectedRows(b.Rejected), 95+31+7)
	}

	table := [][]any{{"Báo cáo"}, {"Tỉnh", "Kỳ", "Giá trị"}}
	for range 12 {
		table = append(table, []any{"Huế", "10/2025", 1})
	}
	table = append(table, []any{nil}, []any{"Người lập biểu"})
	if err := os.MkdirAll(filepath.Join(dir, "xlsx"), 0o755); err != nil {
		t.Fatal(err)
	}
	writeWorkbook(t, dir, "xlsx/a-lost-column.xlsx", map[string][][]any{"S": table}, []string{"S"})
	writeWorkbook(t, dir, "xlsx/b-good.xlsx", map[string][][]any{"S": {{"Báo cáo"}, {"Tỉnh", "Kỳ", "Số"}, {"Hà Nội", "10/2025", 1}}}, []string{"S"})
	writeFile(t, dir, "xlsx/c-not-a-workbook.xlsx", "Huế;10/2025;1\nHuế;10/2025;1\n")
	c, m = newTestSource(t, dir, "collector: excel\nconfig:\n  path: xlsx\n  sheet: {header_row: 2}\n  mapping: {kpi: vneid_accounts, date: Kỳ, value: Số, dimensions: {province: Tỉnh}}")
	b = collect(t, c, m)
	checkFileRows(t, b.Rejected, map[string]int{"a-lost-column.xlsx": 13, "c-not-a-workbook.xlsx": 1}) // the signature's row is a row

	if err := os.MkdirAll(filepath.Join(dir, "forms"), 0o755); err != nil {
		t.Fatal(err)
	}
	writeWorkbook(t, dir, "forms/a.xlsx", map[string][][]any{"S": {{"UBND TỈNH HÀ GIANG"}, {"Kỳ báo cáo:", "Tháng 10/2025"}, {"Số tài khoản", 1}, {"Hồ sơ sức khỏe", 2}}}, []string{"S"})
	writeWorkbook(t, dir, "forms/b.xlsx", map[string][][]any{"S": {{nil}, {"Kỳ báo cáo:", "Tháng 10/2025"}, {"Số tài khoản", 1}, {"Hồ sơ sức khỏe", 2}}}, []string{"S"})
	c, m = newTestSource(t, dir, `
collector: excel
config:
  path: forms
  form:
    unit: {cell: A1}
    period: {label: Kỳ báo cáo}
    values:
      - {kpi: vneid_accounts, label: Số tài khoản}
      - {kpi: ehealth_records, label: Hồ sơ sức khỏe}
`)
	b = collect(t, c, m)
	checkFileRows(t, b.Rejected, map[string]int{"b.xlsx": 2})
}

// checkFileRows checks that rejected holds exactly the files of want,
// rejected whole, each with its count of rows.
func checkFileRows(t *testing.T, rejected []error, want map[string]int) {
	t.Helper()
	got := map[string]int{}
	for _, err := range rejected {
		var fe *FileError
		if !errors.As(err, &fe) {
			t.Errorf("not a file rejected whole: %v", err)
			continue
		}
		for name := range want {
			if strings.Contains(fe.Error(), "/"+name+":") {
				got[name] = fe.Rows
			}
		}
	}
	if !maps.Equal(got, want) {
		t.Errorf("rows of the rejected files: %v, want %v\n%s", got, want, errorTexts(rejected))
	}
}
