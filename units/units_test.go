package units

import (
	"errors"
	"strings"
	"testing"
)

func TestTables(t *testing.T) {
	l := Default().Level("province")
	if n := len(l.Current()); n != 34 {
		t.Fatalf("%d units since 2025-07-01, want 34", n)
	}
	if n := len(Former()); n != 63 {
		t.Fatalf("%d provinces of 2008, want 63", n)
	}
	if n := len(l.Units); n != 34+29 {
		t.Fatalf("%d units in the default, want the 34 and the 29 merged 2008 provinces that kept no name", n)
	}
	// Every 2008 unit became part of exactly one current unit, as both
	// tables say, and its name still names it.
	into := map[string]string{}
	for _, r := range readEmbedded(provinces2025CSV) {
		for _, c := range splitList(r["merged_from_codes"]) {
			if prev, dup := into[c]; dup {
				t.Errorf("former code %s merged into both %s and %s", c, prev, r["code"])
			}
			into[c] = r["code"]
		}
	}
	for _, f := range Former() {
		if into[f.Code] != f.Into {
			t.Errorf("former %s (%s): the 2008 table says into %s, the 2025 table says %s", f.Name, f.Code, f.Into, into[f.Code])
		}
		if _, named, err := l.Match(f.Name); err != nil || named != f.Name {
			t.Errorf("Match(%q) names %q, %v; want itself", f.Name, named, err)
		}
		p, _, err := l.Match(f.NameVI)
		if err != nil || p.Code != f.Into {
			t.Errorf("Match(%q) = %v, %v; want the unit coded %s", f.NameVI, p.Code, err, f.Into)
		}
	}
	if u, ok := l.Unit("Binh Duong"); !ok || u.MergedInto != "Ho Chi Minh" || u.MergedOn != provincesMergedOn || u.Code != "74" {
		t.Errorf("Binh Duong = %+v, want 74, merged into Ho Chi Minh on 2025-07-01", u)
	}
}

func TestMatchSpellings(t *testing.T) {
	cases := map[string]string{
		"Thành phố Hồ Chí Minh":  "Ho Chi Minh",
		"TP. HCM":                "Ho Chi Minh",
		"TP Hồ Chí Minh":         "Ho Chi Minh",
		"Ho Chi Minh City":       "Ho Chi Minh",
		"Bình Dương":             "Ho Chi Minh", // former, merged
		"Tỉnh Bà Rịa - Vũng Tàu": "Ho Chi Minh",
		"BRVT":                   "Ho Chi Minh", // a former unit's alias
		"HÀ NỘI":                 "Ha Noi",
		"Hà  Nội ":               "Ha Noi",
		"Tỉnh Thừa Thiên Huế":    "Hue",
		"Thua Thien Hue":         "Hue",
		"Hoà Bình":               "Phu Tho", // old tone placement
		"Hòa Bình":               "Phu Tho", // new tone placement
		"Tỉnh Bắc Giang":         "Bac Ninh",
		"Bắc Ninh":               "Bac Ninh",
		"Đắk Lắk":                "Dak Lak",
		"Daklak":                 "Dak Lak",
		"TỈNH ĐẮK NÔNG":          "Lam Dong",
		"Kiên Giang":             "An Giang",
		"Thành phố Cần Thơ":      "Can Tho",
	}
	for in, want := range cases {
		p, _, err := Default().Level("province").Match(in)
		if err != nil || p.Name != want {
			t.Errorf("Match(%q) = %q, %v; want %q", in, p.Name, err, want)
		}
	}
}

func TestUnknownIsAnErrorNamingTheValue(t *testing.T) {
	for _, in := range []string{"Hà Tây", "", "Tỉnh", "Saigon Province X"} {
		_, _, err := Default().Level("province").Match(in)
		if !errors.Is(err, ErrUnknown) {
			t.Errorf("Match(%q) = %v, want ErrUnknown", in, err)
		}
	}
	if _, _, err := Default().Level("province").Match("Hà Tây"); err == nil || !strings.HasPrefix(err.Error(), `unknown province "Hà Tây"`) {
		t.Errorf("error should name the value: %v", err)
	}
}
