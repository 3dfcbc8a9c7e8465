package exporter

import (
	"context"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/kpiwatch/kpiwatch/catalogue"
	"github.com/kpiwatch/kpiwatch/collectors"
	"github.com/kpiwatch/kpiwatch/units"
)

// completenessCatalogue has a province KPI whose report says when each
// province sent it, a ministry KPI whose report does not, and a national
// KPI of the Fatherland Front.
const completenessCatalogue = `apiVersion: kpiwatch.io/v1
kind: Catalogue
metadata: {name: test}
owners:
  - {id: government_office, name: Government Office, name_vi: Văn phòng Chính phủ, block: government}
  - {id: moh, name: Ministry of Health, name_vi: Bộ Y tế, block: government, aliases: [BYT]}
  - {id: party_office, name: Party Central Office, name_vi: Văn phòng Trung ương Đảng, block: party, aliases: [VPTW]}
  - {id: vff, name: Viet Nam Fatherland Front, name_vi: Mặt trận Tổ quốc Việt Nam, block: fatherland_front}
sources:
  - id: provinces
    collector: csv
    interval: 1h
    config:
      path: provinces.csv
      mapping: {kpi: online_rate, date: period, reported_at: sent, numerator: num, denominator: den, dimensions: {province: province}}
  - id: ministries
    collector: csv
    interval: 1h
    config:
      path: ministries.csv
      mapping: {kpi_column: kpi, date: period, value: value, dimensions: {ministry: ministry}}
kpis:
  - id: online_rate
    name: Online rate
    unit: ratio
    kind: ratio
    direction: higher_is_better
    owner: government_office
    dimensions: [province]
    cadence: {period: monthly, due_day: 15, grace: 5d}
    source: provinces
    baseline: {date: 2025-01-01, value: 0}
    targets: [{by: 2026-12-31, value: 1}]
  - id: tasks_overdue
    name: Tasks overdue
    unit: tasks
    kind: count
    direction: lower_is_better
    owner: government_office
    dimensions: [ministry]
    cadence: {period: monthly, due_day: 15, grace: 5d}
    source: ministries
    baseline: {date: 2025-01-01, value: 5}
    targets: [{by: 2026-12-31, value: 0}]
  - id: front_reports
    name: Front reports
    unit: reports
    kind: count
    direction: higher_is_better
    owner: vff
    cadence: {period: monthly, due_day: 15, grace: 5d}
    source: ministries
    baseline: {date: 2025-01-01, value: 0}
    targets: [{by: 2026-12-31, value: 10}]
`

// Ha Noi sent October on the 15th (on time), Hue on the 17th (late), Da
// Nang sent September only; Bac Ninh's October came under the names of the
// two former provinces, and is rejected (which figure is the province's
// cannot be told since the merger), so not received. The health ministry reported October,
// the party office September only; the Front reported October.
const completenessProvinces = `province,period,sent,num,den
Hà Nội,2025-09,2025-10-14,1,2
Hà Nội,2025-10,2025-11-15,1,2
Huế,2025-10,2025-11-17,1,2
Đà Nẵng,2025-09,2025-10-10,1,2
Bắc Ninh,2025-10,2025-11-03,1,2
Bắc Giang,2025-10,2025-11-16,1,2
`

const completenessMinistries = `kpi,ministry,period,value
tasks_overdue,BYT,2025-10,3
tasks_overdue,VPTW,2025-09,1
front_reports,,2025-10,4
`

func completenessExporter(t *testing.T, at time.Time) *Exporter {
	t.Helper()
	fsys := fstest.MapFS{
		"provinces.csv":  {Data: []byte(completenessProvinces)},
		"ministries.csv": {Data: []byte(completenessMinistries)},
	}
	cat, err := catalogue.Parse("kpis.yaml", []byte(completenessCatalogue), fsys, collectors.Check)
	if err != nil {
		t.Fatal(err)
	}
	e, err := New(cat, fsys, Options{Now: func() time.Time { return at }})
	if err != nil {
		t.Fatal(err)
	}
	e.RefreshAll(context.Background())
	return e
}

func TestCompletenessAfterTheDueDay(t *testing.T) {
	e := completenessExporter(t, time.Date(2025, 11, 22, 0, 0, 0, 0, time.UTC))
	got := samples(t, mustScrape(t, e))
	province := func(name, p string) string {
		return name + `{block="government", kpi="online_rate", owner="government_office", province="` + p + `"}`
	}
	ministry := func(name, m, block string) string {
		return name + `{block="` + block + `", kpi="tasks_overdue", ministry="` + m + `", owner="government_office"}`
	}
	want := map[string]float64{
		province("kpi_report_expected", "Ha Noi"):                                         1,
		province("kpi_report_received", "Ha Noi"):                                         1,
		province("kpi_report_on_time", "Ha Noi"):                                          1, // sent on the due day itself
		province("kpi_report_received", "Hue"):                                            1,
		province("kpi_report_on_time", "Hue"):                                             0,
		province("kpi_report_received", "Da Nang"):                                        0, // September's report does not count for October
		province("kpi_report_on_time", "Da Nang"):                                         0,
		province("kpi_report_received", "Bac Ninh"):                                       0,
		province("kpi_report_on_time", "Bac Ninh"):                                        0,
		province("kpi_report_expected", "Ca Mau"):                                         1,
		province("kpi_report_received", "Ca Mau"):                                         0,
		ministry("kpi_report_received", "moh", "government"):                              1,
		ministry("kpi_report_received", "party_office", "party"):                          0,
		ministry("kpi_report_expected", "vff", "fatherland_front"):                        1,
		ministry("kpi_report_received", "vff", "fatherland_front"):                        0,
		`kpi_report_received{block="fatherland_front", kpi="front_reports", owner="vff"}`: 1,
		`kpi_report_due_timestamp_seconds{kpi="online_rate"}`:                             float64(time.Date(2025, 11, 16, 0, 0, 0, 0, time.UTC).Unix()),
		`kpi_report_due_period_timestamp_seconds{kpi="online_rate"}`:                      float64(time.Date(2025, 10, 1, 0, 0, 0, 0, time.UTC).Unix()),
	}
	for k, v := range want {
		if g, ok := got[k]; !ok || g != v {
			t.Errorf("%s = %v (served: %v), want %v", k, g, ok, v)
		}
	}
	// No on-time figure where the source does not say when reports were
	// sent; the KPI's owner compiles the ministries' reports and owes none.
	for k := range got {
		for _, absent := range []string{`kpi_report_on_time{block="government", kpi="tasks_overdue"`, `kpi_report_on_time{block="fatherland_front", kpi="front_reports"`, `ministry="government_office"`} {
			if strings.Contains(k, absent) {
				t.Errorf("%s is served", k)
			}
		}
	}
	var expected, received, onTime int
	for _, r := range e.Snapshot().Reports {
		if r.KPI != "online_rate" {
			continue
		}
		expected++
		if r.Received {
			received++
		}
		if r.OnTime {
			onTime++
		}
	}
	if expected != len(units.Default().Level("province").Current()) || received != 2 || onTime != 1 {
		t.Errorf("online_rate: %d expected, %d received, %d on time; want %d, 2, 1", expected, received, onTime, len(units.Default().Level("province").Current()))
	}
}

// Before October's due day, September is the period tracked.
func TestCompletenessBeforeTheDueDay(t *testing.T) {
	e := completenessExporter(t, time.Date(2025, 11, 15, 12, 0, 0, 0, time.UTC))
	got := samples(t, mustScrape(t, e))
	for k, v := range map[string]float64{
		`kpi_report_on_time{block="government", kpi="online_rate", owner="government_office", province="Ha Noi"}`:     1,
		`kpi_report_on_time{block="government", kpi="online_rate", owner="government_office", province="Da Nang"}`:    1,
		`kpi_report_received{block="government", kpi="online_rate", owner="government_office", province="Hue"}`:       0,
		`kpi_report_received{block="party", kpi="tasks_overdue", ministry="party_office", owner="government_office"}`: 1,
		`kpi_report_due_period_timestamp_seconds{kpi="online_rate"}`:                                                  float64(time.Date(2025, 9, 1, 0, 0, 0, 0, time.UTC).Unix()),
	} {
		if g, ok := got[k]; !ok || g != v {
			t.Errorf("%s = %v (served: %v), want %v", k, g, ok, v)
		}
	}
}

// A report whose date of sending cannot be read is a rejected row naming
// the file, row and column; the other rows are kept.
func TestBadReportedAtIsRejected(t *testing.T) {
	fsys := fstest.MapFS{
		"provinces.csv":  {Data: []byte(completenessProvinces + "Cà Mau,2025-10,mid-November,1,2\n")},
		"ministries.csv": {Data: []byte(completenessMinistries)},
	}
	cat, err := catalogue.Parse("kpis.yaml", []byte(completenessCatalogue), fsys, collectors.Check)
	if err != nil {
		t.Fatal(err)
	}
	c, errs := collectors.New(collectors.Env{Source: cat.Sources[0], Dir: fsys})
	if errs != nil {
		t.Fatal(errs)
	}
	b, err := c.Collect(context.Background(), collectors.NewMapper(cat, cat.Sources[0].ID))
	if err != nil {
		t.Fatal(err)
	}
	if len(b.Rejected) != 1 || !strings.Contains(b.Rejected[0].Error(), "provinces.csv") ||
		!strings.Contains(b.Rejected[0].Error(), "row 8") || !strings.Contains(b.Rejected[0].Error(), "sent") {
		t.Errorf("rejected %v, want one error naming provinces.csv, row 8, column sent", b.Rejected)
	}
	if len(b.Observations) != 6 || b.Observations[1].ReportedAt != time.Date(2025, 11, 15, 0, 0, 0, 0, time.UTC) {
		t.Errorf("%d observations kept (want 6), the second sent %s (want 2025-11-15)", len(b.Observations), b.Observations[1].ReportedAt)
	}
}
