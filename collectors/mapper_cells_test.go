package collectors_test

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// communesCatalogue has one count KPI by province and commune, read from
// communes.csv.
const communesCatalogue = `apiVersion: kpiwatch.io/v1
kind: Catalogue
metadata: {name: cells}
owners: [{id: mps, name: Ministry of Public Security, block: government}]
sources:
  - id: communes
    collector: csv
    config:
      path: communes.csv
      mapping:
        kpi_column: kpi
        date: period
        value: value
        dimensions: {province: province, commune: commune}
kpis:
  - id: accounts
    name: Accounts
    kind: count
    direction: higher_is_better
    owner: mps
    dimensions: [province, commune]
    cadence: {period: monthly, due_day: 15}
    source: communes
    baseline: {date: 2025-01-01, value: 0}
    targets: [{by: 2026-12-31, value: 100}]
`

// The mapper resolves each distinct cell once per file: a repeated cell,
// good or bad, must map the same on every row, and a bad one must still be
// reported at its own row.
func TestRepeatedCellsMapAlikeAndReportTheirOwnRow(t *testing.T) {
	const data = `province,commune,kpi,period,value
Hà Nội,Phường Ba Đình,accounts,2025-10,5
Atlantis,Xã A,accounts,2025-10,1
Hà Nội,Phường Hoàn Kiếm,accounts,2025-10,6
Atlantis,Xã A,accounts,2025-11,1
Tổng cộng,,accounts,2025-10,11
Tổng cộng,,accounts,2025-11,11
Hà Nội,Phường Ba Đình,nope,2025-10,1
Hà Nội,Phường Ba Đình,nope,2025-11,1
Hà Nội,Phường Ba Đình,accounts,someday,1
Hà Nội,Phường Ba Đình,accounts,someday,1
Thành phố Hà Nội,Phường Ba Đình,accounts,11/2025,7
`
	c, fsys := load(t, communesCatalogue, map[string]string{"communes.csv": data})
	b, err := collect(t, c, fsys, "communes")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, o := range b.Observations {
		got = append(got, fmt.Sprintf("row %d: %q %s %g", o.Loc.Row, o.Labels, o.Period.Format("2006-01"), o.Value))
		if o.Unit == "" || o.Unit != b.Observations[0].Unit {
			t.Errorf("row %d: unit %q, want every row's the same, as all name Ha Noi", o.Loc.Row, o.Unit)
		}
	}
	want := []string{
		`row 2: ["Ha Noi" "Phường Ba Đình"] 2025-10 5`,
		`row 4: ["Ha Noi" "Phường Hoàn Kiếm"] 2025-10 6`,
		`row 12: ["Ha Noi" "Phường Ba Đình"] 2025-11 7`,
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("observations:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	wantRejected := []string{
		`row 3, column "province": unknown province "Atlantis"`,
		`row 5, column "province": unknown province "Atlantis"`,
		`row 8, column "kpi": kpi "nope" is not in the catalogue`,
		`row 9, column "kpi": kpi "nope" is not in the catalogue`,
		`row 10, column "period": "someday" is not a date`,
		`row 11, column "period": "someday" is not a date`,
	}
	if len(b.Rejected) != len(wantRejected) {
		t.Fatalf("rejected %q, want %d rows", b.Rejected, len(wantRejected))
	}
	for i, w := range wantRejected {
		if !strings.Contains(b.Rejected[i].Error(), w) {
			t.Errorf("rejected[%d] = %q, want it to say %q", i, b.Rejected[i], w)
		}
	}
	if b.Observations[0].Period != time.Date(2025, 10, 1, 0, 0, 0, 0, time.UTC) {
		t.Errorf("period %v", b.Observations[0].Period)
	}
}
