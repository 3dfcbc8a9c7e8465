package model

import (
	"cmp"
	"slices"
	"strings"

	"github.com/kpiwatch/kpiwatch/catalogue"
	"github.com/kpiwatch/kpiwatch/conventions"
)

// WorstUnits is how many of its units in a status a roll-up names at most.
const WorstUnits = 3

// NamedStatuses are the statuses in which a roll-up names its worst units:
// those of the alerts that fire at once (a target missed, a report
// overdue), whose notifications name them. Behind-plan and forecast alerts
// wait pending for a day, and a query per pending alert and evaluation
// costs too much at commune scale, so they name none.
var NamedStatuses = []string{conventions.StatusMissed, conventions.StatusStale}

// Worst names a roll-up's worst parts in one status.
type Worst struct {
	Status string
	Names  []string // display names (UnitName), worst first; at most WorstUnits
}

// part is one of a roll-up's parts: a roll-up of the level below the
// whole, or an observed series.
type part struct {
	level, name string
	*Judged
}

// nameWorst ranks the parts of each roll-up of k in the named statuses:
// the whole's are the roll-ups of the first level below it (the provinces
// of a commune KPI) or, with none, its observed series; any other
// roll-up's are its observed series where they are finer than the roll-up
// (the communes of a province), none where the roll-up is itself one unit.
func nameWorst(cat *catalogue.Catalogue, k *KPI, groups []group) {
	finest := finestDimension(k.KPI)
	levels := Levels(cat, k.KPI)
	for g := range k.Rollups {
		r := &k.Rollups[g]
		var parts []part
		switch {
		case r.Level == conventions.LevelWhole && len(levels) > 0:
			for i := range k.Rollups {
				if q := &k.Rollups[i]; q.Level == levels[0] {
					parts = append(parts, part{q.Level, q.Name, &q.Judged})
				}
			}
		case finest != "" && r.Level != finest:
			for _, i := range groups[g].members {
				s := &k.Series[i]
				parts = append(parts, part{finest, k.Label(s, finest), s})
			}
		}
		r.Worst = worstParts(cat, parts)
	}
}

// finestDimension is the dimension of a KPI's observed series that names
// each: the commune where it has one, else its last; "" without any.
func finestDimension(k *catalogue.KPI) string {
	if k.HasDimension(catalogue.DimCommune) {
		return catalogue.DimCommune
	}
	if n := len(k.Dimensions); n > 0 {
		return k.Dimensions[n-1]
	}
	return ""
}

// worstParts names the worst parts in each named status: the furthest
// behind plan first, or for a stale report the oldest; by name where
// equal.
func worstParts(cat *catalogue.Catalogue, parts []part) []Worst {
	var out []Worst
	for _, st := range NamedStatuses {
		status := uint8(statusIndex(st))
		var in []part
		for _, p := range parts {
			if p.status == status {
				in = append(in, p)
			}
		}
		if len(in) == 0 {
			continue
		}
		slices.SortFunc(in, func(a, b part) int {
			worse := cmp.Compare(b.Gap, a.Gap)
			if st == conventions.StatusStale {
				pa, _ := a.Latest()
				pb, _ := b.Latest()
				worse = pa.Period.Compare(pb.Period)
			}
			return cmp.Or(worse, strings.Compare(a.name, b.name))
		})
		w := Worst{Status: st}
		for _, p := range in[:min(len(in), WorstUnits)] {
			w.Names = append(w.Names, UnitName(cat, p.level, p.name))
		}
		out = append(out, w)
	}
	return out
}

// UnitName is how leaders read a unit of a level: a listed unit's or an
// owner's Vietnamese name, a block's, or else its label.
func UnitName(cat *catalogue.Catalogue, level, name string) string {
	switch level {
	case catalogue.DimMinistry:
		if o, ok := cat.Owner(name); ok {
			return cmp.Or(o.NameVI, o.Name, name)
		}
	case catalogue.DimBlock:
		if b, ok := cat.Block(name); ok {
			return cmp.Or(b.NameVI, name)
		}
	}
	if l := cat.UnitLevel(level); l != nil {
		if u, ok := l.Unit(name); ok {
			return cmp.Or(u.NameVI, u.Name)
		}
	}
	return name
}
