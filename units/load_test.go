package units

import (
	"errors"
	"strings"
	"testing"
	"testing/fstest"
	"time"
)

func TestLoadCommunes(t *testing.T) {
	s, err := Load("unitstest/units.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if s.Whole.NameVI != "tỉnh Tây Ninh" || s.Level("province") != nil {
		t.Errorf("whole %+v, province level %v: want Tay Ninh and no province list of its own", s.Whole, s.Level("province"))
	}
	l := s.Level("commune")
	if l == nil || l.Parent != "province" || len(l.Units) != 7 || len(l.Current()) != 5 {
		t.Fatalf("commune level %+v: want 7 units, 5 in force, parent province", l)
	}
	u, ok := l.Unit("Long Thuan")
	if !ok || u.MergedInto != "Ben Cau" || !u.MergedOn.Equal(time.Date(2025, 7, 1, 0, 0, 0, 0, time.UTC)) || u.Parent != "Tay Ninh" {
		t.Errorf("Long Thuan = %+v, want merged into Ben Cau on 2025-07-01, in Tay Ninh", u)
	}
	for in, want := range map[string][2]string{
		"Xã Phước Vinh":   {"Phuoc Vinh", "Phuoc Vinh"},
		"phuoc vinh":      {"Phuoc Vinh", "Phuoc Vinh"},
		"PHƯỚC VĨNH":      {"Phuoc Vinh", "Phuoc Vinh"},
		"Thị xã Tây Ninh": {"Tan Ninh", "Tan Ninh"}, // alias
		"Phường Tân Ninh": {"Tan Ninh", "Tan Ninh"},
		"Đắc Hòa":         {"Dac Hoa", "Dac Hoa"},
		"Đặc khu Đắc Hoà": {"Dac Hoa", "Dac Hoa"},
		"Xã Long Thuận":   {"Ben Cau", "Long Thuan"}, // former
		"Long Giang":      {"Ben Cau", "Long Giang"},
		"Ben Cau":         {"Ben Cau", "Ben Cau"},
	} {
		cur, named, err := l.Match(in)
		if err != nil || cur.Name != want[0] || named != want[1] {
			t.Errorf("Match(%q) = %q, %q, %v; want %q, %q", in, cur.Name, named, err, want[0], want[1])
		}
	}
}

func TestMatchSuggestsAtMostThree(t *testing.T) {
	s, err := Load("unitstest/units.yaml")
	if err != nil {
		t.Fatal(err)
	}
	_, _, err = s.Level("commune").Match("Phuoc Vinhh")
	var ue *UnknownError
	if !errors.As(err, &ue) || !errors.Is(err, ErrUnknown) {
		t.Fatalf("err = %v, want an UnknownError", err)
	}
	if len(ue.Suggestions) == 0 || ue.Suggestions[0] != "Phuoc Vinh" {
		t.Errorf("suggestions %q, want Phuoc Vinh first", ue.Suggestions)
	}
	if want := `unknown commune "Phuoc Vinhh" (did you mean "Phuoc Vinh" or "Phuoc Minh"?)`; err.Error() != want {
		t.Errorf("err = %q, want %q", err, want)
	}
	// Among 34 provinces and 29 former ones many are near "Ha Ninh"; the
	// hint names three, not the list.
	_, _, err = Default().Level("province").Match("Ha Ninh")
	if !errors.As(err, &ue) || len(ue.Suggestions) != MaxSuggestions || strings.Count(err.Error(), `"`) != 2*(1+MaxSuggestions) {
		t.Errorf("err = %v, want %d suggestions", err, MaxSuggestions)
	}
	if _, _, err := s.Level("commune").Match("Hà Nội"); err == nil || strings.Contains(err.Error(), "did you mean") {
		t.Errorf("err = %v, want unknown without a far-fetched hint", err)
	}
}

func TestLoadRejectsBadRows(t *testing.T) {
	const yml = "apiVersion: kpiwatch.io/v1\nkind: Units\nwhole: {name: X, name_vi: x, name_en: x}\nlevels:\n  - {name: commune, name_vi: Xã, name_en: Commune, file: c.csv, parent: province}\n"
	const header = "code,name,name_vi,aliases,parent,merged_into,merged_on\n"
	const good = "1,A,Xã A,,80,,\n"
	for _, c := range []struct{ csv, want string }{
		{good + "2,,Xã B,,80,,\n", "c.csv: row 3, column 2 (name): empty"},
		{good + "1,B,Xã B,,80,,\n", `c.csv: row 3, column 1 (code): "1" is also row 2's`},
		{good + "2,B,Xã B,,99,,\n", `c.csv: row 3, column 5 (parent): no province is coded "99"`},
		{good + "2,B,Xã B,,80,1,2025-7-1\n", `c.csv: row 3, column 7 (merged_on): "2025-7-1" is not a date`},
		{good + "2,B,Xã B,,80,3,2025-07-01\n", `c.csv: row 3, column 6 (merged_into): no unit of the level is coded "3"`},
		{good + "2,B,Xã B,,80,1,\n", "c.csv: row 3, column 7 (merged_on): empty"},
		{good + "2,B,Xã B,80,,\n", "c.csv: row 3, column 1: wrong number of fields"},
		{good + "2,B,Xã A,,80,,\n", `"Xã A" of B is spelt like A`},
		{good + "2,A,Xã B,,80,,\n", `c.csv: row 3, column 2 (name): "A" is also row 2's`},
		{"1,A,Xã A,,80,2,2025-07-01\n2,B,Xã B,,80,1,2025-07-01\n", "commune: A is merged, in a cycle, into itself"},
	} {
		_, err := LoadFS(fstest.MapFS{"u.yaml": {Data: []byte(yml)}, "c.csv": {Data: []byte(header + c.csv)}}, "u.yaml")
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: err = %v, want %q", c.csv, err, c.want)
		}
	}
	_, err := LoadFS(fstest.MapFS{"u.yaml": {Data: []byte(yml)}, "c.csv": {Data: []byte("code,name,name_vi,parnet\n1,A,Xã A,80\n")}}, "u.yaml")
	if want := `c.csv: row 1, column 4: unknown column "parnet" (did you mean "parent"?)`; err == nil || err.Error() != want {
		t.Errorf("err = %v, want %q", err, want)
	}
	_, err = Load("unitstest/missing.yaml")
	if err == nil || !strings.HasPrefix(err.Error(), "unitstest/missing.yaml: ") {
		t.Errorf("err = %v, want it to name unitstest/missing.yaml", err)
	}
}
