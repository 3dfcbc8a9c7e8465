package collectors

import (
	"bufio"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"slices"

	"gopkg.in/yaml.v3"

	"github.com/kpiwatch/kpiwatch/catalogue"
)

func init() { Register("csv", newCSV) }

// csvConfig is a CSV source: a file as a ministry sends it.
type csvConfig struct {
	Path string `yaml:"path"`
	// Delimiter is one character; reports often use ";" where "," is the
	// decimal separator.
	Delimiter string  `yaml:"delimiter"`
	Mapping   Mapping `yaml:"mapping"`
}

type csvCollector struct {
	cfg csvConfig
	dir fs.FS
	sep rune
}

func newCSV(node *yaml.Node, env Env) (Collector, []catalogue.FieldError) {
	var cfg csvConfig
	if errs := catalogue.DecodeStrict(node, &cfg, "config"); errs != nil {
		return nil, errs
	}
	var errs []catalogue.FieldError
	if cfg.Path == "" {
		errs = append(errs, catalogue.FieldError{Path: "config.path", Msg: "required"})
	}
	sep, ok := csvDelimiter(cfg.Delimiter)
	if !ok {
		errs = append(errs, catalogue.FieldError{Path: "config.delimiter", Msg: fmt.Sprintf("%q must be one character other than a quote or newline", cfg.Delimiter)})
	}
	errs = append(errs, cfg.Mapping.Check("config.mapping")...)
	if len(errs) > 0 {
		return nil, errs
	}
	return &csvCollector{cfg: cfg, dir: env.Dir, sep: sep}, nil
}

func (c *csvCollector) Collect(ctx context.Context, m *Mapper) (*Batch, error) {
	f, err := OpenFile(c.dir, c.cfg.Path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return ReadCSV(ctx, f, c.cfg.Path, c.sep, c.cfg.Mapping, m)
}

// ReadCSV maps every row of a CSV stream. Rows that cannot be used are
// returned in Batch.Rejected; a stream that cannot be read at all is an error.
func ReadCSV(ctx context.Context, r io.Reader, name string, sep rune, mp Mapping, m *Mapper) (*Batch, error) {
	br := bufio.NewReaderSize(r, 1<<16)
	if bom, err := br.Peek(3); err == nil && string(bom) == "\ufeff" {
		_, _ = br.Discard(3)
	}
	cr := csv.NewReader(br)
	cr.Comma = sep
	cr.FieldsPerRecord = -1 // short rows are reported by the mapper, not fatal
	cr.ReuseRecord = true
	header, err := cr.Read()
	if err != nil {
		return nil, fmt.Errorf("source %s: %s: reading the header: %w", m.Source(), name, err)
	}
	header = append([]string(nil), header...)
	b, err := m.Bind(mp, header, name)
	if err != nil {
		return nil, err
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
	for row := 2; ; row++ {
		if row%4096 == 0 && ctx.Err() != nil {
			return nil, ctx.Err()
		}
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				batch.Rejected = append(batch.Rejected, &RowError{Location{Source: m.Source(), File: name, Row: pe.Line}, pe.Err})
				continue
			}
			return nil, fmt.Errorf("source %s: %s: row %d: %w", m.Source(), name, row, err)
		}
		obs, skip, err := b.Row(rec, row)
		switch {
		case err != nil:
			batch.Rejected = append(batch.Rejected, err)
		case !skip:
			batch.Observations = append(batch.Observations, obs)
			if len(batch.Observations) == sample && size > 0 {
				expect := int(float64(size) / float64(cr.InputOffset()) * sample * 1.05)
				batch.Observations = slices.Grow(batch.Observations, max(expect-sample, 0))
			}
		}
	}
	return batch, nil
}
