package collectors

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"slices"
	"strconv"

	"gopkg.in/yaml.v3"

	"github.com/kpiwatch/kpiwatch/catalogue"
)

func init() { Register("csv", newCSV) }

// csvConfig is a CSV source: a file as a ministry sends it.
type csvConfig struct {
	// Path is a file, a folder or a glob; URL instead fetches the file.
	Path     string `yaml:"path"`
	HTTPFile `yaml:",inline"`
	// Delimiter is one character; reports often use ";" where "," is the
	// decimal separator.
	Delimiter string `yaml:"delimiter"`
	// HeaderRow is the line that holds the header (1 by default): the
	// lines above it are a report's title, not data.
	HeaderRow int     `yaml:"header_row"`
	Mapping   Mapping `yaml:"mapping"`
	Wide      *Wide   `yaml:"wide"`
	FileName  string  `yaml:"file_name"`
}

type csvCollector struct {
	*fileSet
	*fetcher
	cfg csvConfig
	dir fs.FS
	sep rune
	lim Limits
}

func newCSV(node *yaml.Node, env Env) (Collector, []catalogue.FieldError) {
	var cfg csvConfig
	if errs := catalogue.DecodeStrict(node, &cfg, "config"); errs != nil {
		return nil, errs
	}
	var errs []catalogue.FieldError
	fetch, ferrs := newFetcher(cfg.HTTPFile, env, cfg.Path, "path", "text/csv", "config")
	errs = append(errs, ferrs...)
	sep, ok := csvDelimiter(cfg.Delimiter)
	if !ok {
		errs = append(errs, catalogue.FieldError{Path: "config.delimiter", Msg: fmt.Sprintf("%q must be one character other than a quote or newline", cfg.Delimiter)})
	}
	if cfg.HeaderRow < 0 {
		errs = append(errs, catalogue.FieldError{Path: "config.header_row", Msg: "must be a line number (1 for the first)"})
	}
	cfg.HeaderRow = max(cfg.HeaderRow, 1)
	errs = append(errs, checkLayout(cfg.Mapping, cfg.Wide, "config")...)
	files, ferrs := newFileSet(env.Dir, cfg.Path, cfg.FileName, []string{".csv", ".txt"}, "config")
	if errs = append(errs, ferrs...); len(errs) > 0 {
		return nil, errs
	}
	return &csvCollector{fileSet: files, fetcher: fetch, cfg: cfg, dir: env.Dir, sep: sep, lim: env.Limits}, nil
}

func (c *csvCollector) Collect(ctx context.Context, m *Mapper) (*Batch, error) {
	read := func(dir fs.FS, name string, l Layout) (*Batch, error) {
		f, err := OpenFile(dir, name)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		return ReadCSV(ctx, f, name, c.sep, c.cfg.HeaderRow, l, m, c.lim)
	}
	if c.remote() {
		return c.readURL(ctx, m, tableLayout(c.cfg.Mapping, c.cfg.Wide), read)
	}
	return c.collect(ctx, m, tableLayout(c.cfg.Mapping, c.cfg.Wide), func(name string, l Layout) (*Batch, error) {
		return read(c.dir, name, l)
	}, func(name string) int { return max(countLines(ctx, c.dir, name, c.sep, c.lim)-c.cfg.HeaderRow, 0) })
}

// ReadCSV maps every row of a CSV stream whose header is on line
// headerRow (1 for the first). Rows that cannot be used are returned in
// Batch.Rejected; a stream that cannot be read at all, or that goes over a
// limit, is an error, and so is ctx ending: the parsing stops with it.
func ReadCSV(ctx context.Context, r io.Reader, name string, sep rune, headerRow int, mp Layout, m *Mapper, lim Limits) (*Batch, error) {
	lim = lim.WithDefaults()
	cr := csv.NewReader(textReader(ctx, r, name, lim))
	cr.Comma = sep
	cr.FieldsPerRecord = -1 // short rows are reported by the mapper, not fatal
	cr.ReuseRecord = true
	header, line, err := csvHeader(cr, name, headerRow)
	var re *RowError
	if errors.As(err, &re) {
		re.Loc.Source = m.Source()
		return nil, err
	} else if err != nil {
		return nil, fmt.Errorf("source %s: %w", m.Source(), err)
	}
	b, err := mp.bind(m, header, name)
	if err != nil {
		return nil, atHeader(err, line)
	}
	batch := &Batch{}
	// Once the first rows are read, the bytes they took and the file's size
	// say about how many observations are coming: one slice of that size
	// saves copying a million of them over and over as it grows.
	size := int64(-1)
	if f, ok := r.(interface{ Stat() (fs.FileInfo, error) }); ok {
		if fi, err := f.Stat(); err == nil {
			size = fi.Size()
		}
	}
	const sample = 1024
	// A reader goroutine parses the CSV while this one maps the records,
	// in order: at a million rows, two cores instead of one.
	done := make(chan struct{})
	defer close(done)
	records := readRecords(cr, line+1, done)
	for chunk := range records {
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("source %s: %s: stopped at row %d: %w", m.Source(), name, chunk[0].row, err)
		}
		for _, rec := range chunk {
			if rec.err != nil {
				var pe *csv.ParseError
				if !errors.As(rec.err, &pe) {
					return nil, fmt.Errorf("source %s: row %d: %w", m.Source(), rec.row, rec.err)
				}
				if pe.Line > pe.StartLine {
					// A stray quote swallowed every line after it into
					// one field: the file is garbled from there on, not
					// one bad row.
					return nil, &RowError{Location{Source: m.Source(), File: name, Row: pe.StartLine}, fmt.Errorf("%w: the quote opened on this line runs on to line %d", pe.Err, pe.Line)}
				}
				batch.Rejected = append(batch.Rejected, &RowError{Location{Source: m.Source(), File: name, Row: pe.StartLine}, pe.Err})
				continue
			}
			if col, err := checkText(rec.fields); err != nil {
				batch.Rejected = append(batch.Rejected, &RowError{Location{Source: m.Source(), File: name, Row: rec.row, Column: header[min(col, len(header)-1)]}, err})
				continue
			}
			if rec.row > lim.MaxRows+1 {
				return nil, fmt.Errorf("source %s: %s: more than %d rows: %w", m.Source(), name, lim.MaxRows, ErrLimit)
			}
			if b.AddRow(batch, rec.fields, rec.row) && len(batch.Observations) == sample && size > 0 {
				expect := int(float64(size) / float64(rec.offset) * sample * 1.05)
				batch.Observations = slices.Grow(batch.Observations, max(expect-sample, 0))
			}
			if err := m.Err(); err != nil {
				return nil, err
			}
		}
	}
	return batch, nil
}

// csvRecord is one record as the reader goroutine hands it over.
type csvRecord struct {
	fields []string
	row    int   // as the file shows it
	offset int64 // bytes read up to its end
	err    error
}

// csvHeader reads the header on line headerRow, skipping the title lines
// above it, and returns a copy of it and the line it is on.
func csvHeader(r *csv.Reader, name string, headerRow int) ([]string, int, error) {
	var header []string
	line := 0
	for line < headerRow {
		rec, err := r.Read()
		if err != nil {
			return nil, 0, fmt.Errorf("%s: reading the header on line %d: %w", name, headerRow, err)
		}
		header = append(header[:0], rec...)
		line, _ = r.FieldPos(0)
	}
	if col, err := checkText(header); err != nil {
		return nil, 0, &RowError{Location{File: name, Row: line, Column: strconv.Itoa(col + 1)}, err}
	}
	return header, line, nil
}

// atHeader puts a binding's error on the header's line: a Layout binds a
// header as if it were the file's first row.
func atHeader(err error, line int) error {
	var re *RowError
	if errors.As(err, &re) && re.Loc.Row == 1 {
		re.Loc.Row = line
	}
	return err
}

// readRecords reads cr's records, the first on line first, in chunks until
// the end of the input, an error that is not a parse error, or done
// closing. The fields of a chunk share one slice.
func readRecords(cr *csv.Reader, first int, done <-chan struct{}) <-chan []csvRecord {
	const chunkRecords = 512
	out := make(chan []csvRecord, 4)
	go func() {
		defer close(out)
		var chunk []csvRecord
		var fields []string
		send := func() bool {
			select {
			case out <- chunk:
				chunk, fields = nil, nil
				return true
			case <-done:
				return false
			}
		}
		for row := first; ; row++ {
			rec, err := cr.Read()
			if errors.Is(err, io.EOF) {
				break
			}
			if chunk == nil {
				chunk = make([]csvRecord, 0, chunkRecords)
				fields = make([]string, 0, chunkRecords*len(rec))
			}
			n := len(fields)
			fields = append(fields, rec...)
			chunk = append(chunk, csvRecord{fields: fields[n:len(fields):len(fields)], row: row, offset: cr.InputOffset(), err: err})
			if err != nil && !isParseError(err) {
				break // the mapping side reports it
			}
			if len(chunk) == chunkRecords && !send() {
				return
			}
		}
		if len(chunk) > 0 {
			send()
		}
	}()
	return out
}

func isParseError(err error) bool {
	var pe *csv.ParseError
	return errors.As(err, &pe)
}
