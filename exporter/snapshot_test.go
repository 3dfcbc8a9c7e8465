package exporter

import (
	"context"
	"math"
	"testing"
	"time"

	pmodel "github.com/prometheus/common/model"

	"github.com/kpiwatch/kpiwatch/conventions"
	"github.com/kpiwatch/kpiwatch/model"
)

// TestSnapshotAgreesWithMetrics checks every judged series of the snapshot
// against the exposition served at the same time: status and reason, value,
// forecast and gap, and that nothing is served that the snapshot lacks.
func TestSnapshotAgreesWithMetrics(t *testing.T) {
	script.set(accounts(25000000), nil, nil)
	e := newTestExporter(t, map[string]string{"provinces.csv": provincesCSV})
	e.RefreshAll(context.Background())
	got := samples(t, mustScrape(t, e))
	snap := e.Snapshot()
	if !snap.Now.Equal(now) {
		t.Fatalf("snapshot judged at %s, want %s", snap.Now, now)
	}
	key := func(name string, k *model.KPI, s *model.Judged, extra ...string) string {
		ls := pmodel.LabelSet{conventions.LabelKPI: pmodel.LabelValue(k.KPI.ID)}
		for i, d := range k.KPI.Dimensions {
			ls[pmodel.LabelName(d)] = pmodel.LabelValue(s.Labels[i])
		}
		for i := 0; i+1 < len(extra); i += 2 {
			if extra[i+1] != "" {
				ls[pmodel.LabelName(extra[i])] = pmodel.LabelValue(extra[i+1])
			}
		}
		return name + ls.String()
	}
	statuses, served := 0, 0
	for name := range got {
		if len(name) > len(conventions.KPIStatus) && name[:len(conventions.KPIStatus)+1] == conventions.KPIStatus+"{" {
			served++
		}
	}
	atRisk := false
	for i := range snap.KPIs {
		k := &snap.KPIs[i]
		for j := range k.Series {
			s := &k.Series[j]
			statuses++
			st := key(conventions.KPIStatus, k, s, conventions.LabelStatus, s.Status(), conventions.LabelReason, s.Reason())
			if got[st] != 1 {
				t.Errorf("snapshot has %s, /metrics does not", st)
			}
			atRisk = atRisk || s.Status() == conventions.StatusAtRisk
			p, ok := s.Latest()
			if !ok {
				continue
			}
			if v := got[key(conventions.KPIValue, k, s)]; v != p.Value {
				t.Errorf("%s: value %g in the snapshot, %g served", k.KPI.ID, p.Value, v)
			}
			f, hasF := got[key(conventions.KPIForecast, k, s)]
			if hasF != !math.IsNaN(s.Forecast) || (hasF && f != s.Forecast) {
				t.Errorf("%s %v: forecast %g in the snapshot, served %g (%v)", k.KPI.ID, s.Labels, s.Forecast, f, hasF)
			}
		}
	}
	if statuses != served || statuses < 34 {
		t.Errorf("snapshot judges %d series, /metrics serves %d statuses", statuses, served)
	}
	if !atRisk {
		t.Error("the test data should put a series at risk, so that the reason is checked")
	}
	if len(snap.Sources) != 2 || !snap.Sources[0].Success || snap.Sources[0].Series != 3 {
		t.Errorf("source health: %+v", snap.Sources)
	}
}

// TestSnapshotAsOf judges the data as it stood before the October reports:
// Bac Ninh has its June figure (the two former provinces rolled up), Hue
// and Ho Chi Minh City had not reported.
func TestSnapshotAsOf(t *testing.T) {
	script.set(accounts(25000000), nil, nil)
	e := newTestExporter(t, map[string]string{"provinces.csv": provincesCSV})
	e.RefreshAll(context.Background())
	then := e.Snapshot().AsOf(time.Date(2025, 8, 16, 0, 0, 0, 0, time.UTC))
	k := &then.KPIs[0]
	byProvince := map[string]*model.Judged{}
	for i := range k.Series {
		byProvince[k.Label(&k.Series[i], "province")] = &k.Series[i]
	}
	if len(byProvince) != 34 {
		t.Fatalf("%d provinces judged, want 34", len(byProvince))
	}
	if p, ok := byProvince["Bac Ninh"].Latest(); !ok || p.Value != 0.5 || len(byProvince["Bac Ninh"].History) != 1 {
		t.Errorf("Bac Ninh as of August: %+v", byProvince["Bac Ninh"].History)
	}
	for _, p := range []string{"Hue", "Ho Chi Minh"} {
		if st := byProvince[p].Status(); st != conventions.StatusNoData {
			t.Errorf("%s as of August: %s, want no_data", p, st)
		}
	}
	if len(then.KPIs[1].Series) != 1 || then.KPIs[1].Series[0].History != nil {
		t.Errorf("the national KPI reported for October only: as of August it has no data, got %+v", then.KPIs[1].Series)
	}
}
