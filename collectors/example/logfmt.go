// Package example is a complete collector written in Go, as
// docs/collectors.md walks through: it reads a file of logfmt lines, one
// record per line (kpi=vneid_accounts province="Hà Nội" date=2025-10
// value=1058569), the form many services log their counters in.
//
// A collector is one file: a config struct decoded strictly, a factory
// registered under a name in init, and a Collect that reads records and
// hands each to the shared Mapper. The Mapper finds the KPI, matches
// provinces and owners, parses numbers and dates, and locates every bad
// row, so this file does none of that. Import the package for its side
// effect (import _ ".../collectors/example") in cmd/kpiwatch to make the
// collector available to catalogues.
package example

import (
	"context"
	"fmt"
	"io/fs"
	"slices"

	"github.com/go-logfmt/logfmt"
	"gopkg.in/yaml.v3"

	"github.com/kpiwatch/kpiwatch/catalogue"
	"github.com/kpiwatch/kpiwatch/collectors"
)

func init() { collectors.Register("logfmt", New) }

// config is what a source's config: node holds. Unknown keys are errors.
type config struct {
	Path string `yaml:"path"`
	// Mapping names the key of each field: the same mapping every tabular
	// collector embeds.
	Mapping collectors.Mapping `yaml:"mapping"`
}

type collector struct {
	cfg config
	dir fs.FS
	lim collectors.Limits
}

// New builds the collector of one source. It runs when a catalogue loads,
// so every mistake in the config is reported then, with its path.
func New(node *yaml.Node, env collectors.Env) (collectors.Collector, []catalogue.FieldError) {
	var cfg config
	if errs := catalogue.DecodeStrict(node, &cfg, "config"); errs != nil {
		return nil, errs
	}
	errs := cfg.Mapping.Check("config.mapping")
	if cfg.Path == "" {
		errs = append(errs, catalogue.FieldError{Path: "config.path", Msg: "required"})
	}
	if len(errs) > 0 {
		return nil, errs
	}
	return &collector{cfg: cfg, dir: env.Dir, lim: env.Limits}, nil
}

// Collect reads the whole file on each refresh. A file that cannot be read
// is an error (the exporter keeps the last good data); a bad line is a
// rejected row and the rest are still used.
func (c *collector) Collect(ctx context.Context, m *collectors.Mapper) (*collectors.Batch, error) {
	f, err := collectors.OpenFile(c.dir, c.cfg.Path)
	if err != nil {
		return nil, fmt.Errorf("source %s: %w", m.Source(), err)
	}
	defer f.Close()
	// Records bring no header of their own: the mapping's keys are the header.
	header := c.cfg.Mapping.Columns()
	b, err := m.Bind(c.cfg.Mapping, header, c.cfg.Path)
	if err != nil {
		return nil, err
	}
	batch := &collectors.Batch{}
	// Bounded: a huge or endless file fails at the limits, and the reading
	// stops once ctx ends.
	dec := logfmt.NewDecoder(collectors.NewBoundedReader(ctx, f, c.cfg.Path, c.lim.MaxBytes, c.lim.MaxLineBytes))
	for line := 1; dec.ScanRecord(); line++ {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		cells := make([]string, len(header))
		for dec.ScanKeyval() {
			if i := slices.Index(header, string(dec.Key())); i >= 0 {
				cells[i] = string(dec.Value())
			}
		}
		batch.Add(b.Row(cells, line))
	}
	if err := dec.Err(); err != nil {
		return nil, fmt.Errorf("source %s: %s: %w", m.Source(), c.cfg.Path, err)
	}
	return batch, nil
}
