package units

// All, Match and Province are the package's API before units were data,
// kept over Default's province level while web moves to Set.

// Province is a province in force since 2025-07-01.
type Province struct {
	Code   string
	Name   string
	NameVI string
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
	u, _, err := Default().Level("province").Match(name)
	return province(u), err
}
