package catalogue_test

import (
	"strings"
	"testing"
)

const declared = `dimensions:
  - {name: service_type, name_en: Service type, name_vi: Loại dịch vụ, values: [Khám chữa bệnh, Tiêm chủng]}
  - {name: channel, name_en: Channel, name_vi: Kênh, free_text: true}
kpis:
`

func TestDeclaredDimensions(t *testing.T) {
	src := strings.Replace(strings.Replace(valid, "kpis:\n", declared, 1), "    dimensions: [province]\n", "    dimensions: [province, service_type, channel]\n", 1)
	cat, err := parse(t, src)
	if err != nil {
		t.Fatal(err)
	}
	d, ok := cat.Dimension("service_type")
	if !ok || !cat.KPIs[0].HasDimension("channel") {
		t.Fatalf("declared dimensions not kept: %+v", cat.Dimensions)
	}
	for raw, want := range map[string]string{"KHÁM CHỮA BỆNH": "Khám chữa bệnh", " tiem  chung ": "Tiêm chủng"} {
		if got, err := d.Value(raw); err != nil || got != want {
			t.Errorf("%q: %q, %v", raw, got, err)
		}
	}
	if _, err := d.Value("Xét nghiệm"); err == nil || !strings.Contains(err.Error(), "allowed: Khám chữa bệnh, Tiêm chủng") {
		t.Errorf("an unknown value: %v", err)
	}
	free, _ := cat.Dimension("channel")
	if _, err := free.Value(strings.Repeat("x", 200)); err == nil {
		t.Error("a free-text value of 200 bytes accepted")
	}

	bad := strings.Replace(valid, "kpis:\n", `dimensions:
  - {name: province, name_en: Province, name_vi: Tỉnh, free_text: true}
  - {name: Gender, name_en: Gender, name_vi: Giới tính, values: [Nam, Nữ]}
  - {name: age_band, name_vi: Nhóm tuổi, values: [0-14, 0 14], free_text: true}
  - {name: channel, name_en: Channel, name_vi: Kênh}
kpis:
`, 1)
	bad = strings.Replace(bad, "    dimensions: [province]\n", "    dimensions: [province, gender]\n", 1)
	_, err = parse(t, bad)
	if err == nil {
		t.Fatal("loaded")
	}
	for _, want := range []string{
		`dimensions[0].name: "province" is a label kpiwatch already serves`,
		`dimensions[1].name: "Gender" must be lower case`,
		"dimensions[2]: name_en and name_vi are both needed",
		"dimensions[2].values: set the allowed values, or free_text: true, not both",
		`dimensions[2].values[1]: "0 14" repeats a value`,
		"dimensions[3].values: set the allowed values, or free_text: true",
		`kpis[0].dimensions[1]: "gender" is not one of province, ministry, commune, block, province, Gender, age_band, channel`,
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("want %q in:\n%v", want, err)
		}
	}
}
