package units

import (
	"errors"
	"strings"
	"testing"
)

func TestTables(t *testing.T) {
	if n := len(All()); n != 34 {
		t.Fatalf("%d units since 2025-07-01, want 34", n)
	}
	if n := len(Former()); n != 63 {
		t.Fatalf("%d former units, want 63", n)
	}
	// Every former unit is merged whole into exactly one current unit, as
	// both tables say.
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
		if _, named, err := MatchNamed(f.Name); err != nil || named != f.Name {
			t.Errorf("MatchNamed(%q) names %q, %v; want itself", f.Name, named, err)
		}
		p, err := Match(f.NameVI)
		if err != nil || p.Code != f.Into {
			t.Errorf("Match(%q) = %v, %v; want the unit coded %s", f.NameVI, p.Code, err, f.Into)
		}
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
		p, err := Match(in)
		if err != nil || p.Name != want {
			t.Errorf("Match(%q) = %q, %v; want %q", in, p.Name, err, want)
		}
	}
}

func TestUnknownIsAnErrorNamingTheValue(t *testing.T) {
	for _, in := range []string{"Hà Tây", "", "Tỉnh", "Saigon Province X"} {
		_, err := Match(in)
		if !errors.Is(err, ErrUnknown) {
			t.Errorf("Match(%q) = %v, want ErrUnknown", in, err)
		}
	}
	if _, err := Match("Hà Tây"); err == nil || !strings.HasPrefix(err.Error(), `unknown province "Hà Tây"`) {
		t.Errorf("error should name the value: %v", err)
	}
}
