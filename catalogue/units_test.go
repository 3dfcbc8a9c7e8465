package catalogue_test

import (
	"slices"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/kpiwatch/kpiwatch/catalogue"
	"github.com/kpiwatch/kpiwatch/collectors"
	"github.com/kpiwatch/kpiwatch/units"
	"github.com/kpiwatch/kpiwatch/units/unitstest"
)

// communal is a province's catalogue of its communes: its own units file,
// blocks and words for its owners.
const communal = `apiVersion: kpiwatch.io/v1
kind: Catalogue
metadata:
  name: tay-ninh
  units: units.yaml
  owners_vi: Sở, ngành
  owners_en: Departments
blocks:
  - {id: province_party, name_vi: Khối Đảng tỉnh, name_en: Provincial Party}
  - {id: province_government, name_vi: Khối chính quyền, name_en: Provincial government}
owners:
  - {id: sct, name: Department of Industry and Trade, name_vi: Sở Công Thương, block: province_government}
sources:
  - id: communes
    collector: csv
    config:
      path: data.csv
      mapping:
        kpi_column: kpi
        date: period
        value: value
        dimensions: {commune: commune}
kpis:
  - id: dossiers_online
    name: Dossiers filed online
    kind: ratio
    direction: higher_is_better
    owner: sct
    dimensions: [commune]
    cadence: {period: monthly, due_day: 15}
    source: communes
    baseline: {date: 2025-01-01, value: 0.2}
    targets:
      - {by: 2026-12-31, value: 0.8}
      - {by: 2026-12-31, value: 0.9, unit: {commune: Xã Phước Vinh}}
`

func parseCommunal(t *testing.T, src string) (*catalogue.Catalogue, error) {
	t.Helper()
	fsys := unitstest.Files()
	fsys["kpis.yaml"] = &fstest.MapFile{Data: []byte(src)}
	return catalogue.Parse("kpis.yaml", []byte(src), fsys, collectors.Check)
}

func TestCatalogueUnits(t *testing.T) {
	c, err := parseCommunal(t, communal)
	if err != nil {
		t.Fatal(err)
	}
	if c.Units.Whole.Name != "Tay Ninh" || c.UnitLevel("commune") == nil || c.UnitLevel("province") != nil {
		t.Fatalf("units %+v: want Tay Ninh's communes, no province list", c.Units)
	}
	k, _ := c.KPI("dossiers_online")
	if got := k.Targets[1].Unit["commune"]; got != "Phuoc Vinh" {
		t.Errorf("a commune target is stored as the served name, got %q", got)
	}
	if got := c.BlockIDs(); !slices.Equal(got, []string{"province_party", "province_government"}) || k.Block != "province_government" {
		t.Errorf("blocks %v, KPI block %q", got, k.Block)
	}
	if b, ok := c.Block("province_party"); !ok || b.NameVI != "Khối Đảng tỉnh" {
		t.Errorf("Block(province_party) = %+v, %v", b, ok)
	}
	if c.Metadata.OwnersVI != "Sở, ngành" || c.Metadata.OwnersEN != "Departments" {
		t.Errorf("owners words %q / %q", c.Metadata.OwnersVI, c.Metadata.OwnersEN)
	}

	d, err := parse(t, valid)
	if err != nil {
		t.Fatal(err)
	}
	if d.Units != units.Default() || !slices.Equal(d.BlockIDs(), []string{catalogue.BlockParty, catalogue.BlockGovernment, catalogue.BlockNationalAssembly, catalogue.BlockFatherlandFront}) || d.Metadata.OwnersVI != catalogue.DefaultOwnersVI || d.Metadata.OwnersEN != catalogue.DefaultOwnersEN {
		t.Errorf("without them a catalogue has the default units, blocks and owners words: %v %v %q %q", d.Units.Whole, d.BlockIDs(), d.Metadata.OwnersVI, d.Metadata.OwnersEN)
	}
}

func TestCatalogueUnitsErrors(t *testing.T) {
	for _, c := range []struct{ old, new, want string }{
		{"{commune: Xã Phước Vinh}", "{commune: Phuoc Vinhh}",
			`kpis[0].targets[1].unit.commune: unknown commune "Phuoc Vinhh" (did you mean "Phuoc Vinh" or "Phuoc Minh"?)`},
		{"{commune: Xã Phước Vinh}", "{province: Tay Ninh}", `kpis[0].targets[1].unit.province: "province" is not a dimension of this KPI`},
		{"units: units.yaml", "units: nowhere.yaml", "metadata.units: nowhere.yaml: open nowhere.yaml: file does not exist"},
		{"units: units.yaml", "units: ../units.yaml", `metadata.units: "../units.yaml" is not a path inside the catalogue's folder`},
		{"block: province_government", "block: government", `owners[0].block: "government" is not one of province_party, province_government`},
		{"name_en: Provincial Party}", "name_en: \"\"}", "blocks[0]: name_vi and name_en are both needed"},
		{"id: province_party", "id: Province-Party", `blocks[0].id: "Province-Party" must be lower case`},
		{"dimensions: [commune]", "dimensions: [commune, ward]", `kpis[0].dimensions[1]: "ward" is not one of province, ministry, commune, block`},
	} {
		if !strings.Contains(communal, c.old) {
			t.Fatalf("test broken: %q not in the catalogue", c.old)
		}
		_, err := parseCommunal(t, strings.Replace(communal, c.old, c.new, 1))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s -> %s: err = %v\nwant %q", c.old, c.new, err, c.want)
		}
	}
}

// A level the units file declares is a dimension KPIs may list; its name
// is a label, so it may not be one kpiwatch serves nor a declared
// dimension.
func TestCatalogueUnitLevels(t *testing.T) {
	ward := strings.Replace(communal, "dimensions: [commune]", "dimensions: [ward]", 1)
	ward = strings.Replace(ward, "{commune: Xã Phước Vinh}", "{ward: Phường Tân Ninh}", 1)
	ward = strings.Replace(ward, "{commune: commune}", "{ward: ward}", 1)
	for _, c := range []struct{ level, extra, want string }{
		{"ward", "", ""},
		{"ward", "dimensions:\n  - {name: ward, name_vi: Phường, name_en: Ward, free_text: true}\n", `metadata.units: level "ward" is also declared under dimensions`},
		{"owner", "", `metadata.units: level "owner" is a label kpiwatch already serves`},
	} {
		fsys := unitstest.Files()
		fsys["units.yaml"].Data = []byte(strings.Replace(string(fsys["units.yaml"].Data), "name: commune", "name: "+c.level, 1))
		src := ward + c.extra
		fsys["kpis.yaml"] = &fstest.MapFile{Data: []byte(src)}
		cat, err := catalogue.Parse("kpis.yaml", []byte(src), fsys, collectors.Check)
		switch {
		case c.want == "" && err != nil:
			t.Errorf("level %s: %v", c.level, err)
		case c.want == "":
			if k, _ := cat.KPI("dossiers_online"); k.Targets[1].Unit["ward"] != "Tan Ninh" || !cat.IsDimension("ward") {
				t.Errorf("level ward: target unit %v", k.Targets[1].Unit)
			}
		case err == nil || !strings.Contains(err.Error(), c.want):
			t.Errorf("level %s: err = %v, want %q", c.level, err, c.want)
		}
	}
}
