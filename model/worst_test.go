package model

import (
	"slices"
	"testing"

	"github.com/kpiwatch/kpiwatch/catalogue"
	"github.com/kpiwatch/kpiwatch/conventions"
	"github.com/kpiwatch/kpiwatch/units"
	"github.com/kpiwatch/kpiwatch/units/unitstest"
)

// Each roll-up names its worst parts in the statuses alerts name: a
// province its communes furthest behind (three at most, by name where
// equal) or longest without a report, the whole its provinces; a roll-up
// that is one unit names none.
func TestRollupsNameTheirWorstParts(t *testing.T) {
	k := testKPI(catalogue.KindCount, []string{catalogue.DimProvince, catalogue.DimCommune}, 100, catalogue.ScopeEach)
	k.Targets[0].By = date(month(3)) // passed: a commune short of 100 missed it
	ok := []Point{{Period: month(3), Value: 150}, {Period: month(4), Value: 200}}
	short := func(v float64) []Point {
		return []Point{{Period: month(3), Value: v / 2}, {Period: month(4), Value: v}}
	}
	cat := &catalogue.Catalogue{KPIs: []catalogue.KPI{k}, Owners: []catalogue.Owner{{ID: "mps", Block: catalogue.BlockGovernment}}, Units: units.Default()}
	series := []Series{
		at("Ha Noi", "Xa A")(short(60)...),
		at("Ha Noi", "Xa B")(short(10)...), // furthest behind
		at("Ha Noi", "Xa C")(short(60)...), // as far behind as A: after it by name
		at("Ha Noi", "Xa D")(short(90)...), // fourth: not named
		at("Ha Noi", "Xa E")(ok...),
		at("Hue", "Xa F")(short(50)...),
		at("Hue", "Xa G")(Point{Period: month(1), Value: 150}), // no report since January
		at("Hue", "Xa H")(Point{Period: month(2), Value: 150}),
	}
	m := &Build(cat, [][]Series{series}, judgedAt).KPIs[0]
	names := func(r *Rollup) map[string][]string {
		out := map[string][]string{}
		for _, w := range r.Worst {
			out[w.Status] = w.Names
		}
		return out
	}
	for _, c := range []struct {
		level, name string
		want        map[string][]string
	}{
		{catalogue.DimProvince, "Ha Noi", map[string][]string{conventions.StatusMissed: {"Xa B", "Xa A", "Xa C"}}},
		{catalogue.DimProvince, "Hue", map[string][]string{conventions.StatusMissed: {"Xa F"}, conventions.StatusStale: {"Xa G", "Xa H"}}},
		// Both provinces are missed (their worst commune's status), neither
		// behind a plan of its own: by name, in their Vietnamese names.
		{conventions.LevelWhole, "", map[string][]string{conventions.StatusMissed: {"Thành phố Hà Nội", "Thành phố Huế"}}},
	} {
		r := rollup(t, m, c.level, c.name)
		got := names(r)
		if len(got) != len(c.want) {
			t.Errorf("%s %q names %v, want %v", c.level, c.name, got, c.want)
		}
		for st, want := range c.want {
			if !slices.Equal(got[st], want) {
				t.Errorf("%s %q, %s: %q, want %q", c.level, c.name, st, got[st], want)
			}
		}
	}

	// A province's deployment names its listed communes by their names.
	set, err := units.LoadFS(unitstest.Files(), "units.yaml")
	if err != nil {
		t.Fatal(err)
	}
	byCommune := testKPI(catalogue.KindCount, []string{catalogue.DimCommune}, 100, catalogue.ScopeEach)
	byCommune.Targets[0].By = date(month(3))
	cat = &catalogue.Catalogue{KPIs: []catalogue.KPI{byCommune}, Owners: cat.Owners, Units: set}
	m = &Build(cat, [][]Series{{at("Phuoc Vinh")(short(10)...), at("Tan Ninh")(short(50)...), at("Ben Cau")(ok...)}}, judgedAt).KPIs[0]
	if got := names(m.Whole()); !slices.Equal(got[conventions.StatusMissed], []string{"Xã Phước Vinh", "Phường Tân Ninh"}) {
		t.Errorf("the province names %v, want Phuoc Vinh then Tan Ninh, missed, by their names", got)
	}

	// A province that is one unit names no part: its alert names it.
	byProvince := build(t, testKPI(catalogue.KindCount, []string{catalogue.DimProvince}, 100, catalogue.ScopeEach),
		at("Ha Noi")(Point{Period: month(1), Value: 1}))
	if w := rollup(t, byProvince, catalogue.DimProvince, "Ha Noi").Worst; w != nil {
		t.Errorf("Ha Noi names %+v of itself", w)
	}
	if w := byProvince.Whole().Worst; len(w) != 1 || w[0].Status != conventions.StatusStale || !slices.Equal(w[0].Names, []string{"Thành phố Hà Nội"}) {
		t.Errorf("the whole names %+v, want Ha Noi as stale", w)
	}
}
