package units

import (
	_ "embed"
	"encoding/csv"
	"slices"
	"strings"
	"sync"
	"time"
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

// provincesMergedOn is the day the 34 provinces came into force
// (Resolution 202/2025/QH15), the MergedOn of every former province of the
// default.
var provincesMergedOn = time.Date(2025, 7, 1, 0, 0, 0, 0, time.UTC)

// Default is the embedded set: the whole of Việt Nam and one level,
// province: the 34 provinces in force since 2025-07-01 by their 2025
// codes, and the 2008 provinces merged into another by their 2008 codes.
// A 2008 province whose name the unit it became kept (Bắc Ninh, Lào Cai) is
// that unit: its reports were and are under the one name. The set is
// shared; callers must not change it.
var Default = sync.OnceValue(func() *Set {
	l := &Level{Name: "province", NameVI: "Tỉnh, thành phố", NameEN: "Province"}
	current := map[string]string{} // 2025 code -> name
	for _, r := range readEmbedded(provinces2025CSV) {
		current[r["code"]] = r["name"]
		l.Units = append(l.Units, Unit{Code: r["code"], Name: r["name"], NameVI: r["name_vi"], Aliases: splitList(r["aliases"])})
	}
	for _, r := range readEmbedded(provinces2008CSV) {
		into := current[r["new_code_2025"]]
		if into == "" {
			panic("units: 2008 province " + r["name"] + " merged into no 2025 one")
		}
		if into == r["name"] {
			i := slices.IndexFunc(l.Units, func(u Unit) bool { return u.Name == into })
			l.Units[i].Aliases = append(l.Units[i].Aliases, splitList(r["aliases"])...)
			continue
		}
		l.Units = append(l.Units, Unit{Code: r["code"], Name: r["name"], NameVI: r["name_vi"], Aliases: splitList(r["aliases"]), MergedInto: into, MergedOn: provincesMergedOn})
	}
	sortUnits(l.Units)
	if err := l.index(); err != nil {
		panic("units: embedded table: " + err.Error())
	}
	return &Set{
		Whole:  Whole{Name: "Viet Nam", NameVI: "toàn quốc", NameEN: "nationwide"},
		Levels: []*Level{l},
	}
})

// FormerProvince is one of the 63 provinces of 2008–2025.
type FormerProvince struct {
	Code   string
	Name   string
	NameVI string
	Into   string // code of the 2025 province it became part of
}

// Former returns the 63 provinces of 2008–2025, by code: the 2008 table,
// which Default keeps only the merged ones of.
func Former() []FormerProvince {
	var out []FormerProvince
	for _, r := range readEmbedded(provinces2008CSV) {
		out = append(out, FormerProvince{Code: r["code"], Name: r["name"], NameVI: r["name_vi"], Into: r["new_code_2025"]})
	}
	return out
}

// sortUnits orders units by code, a current unit before a former one with
// the same code (the default's 2008 and 2025 codes overlap).
func sortUnits(us []Unit) {
	slices.SortStableFunc(us, func(a, b Unit) int {
		if c := strings.Compare(a.Code, b.Code); c != 0 {
			return c
		}
		switch {
		case a.Current() && !b.Current():
			return -1
		case b.Current() && !a.Current():
			return 1
		}
		return 0
	})
}

// splitList splits a ;-separated cell, dropping empty items.
func splitList(s string) []string {
	var out []string
	for _, f := range strings.Split(s, ";") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}

func readEmbedded(data string) []map[string]string {
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
