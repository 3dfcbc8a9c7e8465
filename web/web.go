// Package web serves the scorecard at / and the monthly briefing: every KPI,
// unit, task and source as the exporter judged them, for leaders with no
// Grafana at hand. Pages are rendered on the server with html/template from
// the exporter's Snapshot (the judgement /metrics serves), in Vietnamese or
// English (?lang=en); the stylesheet is embedded and inlined, charts are SVG
// drawn on the server, nothing is fetched from elsewhere and no script runs.
// Every table downloads as CSV with ?format=csv&table=<id>.
package web

import (
	"bytes"
	"embed"
	"encoding/csv"
	"fmt"
	"html"
	"html/template"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/kpiwatch/kpiwatch/conventions"
	"github.com/kpiwatch/kpiwatch/exporter"
)

//go:embed templates/page.html assets/style.css
var files embed.FS

var (
	pageTemplate = template.Must(template.ParseFS(files, "templates/page.html"))
	styleSheet   = func() template.CSS {
		b, err := files.ReadFile("assets/style.css")
		if err != nil {
			panic(err)
		}
		var css strings.Builder
		css.Write(b)
		for _, s := range statusStyles {
			fmt.Fprintf(&css, ".s-%s{background:%s;color:%s}\n", s.status, s.bg, s.fg)
		}
		return template.CSS(css.String())
	}()
)

// Options configure the pages.
type Options struct {
	// MetricsPath is where /metrics is served, linked from the footer.
	MetricsPath string
}

// Handler serves the pages from the exporter's latest snapshot.
type Handler struct {
	snapshot func() *exporter.Snapshot
	opts     Options
	mux      *http.ServeMux
}

// New builds the handler; snapshot is called once per request.
func New(snapshot func() *exporter.Snapshot, opts Options) *Handler {
	if opts.MetricsPath == "" {
		opts.MetricsPath = "/metrics"
	}
	h := &Handler{snapshot: snapshot, opts: opts, mux: http.NewServeMux()}
	h.mux.HandleFunc("GET /{$}", h.page(scorecardPage))
	h.mux.HandleFunc("GET /kpi/{id}", h.page(kpiPage))
	h.mux.HandleFunc("GET /unit/{level}/{name}", h.page(unitPage))
	h.mux.HandleFunc("GET /province/{code}", h.page(provincePage))
	h.mux.HandleFunc("GET /tasks", h.page(tasksPage))
	h.mux.HandleFunc("GET /sources", h.page(sourcesPage))
	h.mux.HandleFunc("GET /reporting", h.page(reportingPage))
	h.mux.HandleFunc("GET /report", h.page(reportPage))
	h.mux.HandleFunc("/", h.page(func(*request) (*page, error) { return nil, errNotFound }))
	return h
}

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) { h.mux.ServeHTTP(w, r) }

// request is what a page is built from.
type request struct {
	snap  *exporter.Snapshot
	l     lang
	q     url.Values
	path  string
	param func(string) string
}

// url is a link to path with the given query, keeping the language.
func (r *request) url(path string, kv ...string) string {
	q := url.Values{}
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] != "" {
			q.Set(kv[i], kv[i+1])
		}
	}
	if r.l == en {
		q.Set("lang", string(en))
	}
	if len(q) == 0 {
		return path
	}
	return path + "?" + q.Encode()
}

// httpError is an error with the status it answers, or a redirect to
// location.
type httpError struct {
	code     int
	msg      msg
	location string
}

func (e *httpError) Error() string { return e.msg.en }

var errNotFound = &httpError{code: http.StatusNotFound, msg: msg{"Không có trang này.", "No such page."}}

func (h *Handler) page(build func(*request) (*page, error)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		req := &request{snap: h.snapshot(), l: langOf(&q), q: q, path: r.URL.Path, param: r.PathValue}
		p, err := build(req)
		code := http.StatusOK
		if err != nil {
			he, ok := err.(*httpError)
			if !ok {
				he = &httpError{code: http.StatusInternalServerError, msg: msg{err.Error(), err.Error()}}
			}
			if he.location != "" {
				http.Redirect(w, r, he.location, he.code)
				return
			}
			code = http.StatusNotFound
			if he.code != 0 {
				code = he.code
			}
			p = &page{Title: req.l.t(he.msg)}
		}
		if q.Get("format") == "csv" && err == nil {
			t := p.table(q.Get("table"))
			if t == nil {
				http.Error(w, "no table "+q.Get("table")+" on this page", http.StatusNotFound)
				return
			}
			w.Header().Set("Content-Type", "text/csv; charset=utf-8")
			w.Header().Set("Content-Disposition", fmt.Sprintf("attachment; filename=%q", t.ID+".csv"))
			_ = t.writeCSV(w)
			return
		}
		var buf bytes.Buffer
		if err := h.render(&buf, req, p); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.WriteHeader(code)
		_, _ = w.Write(buf.Bytes())
	}
}

// render completes a page with what every page has and writes it.
func (h *Handler) render(w io.Writer, r *request, p *page) error {
	p.Lang, p.CSS = string(r.l), styleSheet
	other, label := url.Values{}, "English"
	for k, v := range r.q {
		if k != "lang" && k != "format" && k != "table" {
			other[k] = v
		}
	}
	if r.l == en {
		label = "Tiếng Việt"
	} else {
		other.Set("lang", string(en))
	}
	p.Switch, p.SwitchLabel = r.path, label
	if len(other) > 0 {
		p.Switch += "?" + other.Encode()
	}
	p.Nav = []link{
		{r.url("/"), r.l.t(msg{"Bảng tổng hợp", "Scorecard"})},
		{r.url("/tasks"), r.l.t(msg{"Nhiệm vụ quá hạn", "Overdue tasks"})},
		{r.url("/reporting"), r.l.t(msg{"Kỷ luật báo cáo", "Reporting"})},
		{r.url("/sources"), r.l.t(msg{"Nguồn dữ liệu", "Sources"})},
		{r.url("/report"), r.l.t(msg{"Báo cáo tháng", "Monthly briefing"})},
	}
	p.Footer = []link{{h.opts.MetricsPath, "Metrics"}, {conventions.UnitsPath, "Unit metrics"}, {"/-/healthy", "Health"}, {"/-/ready", "Ready"}}
	p.Programme = r.l.pick(r.snap.Catalogue.Metadata.TitleVI, r.snap.Catalogue.Metadata.Title)
	p.AsOf = r.l.t(msg{"Số liệu đánh giá lúc ", "Judged at "}) + r.snap.Now.UTC().Format("2006-01-02 15:04") + " UTC"
	for _, t := range p.tables() {
		t.CSV = csvLink(r, t.ID)
		t.CSVLabel = r.l.t(msg{"Tải CSV", "Download CSV"})
	}
	return pageTemplate.Execute(w, p)
}

func csvLink(r *request, id string) string {
	q := url.Values{}
	for k, v := range r.q {
		q[k] = v
	}
	q.Set("format", "csv")
	q.Set("table", id)
	return r.path + "?" + q.Encode()
}

// page is what the template renders.
type page struct {
	Lang, Title, Intro  string
	Programme, AsOf     string
	Switch, SwitchLabel string
	Nav, Footer         []link
	Sections            []*section
	CSS                 template.CSS
	Print               bool // the briefing: laid out for A4
}

type link struct{ Href, Text string }

// section is a heading with its text, form, figures and tables.
type section struct {
	Heading, Text string
	Form          *form
	Side          template.HTML // a chart or map beside the tables
	Chart         template.HTML
	Tables        []*table
}

type form struct {
	Action, Submit string
	Fields         []field
	Hidden         []link // name (Href) and value (Text) kept across a submit
}

type field struct {
	ID, Name, Label string
	Options         []option
}

type option struct {
	Value, Label string
	Selected     bool
}

// table is a table of a page; the same rows download as CSV.
type table struct {
	ID, Caption   string
	Cols          []col
	Rows          []row
	Empty         string // shown when there are no rows
	CSV, CSVLabel string
}

type col struct {
	Label string
	Num   bool
}

type row struct {
	Attrs template.HTMLAttr // data-* attributes the tests read
	Cells []cell
}

// cell is one cell: text, optionally a link or a status pill or a chart.
// The first cell of a row is its header.
type cell struct {
	Text, Href, Status string
	Sub                string // a second line, smaller
	SVG                template.HTML
	CSV                string // what the CSV holds when not Text (raw figures)
}

func (p *page) tables() []*table {
	var out []*table
	for _, s := range p.Sections {
		out = append(out, s.Tables...)
	}
	return out
}

func (p *page) table(id string) *table {
	for _, t := range p.tables() {
		if t.ID == id {
			return t
		}
	}
	return nil
}

// dropCols removes columns (by index) from the table and its rows.
func (t *table) dropCols(idx ...int) {
	keep := func(i int) bool { return !slices.Contains(idx, i) }
	var cols []col
	for i, c := range t.Cols {
		if keep(i) {
			cols = append(cols, c)
		}
	}
	t.Cols = cols
	for r := range t.Rows {
		var cells []cell
		for i, c := range t.Rows[r].Cells {
			if keep(i) {
				cells = append(cells, c)
			}
		}
		t.Rows[r].Cells = cells
	}
}

func (t *table) writeCSV(w io.Writer) error {
	cw := csv.NewWriter(w)
	head := make([]string, len(t.Cols))
	for i, c := range t.Cols {
		head[i] = csvCell(c.Label)
	}
	_ = cw.Write(head)
	for _, r := range t.Rows {
		rec := make([]string, len(r.Cells))
		for i, c := range r.Cells {
			rec[i] = c.Text
			if c.CSV != "" {
				rec[i] = c.CSV
			}
			rec[i] = csvCell(rec[i])
		}
		_ = cw.Write(rec)
	}
	cw.Flush()
	return cw.Error()
}

// plainNegative is a negative number as the CSV writes one (-0.25, -1.5e-07,
// -12,5%): a spreadsheet reads it as that number, and it can hold no formula.
var plainNegative = regexp.MustCompile(`^-[0-9][0-9.,]*(e[-+]?[0-9]+)?%?$`)

// csvCell neutralises a cell that a spreadsheet would take for a formula, as
// OWASP advises against CSV injection: one beginning with =, +, -, @, a tab
// or a carriage return (or the full-width =, +, -, @ that some input
// methods turn into them) is prefixed with a single quote, so it opens as
// the text it is. Plain negative numbers are left as they are, so that gaps
// and changes below zero still open as numbers.
func csvCell(s string) string {
	r, _ := utf8.DecodeRuneInString(s)
	switch r {
	case '=', '+', '-', '@', '\t', '\r', '＝', '＋', '－', '＠':
		if r == '-' && plainNegative.MatchString(s) {
			return s
		}
		return "'" + s
	}
	return s
}

// attrs writes data-* attributes from name, value pairs, leaving out empty
// values.
func attrs(kv ...string) template.HTMLAttr {
	var b strings.Builder
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] == "" {
			continue
		}
		fmt.Fprintf(&b, ` data-%s="%s"`, kv[i], html.EscapeString(kv[i+1]))
	}
	return template.HTMLAttr(strings.TrimSpace(b.String()))
}

// statusCell is a status as its words on its colour.
func statusCell(l lang, status string) cell {
	return cell{Text: l.t(styleOf(status).word), Status: status, CSV: status}
}

// Write renders one page for path (with its query) to w, as the handler
// would serve it: for the report command and the benchmarks.
func (h *Handler) Write(w io.Writer, target string) error {
	rec := &bufferedResponse{header: http.Header{}}
	req, err := http.NewRequest(http.MethodGet, target, nil)
	if err != nil {
		return err
	}
	h.ServeHTTP(rec, req)
	if rec.code != 0 && rec.code != http.StatusOK {
		return fmt.Errorf("%s: %d %s", target, rec.code, strings.TrimSpace(rec.body.String()))
	}
	_, err = w.Write(rec.body.Bytes())
	return err
}

type bufferedResponse struct {
	header http.Header
	code   int
	body   bytes.Buffer
}

func (b *bufferedResponse) Header() http.Header         { return b.header }
func (b *bufferedResponse) Write(p []byte) (int, error) { return b.body.Write(p) }
func (b *bufferedResponse) WriteHeader(code int)        { b.code = code }

// now is the instant the snapshot was judged, in UTC.
func (r *request) now() time.Time { return r.snap.Now.UTC() }
