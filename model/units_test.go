package model

import (
	"slices"
	"testing"

	"github.com/kpiwatch/kpiwatch/catalogue"
	"github.com/kpiwatch/kpiwatch/conventions"
	"github.com/kpiwatch/kpiwatch/units"
	"github.com/kpiwatch/kpiwatch/units/unitstest"
)

// A KPI broken down by a listed level alone expects a report from each of
// its units in force: the commune that never reported is listed in
// completeness and judged as having no data; the former communes are not
// expected. Without a list of communes nothing is expected of them.
func TestCommuneCompleteness(t *testing.T) {
	set, err := units.LoadFS(unitstest.Files(), "units.yaml")
	if err != nil {
		t.Fatal(err)
	}
	k := testKPI(catalogue.KindCount, []string{catalogue.DimCommune}, 100, catalogue.ScopeEach)
	cat := &catalogue.Catalogue{KPIs: []catalogue.KPI{k}, Owners: []catalogue.Owner{{ID: "mps", Block: catalogue.BlockGovernment}}, Units: set}
	var series []Series
	for _, c := range []string{"Phuoc Vinh", "Phuoc Minh", "Tan Ninh", "Ben Cau"} {
		series = append(series, Series{Labels: []string{c}, History: []Point{{Period: month(4), Value: 10}}})
	}
	m := Build(cat, [][]Series{series}, judgedAt)

	var expected, missing []string
	for _, r := range m.Reports {
		if r.Dimension != catalogue.DimCommune {
			t.Errorf("report %+v, want one by commune", r)
		}
		expected = append(expected, r.Unit)
		if !r.Received {
			missing = append(missing, r.Unit)
		}
	}
	if !slices.Equal(missing, []string{"Dac Hoa"}) || len(expected) != 5 {
		t.Errorf("expected %v, missing %v; want the 5 communes in force, Dac Hoa missing", expected, missing)
	}
	var noData []string
	for _, s := range m.KPIs[0].Series {
		if s.Verdict.Status() == conventions.StatusNoData {
			noData = append(noData, s.Labels[0])
		}
	}
	if !slices.Equal(noData, []string{"Dac Hoa"}) {
		t.Errorf("series without data %v, want Dac Hoa's", noData)
	}

	cat.Units = units.Default()
	if _, _, ok := Reporters(cat, &cat.KPIs[0]); ok {
		t.Error("communes without a list have reporters")
	}
}
