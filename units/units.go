// Package units knows Vietnam's provincial units: the 34 in force since
// 2025-07-01 and the 63 in force from 2008-08-01 to 2025-06-30, each of which
// was merged whole into one of the 34. It matches names as reports spell them
// and maps every old unit to the new one it rolls up into.
package units

import (
	_ "embed"
	"encoding/csv"
	"fmt"
	"sort"
	"strings"
	"time"
	"unicode"

	"golang.org/x/text/unicode/norm"
)

// The tables are copies of the statistics office code lists (Resolution
// 202/2025/QH15 and letter 915/CTK-CSCL), kept in the repository so a clone
// needs nothing beside it.
var (
	//go:embed data/provinces_2025.csv
	provinces2025CSV string
	//go:embed data/provinces_2008.csv
	provinces2008CSV string
)

// MergedOn is the day the 34 units came into force (Resolution
// 202/2025/QH15): from then on a current unit's name means the whole of
// it, and the former units merged into it report no more on their own.
var MergedOn = time.Date(2025, 7, 1, 0, 0, 0, 0, time.UTC)

// Province is one of the 34 provincial units in force since 2025-07-01.
type Province struct {
	Code   string // statistics code since 2025-07-01
	Name   string // ASCII name, used as the label value
	NameVI string // official Vietnamese name
	Type   string // city or province
	// FormerCodes are the pre-2025 codes merged into this unit.
	FormerCodes []string
}

// FormerProvince is one of the 63 units in force from 2008 to 2025-06-30.
type FormerProvince struct {
	Code   string
	Name   string
	NameVI string
	Into   string // code of the 2025 unit it was merged into
}

var (
	provinces []Province
	former    []FormerProvince
	byKey     map[string]entry // normalised name or alias -> the unit it names
)

// entry is what a name means: the current unit it belongs to, and the name
// of the unit (former or current) it was written for.
type entry struct {
	current int
	named   string
}

func init() {
	provinces = parseProvinces(provinces2025CSV)
	former = parseFormer(provinces2008CSV)
	byKey = buildIndex(provinces, former)
}

// All returns the 34 current units, ordered by code.
func All() []Province { return append([]Province(nil), provinces...) }

// Former returns the 63 pre-2025 units, ordered by code.
func Former() []FormerProvince { return append([]FormerProvince(nil), former...) }

// ErrUnknown is wrapped by Match's error for a name no table knows.
var ErrUnknown = fmt.Errorf("unknown province")

// Match finds the current unit a reported name belongs to. Names of former
// units match the unit they were merged into. Case, diacritics, the prefixes
// Tỉnh, Thành phố and TP., punctuation and common aliases are tolerated.
func Match(name string) (Province, error) {
	p, _, err := MatchNamed(name)
	return p, err
}

// MatchNamed is Match that also says which unit the name was written for:
// the ASCII name of the former province (or of the current unit) it spells,
// the same however it is spelled. Reports of two former provinces roll up;
// two spellings of one are the same report twice.
func MatchNamed(name string) (Province, string, error) {
	if e, ok := byKey[Normalise(name)]; ok {
		return provinces[e.current], e.named, nil
	}
	return Province{}, "", fmt.Errorf("%w %q", ErrUnknown, name)
}

// prefixes are stripped from normalised names, longest first.
var prefixes = []string{"thanh pho ", "tinh ", "tp ", "city of ", "province of "}
var suffixes = []string{" city", " province"}

// Normalise folds a unit name to the key it is indexed by: lower case, no
// diacritics (đ becomes d), no administrative prefix, single spaces.
func Normalise(name string) string {
	var b strings.Builder
	lastSpace := true
	for _, r := range norm.NFD.String(strings.ToLower(name)) {
		switch {
		case unicode.Is(unicode.Mn, r):
			continue
		case r == 'đ':
			r = 'd'
		case unicode.IsLetter(r) || unicode.IsDigit(r):
		default:
			r = ' '
		}
		if r == ' ' {
			if lastSpace {
				continue
			}
			lastSpace = true
		} else {
			lastSpace = false
		}
		b.WriteRune(r)
	}
	s := strings.TrimSpace(b.String())
	for _, p := range prefixes {
		if strings.HasPrefix(s, p) {
			s = strings.TrimPrefix(s, p)
			break
		}
	}
	for _, p := range suffixes {
		s = strings.TrimSuffix(s, p)
	}
	return s
}

// aliases are spellings seen in reports that normalising alone does not reach,
// keyed by the ASCII name of the unit they mean (2025 name or former name).
var aliases = map[string][]string{
	"Ho Chi Minh":       {"HCM", "TPHCM", "TP HCM", "HCMC", "Sai Gon", "Saigon", "Thanh pho HCM"},
	"Ha Noi":            {"Hanoi", "HN", "TP Ha Noi"},
	"Hue":               {"Thua Thien Hue", "Thua Thien - Hue", "TT Hue"},
	"Da Nang":           {"Danang"},
	"Hai Phong":         {"Haiphong"},
	"Can Tho":           {"Cantho"},
	"Ba Ria - Vung Tau": {"Ba Ria Vung Tau", "BRVT", "BR VT", "Vung Tau"},
	"Dak Lak":           {"Daklak", "Dac Lac", "Dak Lac"},
	"Dak Nong":          {"Daknong", "Dac Nong"},
}

func buildIndex(ps []Province, fs []FormerProvince) map[string]entry {
	idx := map[string]entry{}
	byCode := map[string]int{}
	for i, p := range ps {
		byCode[p.Code] = i
		idx[Normalise(p.Name)] = entry{i, p.Name}
		idx[Normalise(p.NameVI)] = entry{i, p.Name}
	}
	// A former name that is also a current one (Bac Ninh, Lao Cai) names the
	// same current unit either way.
	for _, f := range fs {
		e := entry{byCode[f.Into], f.Name}
		idx[Normalise(f.Name)] = e
		idx[Normalise(f.NameVI)] = e
	}
	for name, as := range aliases {
		e, ok := idx[Normalise(name)]
		if !ok {
			panic("units: alias target " + name + " is in no table")
		}
		for _, a := range as {
			idx[Normalise(a)] = e
		}
	}
	return idx
}

func readCSV(data string) []map[string]string {
	rows, err := csv.NewReader(strings.NewReader(data)).ReadAll()
	if err != nil {
		panic("units: embedded table: " + err.Error())
	}
	out := make([]map[string]string, 0, len(rows)-1)
	for _, r := range rows[1:] {
		m := map[string]string{}
		for i, h := range rows[0] {
			m[h] = r[i]
		}
		out = append(out, m)
	}
	return out
}

func parseProvinces(data string) []Province {
	var ps []Province
	for _, r := range readCSV(data) {
		ps = append(ps, Province{
			Code: r["code"], Name: r["name"], NameVI: r["name_vi"], Type: r["type"],
			FormerCodes: strings.Split(r["merged_from_codes"], ";"),
		})
	}
	sort.Slice(ps, func(i, j int) bool { return ps[i].Code < ps[j].Code })
	return ps
}

func parseFormer(data string) []FormerProvince {
	var fs []FormerProvince
	for _, r := range readCSV(data) {
		fs = append(fs, FormerProvince{Code: r["code"], Name: r["name"], NameVI: r["name_vi"], Into: r["new_code_2025"]})
		if r["aliases"] != "" {
			aliases[r["name"]] = append(aliases[r["name"]], strings.Split(r["aliases"], ";")...)
		}
	}
	return fs
}
