package collectors

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kpiwatch/kpiwatch/internal/realserver"
)

func sqlSource(driver, dsn, timeout, query string) string {
	return fmt.Sprintf(`
collector: sql
interval: 5m
timeout: %s
config:
  driver: %s
  dsn: %s
  query: %q
  mapping:
    kpi: benefit_bank_ratio
    date: ky
    numerator: qua_tai_khoan
    denominator: tong_so
    dimensions: {province: tinh}
    numbers: {decimal: ","}
`, timeout, driver, dsn, query)
}

const benefitQuery = `SELECT p.name AS tinh, r.period AS ky, r.paid_by_bank AS qua_tai_khoan, r.recipients AS tong_so
FROM benefit_report r JOIN province p ON p.code = r.province ORDER BY p.code`

// A real PostgreSQL, logged into with a password from a file: NUMERIC and
// DATE columns, a read-only transaction, a failing query, a timeout.
func TestSQLPostgres(t *testing.T) {
	pg := realserver.StartPostgres(t)
	pg.Exec(t,
		`CREATE TABLE province (code int PRIMARY KEY, name text NOT NULL)`,
		`INSERT INTO province VALUES (1, 'Thành phố Hà Nội'), (79, 'TP. Hồ Chí Minh'), (46, 'Huế')`,
		`CREATE TABLE benefit_report (province int, period date, paid_by_bank numeric(14,2), recipients bigint)`,
		`INSERT INTO benefit_report VALUES (1, '2025-10-31', 1058569.5, 1200000), (79, '2025-10-01', 2345678, 3000000), (46, '2025-10-15', NULL, 1000)`,
	)
	dir := t.TempDir()
	writeFile(t, dir, "pg.dsn", pg.DSN()+"\n")

	t.Run("query", func(t *testing.T) {
		c, m := newTestSource(t, dir, sqlSource("postgres", "{file: pg.dsn}", "10s", benefitQuery))
		for range 2 {
			b := collect(t, c, m)
			got := observed(m, b)
			if o := got["benefit_bank_ratio/Ha Noi/2025-10"]; o.Num != 1058569.5 || o.Den != 1200000 {
				t.Errorf("Ha Noi: %+v", o)
			}
			if o := got["benefit_bank_ratio/Ho Chi Minh/2025-10"]; o.Num != 2345678 || o.Den != 3000000 {
				t.Errorf("Ho Chi Minh: %+v", o)
			}
			if want := `source src: postgres query: row 2, column "qua_tai_khoan": empty number`; errorTexts(b.Rejected) != want {
				t.Errorf("rejected %q, want %q", errorTexts(b.Rejected), want)
			}
		}
		stats := c.(*sqlCollector).db.Stats()
		if stats.MaxOpenConnections != 2 || stats.OpenConnections != 1 {
			t.Errorf("pool: %d open of at most %d; want 1 of 2, reused across refreshes", stats.OpenConnections, stats.MaxOpenConnections)
		}
	})
	t.Run("read-only", func(t *testing.T) {
		c, m := newTestSource(t, dir, sqlSource("postgres", "{file: pg.dsn}", "10s",
			`WITH gone AS (DELETE FROM benefit_report RETURNING *) SELECT 'Huế' AS tinh, now() AS ky, 1 AS qua_tai_khoan, 1 AS tong_so FROM gone`))
		_, err := c.Collect(context.Background(), m)
		wantContains(t, fmt.Sprint(err), "source src: postgres query: ERROR: cannot execute", "in a read-only transaction (SQLSTATE 25006)")
	})
	t.Run("failing query", func(t *testing.T) {
		c, m := newTestSource(t, dir, sqlSource("postgres", "{file: pg.dsn}", "10s", `SELECT * FROM benefit_reports`))
		_, err := c.Collect(context.Background(), m)
		if want := `source src: postgres query: ERROR: relation "benefit_reports" does not exist (SQLSTATE 42P01)`; fmt.Sprint(err) != want {
			t.Errorf("got  %v\nwant %s", err, want)
		}
	})
	t.Run("timeout", func(t *testing.T) {
		// The query would run for an hour: Collect returns only if it gives
		// up at its timeout.
		c, m := newTestSource(t, dir, sqlSource("postgres", "{file: pg.dsn}", "1s", `SELECT pg_sleep(3600), * FROM benefit_report`))
		_, err := c.Collect(context.Background(), m)
		wantContains(t, fmt.Sprint(err), "source src: postgres query: timed out after 1s")
	})
	t.Run("password never in errors", func(t *testing.T) {
		for _, dsn := range []string{
			strings.Replace(pg.DSN(), pg.Password, "wr0ng-Pa55", 1),
			strings.Replace(pg.DSN(), pg.Addr, "127.0.0.1:port", 1), // a DSN pgx cannot parse
			"host=127.0.0.1 port=" + fmt.Sprint(pg.Port()) + " user=kpiwatch password='wr0ng-Pa55' sslmode=disable",
		} {
			t.Setenv("KPIWATCH_TEST_DSN", dsn)
			c, m := newTestSource(t, dir, sqlSource("postgres", "{env: KPIWATCH_TEST_DSN}", "10s", benefitQuery))
			_, err := c.Collect(context.Background(), m)
			if err == nil || strings.Contains(err.Error(), "wr0ng-Pa55") || strings.Contains(err.Error(), pg.Password) {
				t.Errorf("error %v: want a failure that does not show the password", err)
			}
		}
	})
}

// SQLite in a temp file: typed values, and no writes through the collector.
func TestSQLSQLite(t *testing.T) {
	path := filepath.Join(t.TempDir(), "stats.db")
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{
		`CREATE TABLE report (tinh TEXT, ky DATE, qua_tai_khoan REAL, tong_so INTEGER)`,
		`INSERT INTO report VALUES ('Hà Nội', '2025-10-31', 1058569.5, 1200000), ('Đà Nẵng', '2025-09-30', 99, 100), ('Tổng', '2025-10-31', 1, 1)`,
	} {
		if _, err := db.Exec(s); err != nil {
			t.Fatal(err)
		}
	}
	db.Close()
	t.Setenv("KPIWATCH_TEST_SQLITE", "file:"+path)
	c, m := newTestSource(t, t.TempDir(), sqlSource("sqlite", "{env: KPIWATCH_TEST_SQLITE}", "10s", `SELECT * FROM report`))
	b := collect(t, c, m)
	if len(b.Rejected) > 0 {
		t.Fatal(errorTexts(b.Rejected))
	}
	got := observed(m, b)
	if o := got["benefit_bank_ratio/Ha Noi/2025-10"]; o.Num != 1058569.5 || o.Den != 1200000 {
		t.Errorf("Ha Noi: %+v", o)
	}
	if o := got["benefit_bank_ratio/Da Nang/2025-09"]; o.Value != 0.99 {
		t.Errorf("Da Nang: %+v", o)
	}
	if len(b.Observations) != 2 {
		t.Errorf("%d observations, want 2 (the totals row skipped)", len(b.Observations))
	}
	c, m = newTestSource(t, t.TempDir(), sqlSource("sqlite", "{env: KPIWATCH_TEST_SQLITE}", "10s", `SELECT tinh, ky FROM report`))
	_, err = c.Collect(context.Background(), m)
	if want := `source src: sqlite query: no column ["qua_tai_khoan" "tong_so"] (the header has ["tinh" "ky"])`; fmt.Sprint(err) != want {
		t.Errorf("got  %v\nwant %s", err, want)
	}
	// An endless result stops at the row limit.
	c, m = newTestSource(t, t.TempDir(), sqlSource("sqlite", "{env: KPIWATCH_TEST_SQLITE}", "10s",
		`WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM n) SELECT 'Hà Nội' AS tinh, '2025-10' AS ky, i AS qua_tai_khoan, i AS tong_so FROM n`))
	c.(*sqlCollector).env.Limits = Limits{MaxRows: 1000}.WithDefaults()
	_, err = c.Collect(context.Background(), m)
	wantContains(t, fmt.Sprint(err), "source src: sqlite query: more than 1000 rows: over the limit")
	c, m = newTestSource(t, t.TempDir(), sqlSource("sqlite", "{env: KPIWATCH_TEST_SQLITE}", "10s", `DELETE FROM report RETURNING *`))
	_, err = c.Collect(context.Background(), m)
	wantContains(t, fmt.Sprint(err), "source src: sqlite query: attempt to write a readonly database")
}

// No MySQL server runs here: this checks the driver is wired and its DSN
// stays secret when the server cannot be reached or the DSN is malformed.
func TestSQLMySQLConfigOnly(t *testing.T) {
	unreachable := realserver.FreeAddr(t) // nothing listens there
	for _, dsn := range []string{
		"kpiwatch:wr0ng-Pa55@tcp(" + unreachable + ")/kpi?timeout=2s",
		"kpiwatch:wr0ng-Pa55@tcp(" + unreachable + "/kpi",
	} {
		t.Setenv("KPIWATCH_TEST_MYSQL", dsn)
		c, m := newTestSource(t, t.TempDir(), sqlSource("mysql", "{env: KPIWATCH_TEST_MYSQL}", "10s", benefitQuery))
		_, err := c.Collect(context.Background(), m)
		if err == nil || !strings.HasPrefix(err.Error(), "source src: mysql query: ") || strings.Contains(err.Error(), "wr0ng-Pa55") {
			t.Errorf("error %v: want a mysql failure without the password", err)
		}
	}
}

func TestSQLConfigErrors(t *testing.T) {
	got := configErrors(t, t.TempDir(), `
collector: sql
config:
  driver: oracle
  max_open_conns: -1
  mapping: {kpi: vneid_accounts, date: d, value: v}
`)
	wantContains(t, got, `config.driver: "oracle" is not postgres, mysql or sqlite`,
		"config.dsn: required: file (a path) or env (a variable name)", "config.query: required", "config.max_open_conns: must not be negative")
}

func TestDSNSecrets(t *testing.T) {
	for dsn, password := range map[string]string{
		"postgres://u:p%40ss@h/db":              "p@ss",
		"host=h user=u password=pa55 dbname=db": "pa55",
		"host=h password='pa 55' dbname=db":     "pa 55",
		"u:pa55@tcp(h:3306)/db":                 "pa55",
	} {
		msg := withoutSecrets(fmt.Errorf("connecting with %s failed: wrong password %s", dsn, password), dsnSecrets(dsn)...).Error()
		if strings.Contains(msg, password) {
			t.Errorf("%s: %q shows the password", dsn, msg)
		}
	}
}

// A crosstab query, a column per month, read as a wide table: the months'
// own figures summed up into a cumulative KPI.
func TestSQLWide(t *testing.T) {
	path := filepath.Join(t.TempDir(), "stats.db")
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{
		`CREATE TABLE tai_khoan (tinh TEXT, thang INTEGER, so_moi INTEGER)`,
		`INSERT INTO tai_khoan VALUES ('Hà Nội', 8, 100), ('Hà Nội', 9, 50), ('Bắc Giang', 8, 7), ('Bắc Giang', 9, 3)`,
	} {
		if _, err := db.Exec(s); err != nil {
			t.Fatal(err)
		}
	}
	db.Close()
	t.Setenv("KPIWATCH_TEST_SQLITE", "file:"+path)
	c, m := newCatalogueSource(t, cumulativeCatalogue, t.TempDir(), `
collector: sql
timeout: 10s
config:
  driver: sqlite
  dsn: {env: KPIWATCH_TEST_SQLITE}
  query: |
    SELECT tinh,
           SUM(CASE WHEN thang = 8 THEN so_moi END) AS "T8/2025",
           SUM(CASE WHEN thang = 9 THEN so_moi END) AS "T9/2025"
    FROM tai_khoan GROUP BY tinh
  wide:
    dimensions: {province: tinh}
    kpis: [{kpi: vneid_accounts, values: per_period}]
`)
	b := collect(t, c, m)
	got := observed(m, b)
	if got["vneid_accounts/Ha Noi/2025-09"].Value != 150 || got["vneid_accounts/Bac Ninh/2025-08"].Value != 7 || len(got) != 4 || len(b.Rejected) != 0 {
		t.Errorf("got %v, rejected %v", got, b.Rejected)
	}
}
