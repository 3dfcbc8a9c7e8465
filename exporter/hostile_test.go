package exporter

import (
	"archive/zip"
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	goruntime "runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/go-kit/log"

	"github.com/kpiwatch/kpiwatch/catalogue"
	"github.com/kpiwatch/kpiwatch/collectors"
	"github.com/kpiwatch/kpiwatch/internal/realserver"
)

// The hostile-input suite: what an attacker or an unlucky operator can put
// in a source, tried against a running exporter. Every case starts from a
// good refresh, makes the source hostile and refreshes again; then the
// scrape must stay valid (promtool check metrics), the last good data must
// stay (or the good rows of the new data be served), the log must name the
// place (file, row, column or URL), and goroutines and heap must be back
// within bounds, so nothing kept running after its timeout. Limits are
// small (options), so "200 MB" costs 2 MB here.

// hostileLimits scale the defaults down to what a test can afford.
var hostileLimits = collectors.Limits{MaxBytes: 1 << 20, MaxLineBytes: 64 << 10, MaxRows: 10000, MaxCells: 64, MaxInflated: 1 << 20, MaxXMLDepth: 16}

const hostileCatalogue = `apiVersion: kpiwatch.io/v1
kind: Catalogue
metadata: {name: hostile}
owners:
  - {id: mps, name: Ministry of Public Security, block: government}
sources:
  - id: s
    interval: 1h
    timeout: 1m
%s
kpis:
  - id: accounts
    name: Accounts
    unit: accounts
    kind: count
    direction: higher_is_better
    owner: mps
    dimensions: [province, commune]
    cadence: {period: monthly, due_day: 15, grace: 5d}
    source: s
    baseline: {date: 2022-01-01, value: 0}
    targets: [{by: 2026-12-31, value: 1000}]
`

// goodRows are 34 rows of the CSV shape every CSV case uses.
func goodRows() []string {
	rows := []string{"province,commune,period,value"}
	for i := range 34 {
		rows = append(rows, fmt.Sprintf("Hà Nội,Xã %02d,2025-10,%d", i, 100+i))
	}
	return rows
}

func csvText(rows []string) string { return strings.Join(rows, "\n") + "\n" }

const csvSource = `    collector: csv
    config:
      path: %s
      mapping: {kpi: accounts, date: period, value: value, dimensions: {province: province, commune: commune}}`

const excelSource = `    collector: excel
    config:
      path: r.xlsx
      mapping: {kpi: accounts, date: period, value: value, dimensions: {province: province, commune: commune}}`

const jsonSource = `    collector: json
    config:
      url: %s
      mapping: {kpi: accounts, date: period, value: value, dimensions: {province: province, commune: commune}}`

// workbook writes a minimal .xlsx by hand, so a case can break exactly the
// part it means to: sheet is the worksheet's XML, shared the shared
// strings' (none when empty).
func workbook(t *testing.T, path, sheet, shared string) {
	t.Helper()
	var buf bytes.Buffer
	z := zip.NewWriter(&buf)
	parts := map[string]string{
		"xl/workbook.xml":            `<workbook xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="S" sheetId="1" r:id="rId1"/></sheets></workbook>`,
		"xl/_rels/workbook.xml.rels": `<Relationships><Relationship Id="rId1" Target="worksheets/sheet1.xml"/></Relationships>`,
		"xl/worksheets/sheet1.xml":   sheet,
	}
	if shared != "" {
		parts["xl/sharedStrings.xml"] = shared
	}
	for name, data := range parts {
		w, err := z.Create(name)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write([]byte(data)); err != nil {
			t.Fatal(err)
		}
	}
	if err := z.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

// sheetXML is a worksheet of rows of inline strings.
func sheetXML(rows [][]string) string {
	var b strings.Builder
	b.WriteString(`<worksheet><sheetData>`)
	for r, row := range rows {
		fmt.Fprintf(&b, `<row r="%d">`, r+1)
		for c, v := range row {
			fmt.Fprintf(&b, `<c r="%c%d" t="inlineStr"><is><t>%s</t></is></c>`, 'A'+c, r+1, v)
		}
		b.WriteString(`</row>`)
	}
	b.WriteString(`</sheetData></worksheet>`)
	return b.String()
}

func goodSheet() [][]string {
	var rows [][]string
	for _, r := range goodRows() {
		rows = append(rows, strings.Split(r, ","))
	}
	return rows
}

// syncLog is a log the refreshes write and the test reads.
type syncLog struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *syncLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *syncLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

type hostileCase struct {
	name string
	// source is the source's collector and config (after its timeout);
	// %s in it is replaced by the case's path or URL.
	source string
	// good sets up the good source; hostile makes it hostile. Both get the
	// case's directory.
	good, hostile func(t *testing.T, dir string)
	// success is kpi_collector_success after the hostile refresh; series
	// how many KPI series are served then (34: the last good data).
	success, series float64
	// place is what the log must say: the file, row and column, or URL.
	place []string
	// secret must not appear anywhere in the log or the scrape.
	secret string
	// timeout, when set, is the source's for the hostile refresh only: the
	// good one has a timeout only a hang reaches.
	timeout time.Duration
}

// writeFile replaces name in dir (a link or a FIFO a case left there too).
func writeFile(t *testing.T, dir, name, data string) {
	t.Helper()
	_ = os.Remove(filepath.Join(dir, name))
	if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
}

func goodCSV(t *testing.T, dir string) { writeFile(t, dir, "r.csv", csvText(goodRows())) }

func goodXLSX(t *testing.T, dir string) {
	workbook(t, filepath.Join(dir, "r.xlsx"), sheetXML(goodSheet()), "")
}

func csvRows(edit func(rows []string) []string) func(t *testing.T, dir string) {
	return func(t *testing.T, dir string) { writeFile(t, dir, "r.csv", csvText(edit(goodRows()))) }
}

func TestHostileInputs(t *testing.T) {
	promtool := realserver.Binary(t, "promtool", "prometheus")
	cases := []hostileCase{
		{
			name: "invalid UTF-8 in a commune name", source: fmt.Sprintf(csvSource, "r.csv"), good: goodCSV,
			hostile: csvRows(func(r []string) []string { r[5] = "Hà Nội,Xã \xff\xfe,2025-10,7"; return r }),
			success: 1, series: 33, place: []string{"r.csv: row 6", `column \"commune\"`, "not valid UTF-8"},
		},
		{
			name: "a path to /dev/zero", source: fmt.Sprintf(csvSource, "r.csv"), good: goodCSV,
			hostile: func(t *testing.T, dir string) { replaceWithLink(t, dir, "r.csv", "/dev/zero") },
			success: 0, series: 34, place: []string{"r.csv is not a regular file"},
		},
		{
			name: "a FIFO with no writer", source: fmt.Sprintf(csvSource, "r.csv"), good: goodCSV,
			hostile: func(t *testing.T, dir string) {
				_ = os.Remove(filepath.Join(dir, "r.csv"))
				if err := syscall.Mkfifo(filepath.Join(dir, "r.csv"), 0o644); err != nil {
					t.Fatal(err)
				}
			},
			success: 0, series: 34, place: []string{"r.csv is not a regular file"},
		},
		{
			name: "a CSV larger than max bytes", source: fmt.Sprintf(csvSource, "r.csv"), good: goodCSV,
			hostile: csvRows(func(r []string) []string {
				for i := 0; len(r) < 6000; i++ {
					r = append(r, fmt.Sprintf("Hà Nội,Xã %d %s,2025-10,1", i, strings.Repeat("x", 200)))
				}
				return r
			}),
			success: 0, series: 34, place: []string{"r.csv: more than 1048576 bytes"},
		},
		{
			name: "a single-line CSV of 2 MB", source: fmt.Sprintf(csvSource, "r.csv"), good: goodCSV,
			hostile: func(t *testing.T, dir string) { writeFile(t, dir, "r.csv", strings.Repeat("x", 2<<20)) },
			success: 0, series: 34, place: []string{"r.csv: line 1 is longer than 65536 bytes"},
		},
		{
			name: "a header-only CSV", source: fmt.Sprintf(csvSource, "r.csv"), good: goodCSV,
			hostile: csvRows(func(r []string) []string { return r[:1] }),
			success: 0, series: 34, place: []string{"r.csv: no row accepted", "reason=no_rows"},
		},
		{
			name: "a stray quote on row 4 of 35", source: fmt.Sprintf(csvSource, "r.csv"), good: goodCSV,
			hostile: csvRows(func(r []string) []string { r[3] = `Hà Nội,"Xã 02,2025-10,102`; return r }),
			success: 0, series: 34, place: []string{"r.csv: row 4", "runs on to line 35"},
		},
		{
			name: "a row longer than the header", source: fmt.Sprintf(csvSource, "r.csv"), good: goodCSV,
			hostile: csvRows(func(r []string) []string { r[9] += ",surprise"; return r }),
			success: 1, series: 33, place: []string{"r.csv: row 10", "long row: 5 columns, the header has 4"},
		},
		{
			name: "most rows rejected", source: fmt.Sprintf(csvSource, "r.csv"), good: goodCSV,
			hostile: csvRows(func(r []string) []string {
				for i := 1; i < 30; i++ {
					r[i] = strings.Replace(r[i], "Hà Nội", "Atlantis", 1)
				}
				return r
			}),
			success: 0, series: 34, place: []string{"29 of 34 rows rejected, more than max_rejected_ratio 0.5", "reason=rejected_rows", `r.csv: row 2, column \"province\"`},
		},
		{
			name: "an xlsx that inflates beyond the limit", source: excelSource, good: goodXLSX,
			hostile: func(t *testing.T, dir string) {
				sheet := strings.Replace(sheetXML(goodSheet()), "<sheetData>", strings.Repeat("<!-- padding -->", 100000)+"<sheetData>", 1)
				workbook(t, filepath.Join(dir, "r.xlsx"), sheet, "")
			},
			success: 0, series: 34, place: []string{"r.xlsx", "xl/worksheets/sheet1.xml (unzipped): more than 1048576 bytes"},
		},
		{
			name: "a shared-strings bomb", source: excelSource, good: goodXLSX,
			hostile: func(t *testing.T, dir string) {
				workbook(t, filepath.Join(dir, "r.xlsx"), sheetXML(goodSheet()), "<sst>"+strings.Repeat("<si><t>"+strings.Repeat("Hà Nội ", 500)+"</t></si>", 400)+"</sst>")
			},
			success: 0, series: 34, place: []string{"r.xlsx", "shared strings: xl/sharedStrings.xml (unzipped): more than 1048576 bytes"},
		},
		{
			name: "an xlsx with mismatched tags", source: excelSource, good: goodXLSX,
			hostile: func(t *testing.T, dir string) {
				sheet := strings.Replace(sheetXML(goodSheet()), `<row r="5">`, `<row r="5"><c r="A5"></row>`, 1)
				workbook(t, filepath.Join(dir, "r.xlsx"), sheet, "")
			},
			success: 0, series: 34, place: []string{"r.xlsx [S]: row 5", "</row> does not close <c>"},
		},
		{
			name: "an xlsx with deeply nested elements", source: excelSource, good: goodXLSX,
			hostile: func(t *testing.T, dir string) {
				sheet := strings.Replace(sheetXML(goodSheet()), `<row r="3">`, `<row r="3">`+strings.Repeat("<x>", 100)+strings.Repeat("</x>", 100), 1)
				workbook(t, filepath.Join(dir, "r.xlsx"), sheet, "")
			},
			success: 0, series: 34, place: []string{"r.xlsx [S]: row 3", "nested deeper than 16"},
		},
		{
			name: "an xlsx cell in error names its own row", source: excelSource, good: goodXLSX,
			hostile: func(t *testing.T, dir string) {
				sheet := strings.Replace(sheetXML(goodSheet()), `<c r="A7" t="inlineStr">`, `<c r="7A" t="inlineStr">`, 1)
				workbook(t, filepath.Join(dir, "r.xlsx"), sheet, "")
			},
			success: 0, series: 34, place: []string{"r.xlsx [S]: row 7: bad cell reference"},
		},
		{
			name: "an xlsx row number a billion rows down", source: excelSource, good: goodXLSX,
			hostile: func(t *testing.T, dir string) {
				sheet := strings.Replace(sheetXML(goodSheet()), `<row r="9">`, `<row r="999999999">`, 1)
				workbook(t, filepath.Join(dir, "r.xlsx"), sheet, "")
			},
			success: 0, series: 34, place: []string{"r.xlsx [S]: row 9", "beyond Excel's last row"},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { runHostile(t, promtool, c) })
	}
	// The JSON cases need a server whose answers the test switches.
	var mu sync.Mutex
	answer := func(w http.ResponseWriter, r *http.Request) { serveRows(w, 34) }
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		a := answer
		mu.Unlock()
		a(w, r)
	}))
	defer srv.Close()
	set := func(a http.HandlerFunc) func(*testing.T, string) {
		return func(*testing.T, string) {
			mu.Lock()
			answer = a
			mu.Unlock()
		}
	}
	good := set(func(w http.ResponseWriter, _ *http.Request) { serveRows(w, 34) })
	url := srv.URL + "/stats?api_key=SECRETKEY"
	for _, c := range []hostileCase{
		{
			name: "an endless response", good: good,
			hostile: set(func(w http.ResponseWriter, r *http.Request) {
				_, _ = w.Write([]byte(`[`))
				for r.Context().Err() == nil {
					if _, err := w.Write([]byte(`{"province":"Hà Nội","commune":"x","period":"2025-10","value":1},`)); err != nil {
						return
					}
				}
			}),
			success: 0, series: 34, place: []string{"GET " + srv.URL + "/stats?api_key=xxxxx: response is larger than max_bytes 1048576"}, secret: "SECRETKEY",
		},
		{
			name: "a response that never comes", good: good,
			hostile: set(func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() }),
			success: 0, series: 34, place: []string{"timed out after 400ms reading " + srv.URL + "/stats?api_key=xxxxx"}, secret: "SECRETKEY", timeout: 400 * time.Millisecond,
		},
		{
			name: "an API answering 500", good: good,
			hostile: set(func(w http.ResponseWriter, _ *http.Request) { http.Error(w, "down", 500) }),
			success: 0, series: 34, place: []string{"GET " + srv.URL + "/stats?api_key=xxxxx", "500"}, secret: "SECRETKEY",
		},
	} {
		c.source = fmt.Sprintf(jsonSource, url)
		t.Run(c.name, func(t *testing.T) { runHostile(t, promtool, c) })
	}
}

func serveRows(w http.ResponseWriter, n int) {
	var rows []string
	for i := range n {
		rows = append(rows, fmt.Sprintf(`{"province":"Hà Nội","commune":"Xã %02d","period":"2025-10","value":%d}`, i, 100+i))
	}
	_, _ = w.Write([]byte("[" + strings.Join(rows, ",") + "]"))
}

// replaceWithLink makes name in dir a symbolic link to target.
func replaceWithLink(t *testing.T, dir, name, target string) {
	t.Helper()
	_ = os.Remove(filepath.Join(dir, name))
	if err := os.Symlink(target, filepath.Join(dir, name)); err != nil {
		t.Fatal(err)
	}
}

// resources are the bounds a case must come back within.
type resources struct {
	goroutines int
	heap       uint64
}

func measure() resources {
	goruntime.GC()
	var ms goruntime.MemStats
	goruntime.ReadMemStats(&ms)
	return resources{goruntime.NumGoroutine(), ms.HeapInuse}
}

// settled waits until goroutines and heap are back within bounds of base:
// what a timed-out read left running would hold them above. It polls (the
// abandoned work ends on its own), up to a generous deadline that is a
// bound, not a timing.
func settled(t *testing.T, base resources) {
	t.Helper()
	var now resources
	for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if now = measure(); now.goroutines <= base.goroutines+2 && now.heap <= base.heap+16<<20 {
			return
		}
	}
	buf := make([]byte, 1<<20)
	t.Errorf("not back within bounds: %d goroutines (%d before), heap in use %d MB (%d before)\n%s",
		now.goroutines, base.goroutines, now.heap>>20, base.heap>>20, buf[:goruntime.Stack(buf, true)])
}

func runHostile(t *testing.T, promtool string, c hostileCase) {
	dir := t.TempDir()
	c.good(t, dir)
	cat, err := catalogue.Parse("kpis.yaml", []byte(fmt.Sprintf(hostileCatalogue, c.source)), os.DirFS(dir), collectors.Check)
	if err != nil {
		t.Fatal(err)
	}
	var logs syncLog
	e, err := New(cat, os.DirFS(dir), Options{Logger: log.NewLogfmtLogger(&logs), Now: func() time.Time { return now }, Limits: hostileLimits})
	if err != nil {
		t.Fatal(err)
	}
	e.RefreshAll(context.Background())
	before := hostileScrape(t, promtool, e)
	if before.success != 1 || before.series != 34 {
		t.Fatalf("the good source: success %v, %v series\n%s", before.success, before.series, logs.String())
	}
	base := measure()
	c.hostile(t, dir)
	if c.timeout != 0 {
		e.rt.sources[0].cfg.Timeout = catalogue.Duration(c.timeout)
	}
	e.RefreshAll(context.Background())
	after := hostileScrape(t, promtool, e)
	if after.success != c.success || after.series != c.series {
		t.Errorf("after the hostile refresh: success %v, %v series; want %v, %v\n%s", after.success, after.series, c.success, c.series, logs.String())
	}
	for _, p := range c.place {
		if !strings.Contains(logs.String(), p) {
			t.Errorf("the log does not say %q:\n%s", p, logs.String())
		}
	}
	if c.secret != "" && (strings.Contains(logs.String(), c.secret) || strings.Contains(after.text, c.secret)) {
		t.Errorf("%q is shown:\n%s", c.secret, logs.String())
	}
	settled(t, base)
	// The source back to good serves again: nothing was left broken.
	c.good(t, dir)
	e.RefreshAll(context.Background())
	if again := hostileScrape(t, promtool, e); again.success != 1 || again.series != 34 {
		t.Errorf("with the good source back: success %v, %v series\n%s", again.success, again.series, logs.String())
	}
}

type scraped struct {
	text            string
	success, series float64
}

// hostileScrape scrapes e, checks the exposition with promtool and counts
// the KPI value series.
func hostileScrape(t *testing.T, promtool string, e *Exporter) scraped {
	t.Helper()
	text := mustScrape(t, e)
	cmd := exec.Command(promtool, "check", "metrics")
	cmd.Stdin = strings.NewReader(text)
	if out, err := cmd.CombinedOutput(); err != nil || len(bytes.TrimSpace(out)) > 0 {
		t.Fatalf("promtool check metrics: %v\n%s", err, out)
	}
	got := samples(t, text)
	s := scraped{text: text, success: got[`kpi_collector_success{collector="`+e.Catalogue().Sources[0].Collector+`", source="s"}`]}
	for k := range got {
		if strings.HasPrefix(k, "kpi_value{") {
			s.series++
		}
	}
	return s
}
