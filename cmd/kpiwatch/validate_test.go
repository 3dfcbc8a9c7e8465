package main

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"
)

// validate runs `kpiwatch validate args...` and returns its exit code and
// what it wrote to stdout and stderr together.
func validate(t *testing.T, args ...string) (int, string) {
	t.Helper()
	var out bytes.Buffer
	code := run(context.Background(), append([]string{"validate", "--log.level=error"}, args...), &out, &out)
	return code, out.String()
}

func TestValidateReadsEverySource(t *testing.T) {
	good := "province,period,num,den\nHà Nội,2026-10,90,100\nHuế,2026-10,45,50\nTổng cộng,2026-10,135,150\n"
	cases := []struct {
		name      string
		catalogue func(string) string
		data      string // "" writes no data file
		args      []string
		code      int
		want      []string
	}{
		{"good source", nil, good, nil, 0, []string{
			"kpis.yaml: ok: 1 KPIs, 1 sources, 1 owners",
			"source provinces (csv): ok",
			"rows: 3 read, 2 accepted, 1 skipped, 0 rejected",
			"serves 2 series",
			`paid_by_bank{province="Ha Noi"}: 1 report(s), latest 2026-10-01 = 0.9 (90/100)`,
		}},
		{"data file missing", nil, "", nil, 1, []string{"source provinces (csv): FAILED: ", "data.csv", "1 of 1 source(s) failed"}},
		{"--offline skips the sources", nil, "", []string{"--offline"}, 0, []string{"kpis.yaml: ok", "sources not read (--offline)"}},
		{"misspelt column", func(c string) string { return strings.Replace(c, "denominator: den", "denominator: dem", 1) }, good, nil, 1, []string{
			`FAILED: source provinces: data.csv: row 1: no column ["dem"] (did you mean "den"?)`,
		}},
		{"every row rejected", nil, "province,period,num,den\nHà Nội,2026-10,90,0\nAtlantis,2026-10,1,2\n", nil, 1, []string{
			"FAILED: data.csv: no row accepted: all 2 rejected",
			"rows: 2 read, 0 accepted, 0 skipped, 2 rejected",
			`rejected: source provinces: data.csv: row 2, column "den": denominator 0 is not positive`,
			`rejected: source provinces: data.csv: row 3, column "province": unknown province "Atlantis"`,
		}},
		{"more rejected than max_rejected_ratio", func(c string) string {
			return strings.Replace(c, "    interval: 1h\n", "    interval: 1h\n    max_rejected_ratio: 0.2\n", 1)
		}, good + "Hà Nội,2026-11,abc,100\n", nil, 1, []string{
			"FAILED: data.csv: 1 of 3 rows rejected, more than max_rejected_ratio 0.2",
			`row 5, column "num": "abc" is not a number`,
		}},
		{"numbers settled by their column, as a refresh reads them", nil, "province,period,num,den\nHà Nội,2026-10,171.548,204.311\nHồ Chí Minh,2026-10,1.058.569,1.312.004\n", nil, 0, []string{
			`paid_by_bank{province="Ha Noi"}: 1 report(s), latest 2026-10-01 = 0.8396 (171548/204311)`,
			`paid_by_bank{province="Ho Chi Minh"}: 1 report(s), latest 2026-10-01 = 0.8068 (1058569/1312004)`,
		}},
		{"numbers that read two ways rejected", nil, "province,period,num,den\nHà Nội,2026-10,171.548,204.311\nHuế,2026-10,90,100\n", nil, 0, []string{
			"rows: 2 read, 1 accepted, 0 skipped, 1 rejected",
			`row 2, column "num": "171.548" could be 171548 (locale vi) or 171.548 (locale en), and no other value in the column shows which: set metadata.locale (vi or en)`,
		}},
		{"within max_rejected_ratio", nil, good + "Hà Nội,2026-11,abc,100\n", nil, 0, []string{"source provinces (csv): ok", "1 rejected"}},
		{"ratio mapped with value: a warning offline", func(c string) string {
			return strings.Replace(c, "        numerator: num\n        denominator: den\n", "        value: num\n", 1)
		}, good, []string{"--offline"}, 0, []string{
			`warning: kpis.yaml:15: sources[0].config.mapping.value: kpi "paid_by_bank" is a ratio: its rows are rejected unless numerator and denominator are mapped`,
		}},
		{"ratio mapped with value: every row rejected online", func(c string) string {
			return strings.Replace(c, "        numerator: num\n        denominator: den\n", "        value: num\n", 1)
		}, good, nil, 1, []string{"FAILED: data.csv: no row accepted", `kpi "paid_by_bank" is a ratio: map numerator and denominator so it rolls up`}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			cat := testCatalogue
			if c.catalogue != nil {
				cat = c.catalogue(cat)
				if cat == testCatalogue {
					t.Fatal("test broken: the edit changed nothing")
				}
			}
			path := write(t, dir, "kpis.yaml", cat)
			if c.data != "" {
				write(t, dir, "data.csv", c.data)
			}
			code, out := validate(t, append([]string{"--config.file=" + path}, c.args...)...)
			if code != c.code {
				t.Errorf("exit %d, want %d", code, c.code)
			}
			for _, w := range c.want {
				if !strings.Contains(out, w) {
					t.Errorf("output lacks %q:\n%s", w, out)
				}
			}
		})
	}
}

func TestValidateWarnsOfSuspiciousTargets(t *testing.T) {
	dir := t.TempDir()
	cat := strings.NewReplacer(
		"direction: higher_is_better", "direction: lower_is_better",
		"      - {by: 2026-12-31, value: 1}\n", "      - {by: 2026-12-31, value: 1}\n      - {by: 2026-12-31, value: 0.9, unit: {province: Hà Giang}}\n",
	).Replace(testCatalogue)
	path := write(t, dir, "kpis.yaml", cat)
	code, out := validate(t, "--offline", path)
	if code != 0 {
		t.Errorf("warnings alone exit %d, want 0:\n%s", code, out)
	}
	for _, w := range []string{
		"warning: kpis.yaml:29: kpis[0].targets[0].value: 1 is above the baseline 0, but paid_by_bank is lower_is_better",
		`warning: kpis.yaml:30: kpis[0].targets[1].unit.province: "Hà Giang" is a former province, merged into Tuyen Quang`,
	} {
		if !strings.Contains(out, w) {
			t.Errorf("output lacks %q:\n%s", w, out)
		}
	}
}

func TestValidateTakesOneCatalogue(t *testing.T) {
	dir := t.TempDir()
	a := write(t, dir, "a.yaml", testCatalogue)
	if code, out := validate(t, "--offline", a, "--config.file="+a); code != 0 {
		t.Errorf("the same file twice: exit %d\n%s", code, out)
	}
	if code, out := validate(t, "--offline", a, "--config.file="+write(t, dir, "b.yaml", testCatalogue)); code != 2 || !strings.Contains(out, "two catalogues given") {
		t.Errorf("two different files: exit %d\n%s", code, out)
	}
}

// A source that does not answer within its timeout fails validate, and the
// other sources are still read and reported.
func TestValidateSourceTimingOut(t *testing.T) {
	hang := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() }))
	defer hang.Close()
	dir := t.TempDir()
	write(t, dir, "data.csv", "province,period,num,den\nHà Nội,2026-10,90,100\n")
	cat := strings.Replace(testCatalogue, "sources:\n", "sources:\n  - id: portal\n    collector: json\n    interval: 1h\n    timeout: 1s\n    config:\n      url: "+hang.URL+"\n      mapping: {kpi: paid_by_bank, date: d, numerator: n, denominator: m, dimensions: {province: p}}\n", 1)
	code, out := validate(t, write(t, dir, "kpis.yaml", cat))
	if code != 1 {
		t.Errorf("exit %d, want 1", code)
	}
	for _, w := range []string{"source portal (json): FAILED: ", "timed out after 1s", "source provinces (csv): ok", "1 of 2 source(s) failed"} {
		if !strings.Contains(out, w) {
			t.Errorf("output lacks %q:\n%s", w, out)
		}
	}
}

// TestValidateCountsARejectedFileByItsRows: in a folder, a month's file
// rejected whole (its header lost a column) counts as the 95 rows it held,
// not as one: validate fails it against max_rejected_ratio, where the
// good month alone would pass.
func TestValidateCountsARejectedFileByItsRows(t *testing.T) {
	dir := t.TempDir()
	path := write(t, dir, "kpis.yaml", strings.Replace(testCatalogue, "path: data.csv", "path: bao-cao", 1))
	if err := os.Mkdir(filepath.Join(dir, "bao-cao"), 0o755); err != nil {
		t.Fatal(err)
	}
	write(t, dir, "bao-cao/2026-09.csv", "province,period,num,den\nHà Nội,2026-09,90,100\nHuế,2026-09,45,50\nĐà Nẵng,2026-09,10,20\nCần Thơ,2026-09,3,4\nHải Phòng,2026-09,5,6\n")
	var month strings.Builder
	month.WriteString("province,period,num\n") // the denominator's column is gone
	for i := range 95 {
		fmt.Fprintf(&month, "Hà Nội,2026-10,%d\n", i)
	}
	write(t, dir, "bao-cao/2026-10.csv", month.String())
	code, out := validate(t, "--config.file="+path)
	if code != 1 {
		t.Errorf("exit %d, want 1", code)
	}
	for _, w := range []string{
		"FAILED: bao-cao: 95 of 100 rows rejected, more than max_rejected_ratio 0.5",
		"rows: 100 read, 5 accepted, 0 skipped, 95 rejected",
		`rejected: file rejected: source provinces: bao-cao/2026-10.csv: row 1: no column ["den"]`,
	} {
		if !strings.Contains(out, w) {
			t.Errorf("output lacks %q:\n%s", w, out)
		}
	}
}

// severalSources reads one KPI from last year's workbook (a wide sheet)
// and this year's CSV, in that order.
const severalSources = `apiVersion: kpiwatch.io/v1
kind: Catalogue
metadata: {name: test}
owners:
  - {id: mps, name: Ministry of Public Security, block: government}
sources:
  - id: workbook_2025
    collector: excel
    interval: 1h
    config:
      path: 2025.xlsx
      wide:
        dimensions: {province: Tỉnh}
        kpis: [{kpi: accounts}]
  - id: csv_2026
    collector: csv
    interval: 1h
    config:
      path: 2026.csv
      mapping: {kpi: accounts, date: Kỳ, value: Số tài khoản, dimensions: {province: Tỉnh}}
kpis:
  - id: accounts
    name: Accounts
    kind: count
    direction: higher_is_better
    owner: mps
    dimensions: [province]
    cadence: {period: monthly, due_day: 15}
    sources: [workbook_2025, csv_2026]
    baseline: {date: 2025-01-01, value: 0}
    targets: [{by: 2026-12-31, value: 1000000, scope: whole}]
`

// validate says how a KPI's several sources combine, and names both
// places of each period two of them give; a source that names a KPI not
// read from it is a warning before any row is read.
func TestValidateSeveralSourcesForAKPI(t *testing.T) {
	dir := t.TempDir()
	f := excelize.NewFile()
	for i, row := range [][]any{{"Tỉnh", "T11/2025", "T12/2025"}, {"Hà Nội", 100, 200}} {
		if err := f.SetSheetRow("Sheet1", fmt.Sprintf("A%d", i+1), &row); err != nil {
			t.Fatal(err)
		}
	}
	if err := f.SaveAs(filepath.Join(dir, "2025.xlsx")); err != nil {
		t.Fatal(err)
	}
	write(t, dir, "2026.csv", "Tỉnh,Kỳ,Số tài khoản\nHà Nội,12/2025,210\nHà Nội,01/2026,300\n")
	cat := write(t, dir, "kpis.yaml", severalSources)
	code, out := validate(t, cat)
	for _, want := range []string{
		"kpi accounts: read from workbook_2025, then csv_2026; for a period two of them give, the later one's figure is served and the other's is a warning naming both places",
		`warning: accounts{province="Ha Noi"} 2025-12-01: served 210 from source csv_2026: 2026.csv: row 2 over 200 from source workbook_2025: 2025.xlsx: row 2, column "T12/2025"`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("validate does not say %q:\n%s", want, out)
		}
	}
	if code != 0 {
		t.Errorf("exit %d:\n%s", code, out)
	}

	write(t, dir, "kpis.yaml", strings.Replace(severalSources, "sources: [workbook_2025, csv_2026]", "source: csv_2026", 1))
	_, out = validate(t, "--offline", cat)
	if want := `warning: kpis.yaml:14: sources[0].config.wide.kpis[0].kpi: kpi "accounts" is read from csv_2026, not source workbook_2025: to read it from both, list the KPI's sources under sources:`; !strings.Contains(out, want) {
		t.Errorf("validate does not say %q:\n%s", want, out)
	}
	// Read, that source fails whole, naming the file, rather than each row
	// at its date column.
	code, out = validate(t, cat)
	if want := `source workbook_2025 (excel): FAILED: source workbook_2025: 2025.xlsx: kpi "accounts" is read from csv_2026, not source workbook_2025`; code != 1 || !strings.Contains(out, want) {
		t.Errorf("exit %d, want 1 and %q:\n%s", code, want, out)
	}
}
