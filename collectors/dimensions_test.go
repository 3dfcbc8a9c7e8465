package collectors

import (
	"strings"
	"testing"
)

// declaredCatalogue breaks e-health records down by service type (allowed
// values) and channel (free text) besides province.
var declaredCatalogue = strings.Replace(strings.Replace(testCatalogue, "kpis:\n", `dimensions:
  - {name: service_type, name_en: Service type, name_vi: Loại dịch vụ, values: [Khám chữa bệnh, Tiêm chủng, Xét nghiệm]}
  - {name: channel, name_en: Channel, name_vi: Kênh, free_text: true}
kpis:
`, 1), "    owner: moh\n    dimensions: [province]", "    owner: moh\n    dimensions: [province, service_type, channel]", 1)

// A declared dimension's values are matched as the catalogue spells them,
// an unknown one rejected naming the allowed; free text is kept as given.
func TestDeclaredDimensions(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "hs.csv", "Tỉnh;Loại dịch vụ;Kênh;Kỳ;Số hồ sơ\n"+
		"Hà Nội;KHÁM CHỮA BỆNH;VNeID;10/2025;1.000\n"+
		"Hà Nội;tiem chung;Cổng DVC  quốc gia;10/2025;2.000\n"+
		"Huế;Phẫu thuật;VNeID;10/2025;3\n"+
		"Huế;Xét nghiệm;;10/2025;4\n")
	c, m := newCatalogueSource(t, declaredCatalogue, dir, `
collector: csv
config:
  path: hs.csv
  delimiter: ";"
  mapping:
    kpi: ehealth_records
    date: Kỳ
    value: Số hồ sơ
    dimensions: {province: Tỉnh, service_type: Loại dịch vụ, channel: Kênh}
    numbers: {decimal: ","}
`)
	b := collect(t, c, m)
	got := observed(m, b)
	if got["ehealth_records/Ha Noi,Khám chữa bệnh,VNeID/2025-10"].Value != 1000 || got["ehealth_records/Ha Noi,Tiêm chủng,Cổng DVC quốc gia/2025-10"].Value != 2000 || len(got) != 2 {
		t.Errorf("got %v", got)
	}
	wantContains(t, errorTexts(b.Rejected),
		`hs.csv: row 4, column "Loại dịch vụ": unknown service_type "Phẫu thuật" (allowed: Khám chữa bệnh, Tiêm chủng, Xét nghiệm)`,
		`hs.csv: row 5, column "Kênh": empty channel`)

	c, m = newCatalogueSource(t, declaredCatalogue, dir, "collector: csv\nconfig:\n  path: hs.csv\n  delimiter: \";\"\n  mapping: {kpi: ehealth_records, date: Kỳ, value: Số hồ sơ, dimensions: {province: Tỉnh, gender: Kênh}}")
	if _, err := c.Collect(t.Context(), m); err == nil || !strings.Contains(err.Error(), `mapping: "gender" is not a dimension`) {
		t.Errorf("a dimension the catalogue does not declare: %v", err)
	}
}

// A wide sheet takes declared dimensions as a long table does: matched,
// or rejected naming the allowed values, at the cell's row and column.
func TestDeclaredDimensionsWide(t *testing.T) {
	dir := t.TempDir()
	writeWorkbook(t, dir, "hs.xlsx", map[string][][]any{"Báo cáo": {
		{"Tỉnh", "Loại dịch vụ", "Kênh", "Tháng 9/2025", "Tháng 10/2025"},
		{"Hà Nội", "Tiêm chủng", "VNeID", "1.000", "1.200"},
		{"Huế", "Phẫu thuật", "VNeID", "3", "4"},
	}}, []string{"Báo cáo"})
	c, m := newCatalogueSource(t, declaredCatalogue, dir, `
collector: excel
config:
  path: hs.xlsx
  wide:
    dimensions: {province: Tỉnh, service_type: Loại dịch vụ, channel: Kênh}
    numbers: {decimal: ","}
    kpis: [{kpi: ehealth_records, values: per_period}]
`)
	b := collect(t, c, m)
	got := observed(m, b)
	if got["ehealth_records/Ha Noi,Tiêm chủng,VNeID/2025-09"].Value != 1000 || got["ehealth_records/Ha Noi,Tiêm chủng,VNeID/2025-10"].Value != 1200 || len(got) != 2 {
		t.Errorf("got %v", got)
	}
	wantContains(t, errorTexts(b.Rejected), `hs.xlsx: row 3, column "Loại dịch vụ": unknown service_type "Phẫu thuật"`)
}

// A JSON source maps declared dimensions as a CSV does, and a form's unit
// may be a declared dimension: a form per service type.
func TestDeclaredDimensionsJSONAndForm(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "hs.json", `[{"tinh": "Hà Nội", "loai": "xet nghiem", "kenh": "VNeID", "ky": "2025-10", "so": 7},
		{"tinh": "Hà Nội", "loai": "Phẫu thuật", "kenh": "VNeID", "ky": "2025-10", "so": 8}]`)
	c, m := newCatalogueSource(t, declaredCatalogue, dir, `
collector: json
config:
  path: hs.json
  mapping: {kpi: ehealth_records, date: ky, value: so, dimensions: {province: tinh, service_type: loai, channel: kenh}}
`)
	b := collect(t, c, m)
	if got := observed(m, b); got["ehealth_records/Ha Noi,Xét nghiệm,VNeID/2025-10"].Value != 7 || len(got) != 1 {
		t.Errorf("json: got %v", got)
	}
	wantContains(t, errorTexts(b.Rejected), `hs.json: row 2, column "loai": unknown service_type "Phẫu thuật"`)

	byService := strings.Replace(declaredCatalogue, "dimensions: [province, service_type, channel]", "dimensions: [service_type]", 1)
	writeWorkbook(t, dir, "tiem-chung.xlsx", map[string][][]any{"Biểu mẫu": {
		{"Loại dịch vụ: TIÊM CHỦNG"},
		{"Kỳ báo cáo: Tháng 10/2025"},
		{"Số hồ sơ", 12},
	}}, []string{"Biểu mẫu"})
	c, m = newCatalogueSource(t, byService, dir, `
collector: excel
config:
  path: tiem-chung.xlsx
  form:
    unit: {label: Loại dịch vụ}
    dimension: service_type
    period: {label: Kỳ báo cáo}
    values: [{kpi: ehealth_records, label: Số hồ sơ}]
`)
	b = collect(t, c, m)
	if got := observed(m, b); got["ehealth_records/Tiêm chủng/2025-10"].Value != 12 || len(got) != 1 {
		t.Errorf("form: got %v, rejected %v", got, errorTexts(b.Rejected))
	}
}
