package collectors

import (
	"os"
	"path/filepath"
	"testing"
)

// formSheet is a province's monthly form: the authority in A1, the period
// beside its label, the figures in the column "Kết quả" two cells right of
// their labels (the unit of measure in between), a ratio's parts.
func formSheet(authority string, period, accounts, records, paid, recipients any) map[string][][]any {
	return map[string][][]any{"Biểu mẫu 01": {
		{authority, nil, nil, "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"},
		{nil, nil, nil, "Độc lập - Tự do - Hạnh phúc"},
		{"BÁO CÁO KẾT QUẢ TRIỂN KHAI ĐỀ ÁN 06"},
		{"Kỳ báo cáo:", period},
		{nil},
		{"STT", "Nội dung", "Đơn vị tính", "Kết quả"},
		{1, "Số tài khoản định danh điện tử mức 2 đã kích hoạt", "tài khoản", accounts},
		{2, "Số người có hồ sơ sức khỏe điện tử", "người", records},
		{3, "Số người hưởng chính sách nhận qua tài khoản", "người", paid},
		{4, "Tổng số người hưởng chính sách", "người", recipients},
		{nil, "Người lập biểu", nil, "Chủ tịch UBND"},
	}}
}

// A folder of forms, one per province: each a set of observations, the
// unit from its title cell (a former province too), the period from the
// cell beside its label. A form with no unit is rejected whole; a figure
// that is not a number is a rejected cell, the form's others kept.
func TestExcelFolderOfForms(t *testing.T) {
	dir := t.TempDir()
	folder := filepath.Join(dir, "bieu-mau")
	if err := os.Mkdir(folder, 0o755); err != nil {
		t.Fatal(err)
	}
	order := []string{"Biểu mẫu 01"}
	writeWorkbook(t, folder, "ha-giang.xlsx", formSheet("UBND TỈNH HÀ GIANG", "Tháng 10/2025", "304.500", 120000, "1.200", "1.500"), order)
	writeWorkbook(t, folder, "hue.xlsx", formSheet("Ủy ban nhân dân thành phố Huế", "Quý III/2025", 801000, "không rõ", 900, 1000), order)
	writeWorkbook(t, folder, "khong-ro.xlsx", formSheet("", "Tháng 10/2025", 1, 1, 1, 2), order)
	c, m := newCatalogueSource(t, cumulativeCatalogue, dir, `
collector: excel
config:
  path: bieu-mau
  form:
    unit: {cell: A1}
    period: {label: "Kỳ báo cáo"}
    numbers: {decimal: ","}
    values:
      - {kpi: vneid_accounts, label: Số tài khoản định danh điện tử mức 2, offset: 2}
      - {kpi: ehealth_records, label: hồ sơ sức khỏe điện tử, offset: 2}
      - kpi: benefit_bank_ratio
        numerator: {label: nhận qua tài khoản, offset: 2}
        denominator: {cell: D10}
`)
	b := collect(t, c, m)
	got := observed(m, b)
	for k, v := range map[string]float64{
		"vneid_accounts/Tuyen Quang/2025-10":     304500,
		"ehealth_records/Tuyen Quang/2025-10":    120000,
		"benefit_bank_ratio/Tuyen Quang/2025-10": 0.8,
		"vneid_accounts/Hue/2025-09":             801000,
		"benefit_bank_ratio/Hue/2025-09":         0.9,
	} {
		if got[k].Value != v {
			t.Errorf("%s = %v, want %v", k, got[k].Value, v)
		}
	}
	if len(b.Observations) != 5 {
		t.Errorf("%d observations, want 5", len(b.Observations))
	}
	if o := got["vneid_accounts/Tuyen Quang/2025-10"]; o.Unit != "Ha Giang" || o.Loc.Row != 7 {
		t.Errorf("unit %q row %d", o.Unit, o.Loc.Row)
	}
	wantContains(t, errorTexts(b.Rejected),
		`bieu-mau/hue.xlsx: row 8, column "D8": "không rõ" is not a number`,
		`file rejected: source src: bieu-mau/khong-ro.xlsx: row 1, column "A1": unit: the reporting unit's cell is blank`)
	if len(b.Rejected) != 2 {
		t.Errorf("want 2 rejected:\n%s", errorTexts(b.Rejected))
	}
}

func TestFormLabelsMustBeFoundOnce(t *testing.T) {
	dir := t.TempDir()
	writeWorkbook(t, dir, "f.xlsx", formSheet("UBND tỉnh Lào Cai", "Năm 2025", 1, 2, 3, 4), []string{"Biểu mẫu 01"})
	c, m := newTestSource(t, dir, `
collector: excel
config:
  path: f.xlsx
  form:
    unit: {cell: A1}
    period: {cell: B4}
    values:
      - {kpi: vneid_accounts, label: "người"}
      - {kpi: ehealth_records, label: "không có nhãn này"}
`)
	b := collect(t, c, m)
	wantContains(t, errorTexts(b.Rejected), `the label "người" is in B8, C8, B9, C9, B10, C10, B11: give the cell`, `no cell holds the label "không có nhãn này"`)

	got := configErrors(t, dir, `
collector: excel
config:
  path: f.xlsx
  sheet: {header_row: 3}
  mapping: {kpi: vneid_accounts, date: d, value: v}
  form:
    unit: {cell: 7B}
    period: {cell: B4, label: Kỳ}
    values: [{kpi: benefit_bank_ratio, numerator: {cell: D9}}]
`)
	wantContains(t, got, "config.mapping: not for a form", "config.sheet.header_row: not for a form", `config.form.unit.cell: "7B" is not a cell reference`,
		"config.form.period.label: set one of cell and label", "config.form.values[0].numerator: a ratio needs both")
}

// A label and its value typed into one cell, after a colon: the period
// and a figure are read from the label's own cell; a label cell whose
// colon has nothing after it still takes the value to its right.
func TestFormValueInLabelCell(t *testing.T) {
	dir := t.TempDir()
	writeWorkbook(t, dir, "f.xlsx", map[string][][]any{"Biểu mẫu 01": {
		{"UBND tỉnh Lào Cai"},
		{"Kỳ báo cáo: Tháng 10/2025"},
		{"Số tài khoản định danh điện tử mức 2: 1.234"},
		{"Số hồ sơ sức khỏe điện tử:", "5.678"},
		{"Số người hưởng chính sách: chưa có"},
	}}, []string{"Biểu mẫu 01"})
	c, m := newTestSource(t, dir, `
collector: excel
config:
  path: f.xlsx
  form:
    unit: {cell: A1}
    period: {label: Kỳ báo cáo}
    numbers: {decimal: ","}
    values:
      - {kpi: vneid_accounts, label: Số tài khoản định danh điện tử mức 2}
      - {kpi: ehealth_records, label: Số hồ sơ sức khỏe điện tử}
      - {kpi: digital_index, label: Số người hưởng chính sách}
`)
	b := collect(t, c, m)
	got := observed(m, b)
	if got["vneid_accounts/Lao Cai/2025-10"].Value != 1234 || got["ehealth_records/Lao Cai/2025-10"].Value != 5678 || len(got) != 2 {
		t.Errorf("got %v, rejected %v", got, errorTexts(b.Rejected))
	}
	wantContains(t, errorTexts(b.Rejected), `f.xlsx: row 5, column "A5": "chưa có" is not a number`)
}
