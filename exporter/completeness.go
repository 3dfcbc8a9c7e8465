package exporter

import (
	"time"

	"github.com/kpiwatch/kpiwatch/catalogue"
	"github.com/kpiwatch/kpiwatch/conventions"
	"github.com/kpiwatch/kpiwatch/kpi"
	"github.com/kpiwatch/kpiwatch/model"
)

// renderCompleteness writes the completeness families of m.
func renderCompleteness(w *writer, m *model.Model) {
	reports := m.Reports
	labels := func(r model.Report) []string {
		return []string{conventions.LabelKPI, r.KPI, r.Dimension, r.Unit, conventions.LabelOwner, r.Owner, conventions.LabelBlock, r.Block}
	}
	figures := []struct {
		name  string
		value func(r model.Report) (float64, bool)
	}{
		{conventions.ReportExpected, func(model.Report) (float64, bool) { return 1, true }},
		{conventions.ReportReceived, func(r model.Report) (float64, bool) { return b2f(r.Received), true }},
		{conventions.ReportOnTime, func(r model.Report) (float64, bool) { return b2f(r.OnTime), r.OnTimeKnown }},
	}
	for _, f := range figures {
		w.family(f.name, conventions.Help[f.name])
		for _, r := range reports {
			if x, ok := f.value(r); ok {
				w.sample(f.name, x, labels(r)...)
			}
		}
	}
	for _, f := range []struct {
		name string
		at   func(k *catalogue.KPI, p time.Time) time.Time
	}{
		{conventions.ReportDue, func(k *catalogue.KPI, p time.Time) time.Time { return kpi.ReportDue(k.Cadence, p) }},
		{conventions.ReportDuePeriod, func(_ *catalogue.KPI, p time.Time) time.Time { return p }},
	} {
		w.family(f.name, conventions.Help[f.name])
		for i := range m.Catalogue.KPIs {
			k := &m.Catalogue.KPIs[i]
			if _, _, ok := model.Reporters(m.Catalogue, k); ok {
				w.sample(f.name, float64(f.at(k, model.DuePeriod(k.Cadence, m.Now)).Unix()), conventions.LabelKPI, k.ID)
			}
		}
	}
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
