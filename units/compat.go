package units

// The functions below are the package's API before units were data, kept
// over Default's province level while web and dashboards move to Set.

// Province is a province in force since 2025-07-01.
type Province struct {
	Code   string
	Name   string
	NameVI string
}

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

func province(u Unit) Province { return Province{Code: u.Code, Name: u.Name, NameVI: u.NameVI} }

// All returns the 34 provinces in force, by code.
func All() []Province {
	var out []Province
	for _, u := range Default().Level("province").Current() {
		out = append(out, province(u))
	}
	return out
}

// Match is Default's province Match without the named unit.
func Match(name string) (Province, error) {
	p, _, err := MatchNamed(name)
	return p, err
}

// MatchNamed is Default's province Match.
func MatchNamed(name string) (Province, string, error) {
	u, named, err := Default().Level("province").Match(name)
	return province(u), named, err
}
