package collectors

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kpiwatch/kpiwatch/catalogue"
	"github.com/kpiwatch/kpiwatch/internal/realserver"
)

// channelCatalogue has a KPI broken down by a free-text dimension, where a
// source can make as many series as it has rows, bounded by max_series.
const channelCatalogue = `apiVersion: kpiwatch.io/v1
kind: Catalogue
metadata: {name: series-test}
owners:
  - {id: mps, name: Ministry of Public Security, block: government}
dimensions:
  - {name: channel, name_en: Channel, name_vi: Kênh, free_text: true}
sources:
  - id: src
    max_series: 100
%s
kpis:
  - id: accounts
    name: Accounts
    kind: count
    direction: higher_is_better
    owner: mps
    dimensions: [province, channel]
    cadence: {period: monthly, due_day: 15}
    source: src
    baseline: {date: 2024-01-01, value: 0}
    targets: [{by: 2025-12-31, value: 1000000}]
`

func newChannelSource(t *testing.T, fsys fs.FS, source string) (Collector, *Mapper) {
	t.Helper()
	src := "    " + strings.ReplaceAll(strings.TrimSpace(source), "\n", "\n    ")
	cat, err := catalogue.Parse("catalogue.yaml", []byte(fmt.Sprintf(channelCatalogue, src)), fsys, Check)
	if err != nil {
		t.Fatalf("catalogue: %v", err)
	}
	c, errs := New(Env{Source: cat.Sources[0], Dir: fsys})
	if errs != nil {
		t.Fatal(errs)
	}
	if closer, ok := c.(interface{ Close() error }); ok {
		t.Cleanup(func() { _ = closer.Close() })
	}
	return c, NewMapper(cat, "src")
}

// wantStoppedAt checks that a read failed on max_series (100) at the row
// that made the 101st series: it read no further than that.
func wantStoppedAt(t *testing.T, what string, err error, where string) {
	t.Helper()
	if !errors.Is(err, ErrMaxSeries) {
		t.Fatalf("%s: %v, want the read stopped at max_series", what, err)
	}
	if want := where + ": more than 100 series, the source's max_series"; !strings.HasPrefix(err.Error(), want) {
		t.Errorf("%s: %v\nwant it to start %s", what, err, want)
	}
}

const channelMapping = "mapping: {kpi: accounts, date: ky, value: so, dimensions: {province: tinh, channel: kenh}}"

// TestMaxSeriesWhileReading: a source that would make more series than its
// max_series stops at the row that passes it (CSV, JSON, a folder, SQLite),
// rather than reading the rest; rows that repeat series are no new ones,
// and a source within its limit reads whole.
func TestMaxSeriesWhileReading(t *testing.T) {
	dir := t.TempDir()
	var csvRows, jsonRows strings.Builder
	csvRows.WriteString("tinh,kenh,ky,so\n")
	jsonRows.WriteString("[")
	for i := range 5000 {
		fmt.Fprintf(&csvRows, "Hà Nội,kênh %d,2025-10,%d\n", i, i)
		fmt.Fprintf(&jsonRows, `{"tinh": "Hà Nội", "kenh": "kênh %d", "ky": "2025-10", "so": %d},`, i, i)
	}
	writeFile(t, dir, "many.csv", csvRows.String())
	writeFile(t, dir, "many.json", strings.TrimSuffix(jsonRows.String(), ",")+"]")
	var repeats strings.Builder
	repeats.WriteString("tinh,kenh,ky,so\n")
	for i := range 5000 {
		fmt.Fprintf(&repeats, "Hà Nội,kênh %d,2025-%02d,%d\n", i%100, i%12+1, i)
	}
	writeFile(t, dir, "repeats.csv", repeats.String())
	if err := os.Mkdir(filepath.Join(dir, "folder"), 0o755); err != nil {
		t.Fatal(err)
	}
	for f := range 3 {
		var b strings.Builder
		b.WriteString("tinh,kenh,ky,so\n")
		for i := range 60 {
			fmt.Fprintf(&b, "Huế,kênh %d-%d,2025-10,%d\n", f, i, i)
		}
		writeFile(t, dir, fmt.Sprintf("folder/%d.csv", f), b.String())
	}
	fsys := os.DirFS(dir)

	c, m := newChannelSource(t, fsys, "collector: csv\nconfig:\n  path: many.csv\n  "+channelMapping)
	_, err := Collect(context.Background(), c, m)
	wantStoppedAt(t, "csv", err, "source src: many.csv: row 102") // the header is row 1

	c, m = newChannelSource(t, fsys, "collector: json\nconfig:\n  path: many.json\n  "+channelMapping)
	_, err = Collect(context.Background(), c, m)
	wantStoppedAt(t, "json", err, "source src: many.json: row 101")

	c, m = newChannelSource(t, fsys, "collector: csv\nconfig:\n  path: folder\n  "+channelMapping)
	_, err = Collect(context.Background(), c, m)
	wantStoppedAt(t, "folder", err, "source src: folder/1.csv: row 42") // 60 from the first file, 41 from the second

	c, m = newChannelSource(t, fsys, "collector: csv\nconfig:\n  path: repeats.csv\n  "+channelMapping)
	if b, err := Collect(context.Background(), c, m); err != nil || len(b.Observations) != 5000 {
		t.Errorf("5000 rows of 100 series: %v", err)
	}

	path := filepath.Join(dir, "many.db")
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`CREATE TABLE r AS WITH RECURSIVE g(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM g WHERE i < 5000)
		SELECT 'Hà Nội' AS tinh, 'kênh ' || i AS kenh, '2025-10' AS ky, i AS so FROM g`); err != nil {
		t.Fatal(err)
	}
	db.Close()
	t.Setenv("KPIWATCH_TEST_SQLITE", path)
	c, m = newChannelSource(t, fsys, "collector: sql\nconfig:\n  driver: sqlite\n  dsn: {env: KPIWATCH_TEST_SQLITE}\n  query: SELECT * FROM r\n  "+channelMapping)
	_, err = Collect(context.Background(), c, m)
	wantStoppedAt(t, "sqlite", err, "source src: sqlite query: row 101")
}

// TestMaxSeriesPostgres: a real PostgreSQL query that would return ten
// million rows, each a series, is stopped at row 101 and cancelled on the
// server. After its first thousand rows the query pauses for an hour on
// every row: a read that waited for the rest to close the result would
// not return before the source's timeout (and the test's).
func TestMaxSeriesPostgres(t *testing.T) {
	pg := realserver.StartPostgres(t)
	dir := t.TempDir()
	writeFile(t, dir, "pg.dsn", pg.DSN())
	c, m := newChannelSource(t, os.DirFS(dir), `collector: sql
timeout: 10m
config:
  driver: postgres
  dsn: {file: pg.dsn}
  max_open_conns: 1
  query: "SELECT 'Hà Nội' AS tinh, 'kênh ' || g AS kenh, '2025-10' AS ky, g AS so, CASE WHEN g > 1000 THEN pg_sleep(3600)::text END AS pause FROM generate_series(1, 10000000) g"
  `+channelMapping)
	_, err := Collect(context.Background(), c, m)
	wantStoppedAt(t, "postgres", err, "source src: postgres query: row 101")
	// The pool's one connection serves the next read: the stopped query
	// holds nothing.
	var one int
	if err := c.(*sqlCollector).db.QueryRow(`SELECT 1`).Scan(&one); err != nil || one != 1 {
		t.Errorf("after the stopped query: %v", err)
	}
}
