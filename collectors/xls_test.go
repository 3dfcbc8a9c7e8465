package collectors

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// legacyXLS writes a BIFF8 workbook as administrations still send them,
// with Debian's python3-xlwt: a title, a header over two rows in merged
// cells, a date cell, numbers as numbers and as Vietnamese text, strings
// stored as Latin-1 ("Tháng 10/2025") and as UTF-16 ("Hà Nội"), a totals
// row with a formula; before it, a hidden sheet with last year's figures in
// the same layout, which no reader may take.
func legacyXLS(t *testing.T, path string) {
	t.Helper()
	const script = `
import sys, datetime, xlwt
wb = xlwt.Workbook(encoding="utf-8")
old = wb.add_sheet("Năm trước")
old.write(2, 1, "Tỉnh, thành phố"); old.write(2, 2, "Kỳ báo cáo"); old.write(2, 3, "Chi trả an sinh xã hội")
old.write(3, 3, "Qua tài khoản"); old.write(3, 4, "Tổng số người nhận")
old.write(4, 1, "Hà Nội"); old.write(4, 2, "Tháng 10/2025"); old.write(4, 3, 1); old.write(4, 4, 2)
old.visibility = 1
ws = wb.add_sheet("Báo cáo")
wb.active_sheet = 1
ws.write_merge(0, 0, 0, 4, "BÁO CÁO KẾT QUẢ CHI TRẢ AN SINH XÃ HỘI")
ws.write_merge(2, 3, 0, 0, "STT")
ws.write_merge(2, 3, 1, 1, "Tỉnh, thành phố")
ws.write_merge(2, 3, 2, 2, "Kỳ báo cáo")
ws.write_merge(2, 2, 3, 4, "Chi trả an sinh xã hội")
ws.write(3, 3, "Qua tài khoản")
ws.write(3, 4, "Tổng số người nhận")
ws.write(4, 0, 1); ws.write(4, 1, "Hà Nội")
ws.write(4, 2, datetime.date(2025, 10, 31), xlwt.easyxf(num_format_str="dd/mm/yyyy"))
ws.write(4, 3, 1058569); ws.write(4, 4, "1.200.000")
ws.write(5, 0, 2); ws.write(5, 1, "Thừa Thiên Huế"); ws.write(5, 2, "Tháng 10/2025")
ws.write(5, 3, "850.000"); ws.write(5, 4, 1000000)
ws.write(6, 1, "Tổng cộng"); ws.write(6, 2, "Tháng 10/2025")
ws.write(6, 3, xlwt.Formula("SUM(D5:D6)")); ws.write(6, 4, xlwt.Formula("SUM(E5:E6)"))
wb.save(sys.argv[1])
`
	// Debian's interpreter, where python3-xlwt installs.
	if out, err := exec.Command("/usr/bin/python3", "-c", script, path).CombinedOutput(); err != nil {
		t.Fatalf("writing %s with python3-xlwt (apt-get install python3-xlwt): %v\n%s", path, err, out)
	}
}

// A legacy .xls among the workbooks of a folder is refused with what to do,
// and the others are read.
func TestExcelLegacyWorkbookRefused(t *testing.T) {
	dir := t.TempDir()
	legacyXLS(t, filepath.Join(dir, "cu.xls"))
	writeWorkbook(t, dir, "moi.xlsx", map[string][][]any{"Sheet1": {{"Tỉnh", "Kỳ", "Số"}, {"Hà Nội", "10/2025", 5}}}, []string{"Sheet1"})
	c, m := newTestSource(t, dir, "collector: excel\nconfig:\n  path: .\n  mapping: {kpi: vneid_accounts, date: Kỳ, value: Số, dimensions: {province: Tỉnh}}")
	b := collect(t, c, m)
	if len(b.Observations) != 1 {
		t.Errorf("%d observations, want 1", len(b.Observations))
	}
	wantContains(t, errorTexts(b.Rejected), "cu.xls: a legacy .xls (BIFF) workbook", "convert it to .xlsx first")
}

// The conversion path the guide gives for .xls: LibreOffice's headless
// converter, then the excel collector reads the .xlsx as the ministry's
// workbook, exactly.
func TestExcelLegacyWorkbookConverted(t *testing.T) {
	dir := t.TempDir()
	legacyXLS(t, filepath.Join(dir, "chi-tra.xls"))
	out := filepath.Join(dir, "xlsx")
	cmd := exec.CommandContext(context.Background(), "soffice", "-env:UserInstallation=file://"+filepath.Join(dir, "profile"),
		"--headless", "--convert-to", "xlsx", "--outdir", out, filepath.Join(dir, "chi-tra.xls"))
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("soffice (apt-get install libreoffice-calc-nogui): %v\n%s", err, b)
	}
	if _, err := os.Stat(filepath.Join(out, "chi-tra.xlsx")); err != nil {
		t.Fatal(err)
	}
	// The hidden sheet is kept hidden by the conversion, and left unread.
	for _, sheet := range []string{"{name: Báo cáo, header_row: 3, header_rows: 2}", "{header_row: 3, header_rows: 2}"} {
		c, m := newTestSource(t, dir, `
collector: excel
config:
  path: xlsx/chi-tra.xlsx
  sheet: `+sheet+`
  mapping:
    kpi: benefit_bank_ratio
    date: Kỳ báo cáo
    numerator: Chi trả an sinh xã hội Qua tài khoản
    denominator: Chi trả an sinh xã hội Tổng số người nhận
    dimensions: {province: "Tỉnh, thành phố"}
    numbers: {decimal: ","}
`)
		b := collect(t, c, m)
		got := observed(m, b)
		if o := got["benefit_bank_ratio/Ha Noi/2025-10"]; o.Num != 1058569 || o.Den != 1200000 {
			t.Errorf("%s: Ha Noi: %+v", sheet, o)
		}
		if o := got["benefit_bank_ratio/Hue/2025-10"]; o.Num != 850000 || o.Den != 1000000 {
			t.Errorf("%s: Hue: %+v", sheet, o)
		}
		if len(b.Observations) != 2 || len(b.Rejected) != 0 {
			t.Errorf("%s: %d observations, rejected %v", sheet, len(b.Observations), b.Rejected)
		}
	}
}
