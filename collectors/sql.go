package collectors

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	_ "github.com/go-sql-driver/mysql" // driver "mysql"
	_ "github.com/jackc/pgx/v5/stdlib" // driver "pgx"
	"gopkg.in/yaml.v3"
	_ "modernc.org/sqlite" // driver "sqlite"

	"github.com/kpiwatch/kpiwatch/catalogue"
)

func init() { Register("sql", newSQL) }

// sqlDrivers maps a driver as the catalogue names it to its database/sql name.
var sqlDrivers = map[string]string{"postgres": "pgx", "mysql": "mysql", "sqlite": "sqlite"}

// sqlConfig is a query against a database; its result columns are mapped
// like a CSV file's.
type sqlConfig struct {
	Driver string `yaml:"driver"` // postgres, mysql or sqlite
	// DSN is the connection string, from a file or the environment: it
	// usually holds a password.
	DSN   Secret `yaml:"dsn"`
	Query string `yaml:"query"`
	// MaxOpenConns bounds the pool (default 2: one refresh at a time, and
	// one spare while a cancelled query is cleaned up).
	MaxOpenConns int     `yaml:"max_open_conns"`
	Mapping      Mapping `yaml:"mapping"`
	Wide         *Wide   `yaml:"wide"` // instead of mapping: a column per period
}

type sqlCollector struct {
	cfg sqlConfig
	env Env

	mu  sync.Mutex
	db  *sql.DB // opened on first use, then reused by every refresh
	dsn string
}

func newSQL(node *yaml.Node, env Env) (Collector, []catalogue.FieldError) {
	var cfg sqlConfig
	if errs := catalogue.DecodeStrict(node, &cfg, "config"); errs != nil {
		return nil, errs
	}
	var errs []catalogue.FieldError
	add := func(p, msg string) { errs = append(errs, catalogue.FieldError{Path: "config." + p, Msg: msg}) }
	if _, ok := sqlDrivers[cfg.Driver]; !ok {
		add("driver", fmt.Sprintf("%q is not postgres, mysql or sqlite", cfg.Driver))
	}
	errs = append(errs, cfg.DSN.Check("config.dsn", true)...)
	if strings.TrimSpace(cfg.Query) == "" {
		add("query", "required")
	}
	if cfg.MaxOpenConns < 0 {
		add("max_open_conns", "must not be negative")
	}
	if cfg.MaxOpenConns == 0 {
		cfg.MaxOpenConns = 2
	}
	errs = append(errs, checkLayout(cfg.Mapping, cfg.Wide, "config")...)
	if len(errs) > 0 {
		return nil, errs
	}
	return &sqlCollector{cfg: cfg, env: env}, nil
}

// open reads the DSN and opens the pool once. It is lazy so that a catalogue
// can be checked where the database's secrets are not.
func (c *sqlCollector) open() (*sql.DB, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.db != nil {
		return c.db, nil
	}
	dsn, err := c.cfg.DSN.Read(c.env.Dir)
	if err != nil {
		return nil, fmt.Errorf("dsn: %w", err)
	}
	db, err := sql.Open(sqlDrivers[c.cfg.Driver], dsn)
	if err != nil {
		return nil, withoutSecrets(err, dsnSecrets(dsn)...)
	}
	db.SetMaxOpenConns(c.cfg.MaxOpenConns)
	db.SetMaxIdleConns(1)
	db.SetConnMaxIdleTime(c.env.Source.Interval.Std() + time.Minute)
	db.SetConnMaxLifetime(time.Hour)
	c.db, c.dsn = db, dsn
	return db, nil
}

// Close closes the pool, for a collector replaced on a catalogue reload.
func (c *sqlCollector) Close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.db == nil {
		return nil
	}
	err := c.db.Close()
	c.db = nil
	return err
}

func (c *sqlCollector) Collect(ctx context.Context, m *Mapper) (*Batch, error) {
	where := c.cfg.Driver + " query"
	db, err := c.open()
	if err != nil {
		return nil, fmt.Errorf("source %s: %s: %w", m.Source(), where, err)
	}
	if t := c.env.Source.Timeout.Std(); t > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, t)
		defer cancel()
	}
	batch, err := c.query(ctx, db, m, where)
	if err != nil {
		var re *RowError
		if errors.As(err, &re) {
			return nil, err
		}
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			err = fmt.Errorf("timed out after %s: %w", c.env.Source.Timeout, err)
		}
		return nil, fmt.Errorf("source %s: %s: %w", m.Source(), where, withoutSecrets(err, dsnSecrets(c.dsn)...))
	}
	return batch, nil
}

func (c *sqlCollector) query(ctx context.Context, db *sql.DB, m *Mapper, where string) (*Batch, error) {
	tx, err := db.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, err
	}
	defer tx.Rollback() //nolint:errcheck // read-only: nothing to keep
	if c.cfg.Driver == "sqlite" {
		// SQLite has no read-only transactions; this makes the connection one.
		if _, err := tx.ExecContext(ctx, "PRAGMA query_only = ON"); err != nil {
			return nil, err
		}
	}
	query, cancel := context.WithCancel(ctx)
	rows, err := tx.QueryContext(query, c.cfg.Query)
	if err != nil {
		cancel()
		return nil, err
	}
	defer rows.Close()
	// Run before rows.Close: a read stopped early (max_series, a limit)
	// cancels the query on the server rather than reading the rest of a
	// result of millions of rows to close it.
	defer cancel()
	header, err := rows.Columns()
	if err != nil {
		return nil, err
	}
	types, err := rows.ColumnTypes()
	if err != nil {
		return nil, err
	}
	b, err := tableLayout(c.cfg.Mapping, c.cfg.Wide).bind(m, header, where)
	if err != nil {
		var re *RowError
		if errors.As(err, &re) {
			re.Loc.Row = 0 // the result's columns are no row: row 1 is the first result
		}
		return nil, err
	}
	numeric := make([]bool, len(types))
	for i, t := range types {
		numeric[i] = numericColumn(t)
	}
	values := make([]any, len(header))
	ptrs := make([]any, len(header))
	for i := range values {
		ptrs[i] = &values[i]
	}
	if len(header) > c.env.Limits.MaxCells {
		return nil, fmt.Errorf("%d result columns, more than %d: %w", len(header), c.env.Limits.MaxCells, ErrLimit)
	}
	nf := layoutNumbers(c.cfg.Mapping, c.cfg.Wide)
	batch := &Batch{}
	var size int64
	for row := 1; rows.Next(); row++ {
		if row > c.env.Limits.MaxRows {
			return nil, fmt.Errorf("more than %d rows: %w", c.env.Limits.MaxRows, ErrLimit)
		}
		if err := rows.Scan(ptrs...); err != nil {
			return nil, fmt.Errorf("row %d: %w", row, err)
		}
		cells := make([]string, len(values))
		for i, v := range values {
			cells[i] = sqlCell(v, numeric[i], nf)
			size += int64(len(cells[i]))
		}
		if size > c.env.Limits.MaxBytes {
			return nil, fmt.Errorf("row %d: more than %d bytes of results: %w", row, c.env.Limits.MaxBytes, ErrLimit)
		}
		b.AddRow(batch, cells, row)
		if err := m.Err(); err != nil {
			return nil, err
		}
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	return batch, nil
}

// numericColumn is true for columns a driver may hand over as text
// (NUMERIC, DECIMAL; every column over MySQL's text protocol).
func numericColumn(t *sql.ColumnType) bool {
	switch t.ScanType().Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Float32, reflect.Float64:
		return true
	}
	name := strings.ToUpper(t.DatabaseTypeName())
	return strings.Contains(name, "NUMERIC") || strings.Contains(name, "DECIMAL")
}

// sqlCell turns a driver's value into a cell for the mapper: numbers in the
// source's number format, times as the database shows them (converting to
// UTC would move a midnight in Viet Nam into the previous day), booleans as
// 1 and 0.
func sqlCell(v any, numeric bool, nf NumberFormat) string {
	switch v := v.(type) {
	case nil:
		return ""
	case int64:
		return strconv.FormatInt(v, 10)
	case float64:
		return FormatNumber(v, nf)
	case bool:
		if v {
			return "1"
		}
		return "0"
	case time.Time:
		return v.Format("2006-01-02T15:04:05")
	case []byte:
		return sqlCell(string(v), numeric, nf)
	case string:
		if numeric {
			return typedNumber(v, nf)
		}
		return v
	}
	return fmt.Sprint(v)
}

// dsnPassword finds the password in the DSN forms of the three drivers:
// a URL, key=value pairs, and MySQL's user:password@tcp(host)/db.
var dsnPassword = []*regexp.Regexp{
	regexp.MustCompile(`(?i)password\s*=\s*'((?:[^'\\]|\\.)*)'`),
	regexp.MustCompile(`(?i)password\s*=\s*([^\s']\S*)`),
	regexp.MustCompile(`^[^:@/]*:([^@]*)@`),
}

// dsnSecrets are the strings of a DSN an error must not show.
func dsnSecrets(dsn string) []string {
	secrets := []string{dsn}
	if u, err := url.Parse(dsn); err == nil && u.User != nil {
		if p, ok := u.User.Password(); ok {
			secrets = append(secrets, p, url.QueryEscape(p))
		}
	}
	for _, re := range dsnPassword {
		if m := re.FindStringSubmatch(dsn); m != nil && m[1] != "" {
			secrets = append(secrets, m[1])
		}
	}
	return secrets
}
