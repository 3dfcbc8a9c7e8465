package collectors

import (
	"fmt"

	"github.com/kpiwatch/kpiwatch/catalogue"
	"github.com/kpiwatch/kpiwatch/units"
)

// Warnings are the mappings that are valid but will not do what the
// catalogue means: a ratio KPI read from a value column, whose rows are
// rejected because a share cannot roll up without its numerator and
// denominator. Paths are the catalogue's (sources[i].config.mapping...).
func Warnings(cat *catalogue.Catalogue) []catalogue.FieldError {
	var warns []catalogue.FieldError
	for i, src := range cat.Sources {
		mp, ok := sourceMapping(src)
		if !ok || mp.Value == "" || (mp.Numerator != "" && mp.Denominator != "") {
			continue
		}
		for _, k := range cat.KPIs {
			if k.Source != src.ID || k.Kind != catalogue.KindRatio {
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

// sourceMapping is the mapping of a tabular source's config, if it has one.
func sourceMapping(src catalogue.Source) (Mapping, bool) {
	cfg := &src.Config
	for i := 0; i+1 < len(cfg.Content); i += 2 {
		if cfg.Content[i].Value == "mapping" {
			var mp Mapping
			return mp, cfg.Content[i+1].Decode(&mp) == nil
		}
	}
	return Mapping{}, false
}
