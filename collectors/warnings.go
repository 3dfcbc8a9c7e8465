package collectors

import (
	"fmt"

	"github.com/kpiwatch/kpiwatch/catalogue"
	"github.com/kpiwatch/kpiwatch/units"
)

// Warnings are the settings that are valid but will not do what the
// catalogue means: a ratio KPI read from a value column, whose rows are
// rejected because a share cannot roll up without its numerator and
// denominator; a source that names a KPI read from other sources, whose
// reads fail. Paths are the catalogue's
// (sources[i].config.mapping...).
func Warnings(cat *catalogue.Catalogue) []catalogue.FieldError {
	var warns []catalogue.FieldError
	for i, src := range cat.Sources {
		cfg := sourceKPIs(src)
		for _, n := range cfg.named() {
			k, ok := cat.KPI(n.kpi)
			if ok && !k.ReadFrom(src.ID) {
				warns = append(warns, catalogue.FieldError{Path: fmt.Sprintf("sources[%d].config.%s", i, n.path), Msg: notThisSource(k, src.ID).Error()})
			}
		}
		mp := cfg.Mapping
		if mp.Value == "" || (mp.Numerator != "" && mp.Denominator != "") {
			continue
		}
		for _, k := range cat.KPIs {
			if !k.ReadFrom(src.ID) || k.Kind != catalogue.KindRatio {
				continue
			}
			if mp.KPI != "" && units.Normalise(mp.KPI) != units.Normalise(k.ID) {
				continue
			}
			warns = append(warns, catalogue.FieldError{
				Path: fmt.Sprintf("sources[%d].config.mapping.value", i),
				Msg:  fmt.Sprintf("kpi %q is a ratio: its rows are rejected unless numerator and denominator are mapped (a share cannot roll up to a merged province or the nation)", k.ID),
			})
		}
	}
	return warns
}

// kpiNames are the KPIs a source's config names: its mapping's, its wide
// table's, its form's.
type kpiNames struct {
	Mapping Mapping `yaml:"mapping"`
	Wide    struct {
		KPIs []struct {
			KPI string `yaml:"kpi"`
		} `yaml:"kpis"`
	} `yaml:"wide"`
	Form struct {
		Values []struct {
			KPI string `yaml:"kpi"`
		} `yaml:"values"`
	} `yaml:"form"`
}

// namedKPI is a KPI a config names, at its path under config.
type namedKPI struct{ kpi, path string }

func (n kpiNames) named() []namedKPI {
	var out []namedKPI
	if n.Mapping.KPI != "" {
		out = append(out, namedKPI{n.Mapping.KPI, "mapping.kpi"})
	}
	for i, k := range n.Wide.KPIs {
		out = append(out, namedKPI{k.KPI, fmt.Sprintf("wide.kpis[%d].kpi", i)})
	}
	for i, v := range n.Form.Values {
		out = append(out, namedKPI{v.KPI, fmt.Sprintf("form.values[%d].kpi", i)})
	}
	return out
}

// sourceKPIs decodes what a source's config says of its KPIs, loosely: the
// source's own collector has checked it strictly.
func sourceKPIs(src catalogue.Source) kpiNames {
	var n kpiNames
	_ = src.Config.Decode(&n)
	return n
}
