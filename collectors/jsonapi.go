package collectors

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"math/big"
	"slices"
	"strconv"

	"github.com/itchyny/gojq"
	"gopkg.in/yaml.v3"

	"github.com/kpiwatch/kpiwatch/catalogue"
)

func init() { Register("json", newJSONAPI) }

// jsonConfig is a JSON document fetched over HTTP, such as a portal's
// statistics endpoint, or read from a file, such as a portal's published
// export.
type jsonConfig struct {
	HTTPFile `yaml:",inline"`
	Path     string `yaml:"path"` // instead of url
	// Query is a jq expression that turns the document into rows: flat
	// objects, or arrays of them, whose keys are the mapping's columns.
	Query   string  `yaml:"query"`
	Mapping Mapping `yaml:"mapping"`
}

type jsonCollector struct {
	*fetcher
	cfg   jsonConfig
	env   Env
	query *gojq.Code
}

func newJSONAPI(node *yaml.Node, env Env) (Collector, []catalogue.FieldError) {
	var cfg jsonConfig
	if errs := catalogue.DecodeStrict(node, &cfg, "config"); errs != nil {
		return nil, errs
	}
	var errs []catalogue.FieldError
	add := func(p, msg string) { errs = append(errs, catalogue.FieldError{Path: "config." + p, Msg: msg}) }
	f, ferrs := newFetcher(cfg.HTTPFile, env, cfg.Path, "url", "application/json", "config")
	errs = append(errs, ferrs...)
	var code *gojq.Code
	if cfg.Query == "" {
		cfg.Query = "."
	}
	if q, err := gojq.Parse(cfg.Query); err != nil {
		add("query", fmt.Sprintf("not a jq expression: %v", err))
	} else if code, err = gojq.Compile(q); err != nil {
		add("query", err.Error())
	}
	errs = append(errs, cfg.Mapping.Check("config.mapping")...)
	if len(errs) > 0 {
		return nil, errs
	}
	return &jsonCollector{fetcher: f, cfg: cfg, env: env, query: code}, nil
}

func (c *jsonCollector) Collect(ctx context.Context, m *Mapper) (*Batch, error) {
	where, doc, err := c.document(ctx)
	if err != nil {
		return nil, fmt.Errorf("source %s: %w", m.Source(), err)
	}
	header := c.cfg.Mapping.Columns()
	b, err := m.Bind(c.cfg.Mapping, header, where)
	if err != nil {
		return nil, err
	}
	shapeErr := func(path string, format string, args ...any) error {
		return fmt.Errorf("source %s: %s: query %q: result%s %s", m.Source(), where, c.cfg.Query, path, fmt.Sprintf(format, args...))
	}
	batch := &Batch{}
	row := 0
	mapRow := func(v any, path string) error {
		obj, ok := v.(map[string]any)
		if !ok {
			return shapeErr(path, "is %s, want an object with keys %q", jsonKind(v), header)
		}
		row++
		cells := make([]string, len(header))
		for i, key := range header {
			val, ok := obj[key]
			if !ok {
				batch.Rejected = append(batch.Rejected, &RowError{Location{Source: m.Source(), File: where, Row: row, Column: key}, fmt.Errorf("result%s has no key %q (it has %q)", path, key, slices.Sorted(maps.Keys(obj)))})
				return nil
			}
			if cells[i], ok = jsonScalar(val, c.cfg.Mapping.Numbers); !ok {
				return shapeErr(path+"."+key, "is %s, want a string, number, boolean or null", jsonKind(val))
			}
		}
		batch.Add(b.Row(cells, row))
		return nil
	}
	iter := c.query.RunWithContext(ctx, doc)
	for n := 0; ; n++ {
		v, ok := iter.Next()
		if !ok {
			return batch, nil
		}
		if err, ok := v.(error); ok {
			return nil, fmt.Errorf("source %s: %s: query %q: %w", m.Source(), where, c.cfg.Query, err)
		}
		path := fmt.Sprintf("[%d]", n)
		if list, ok := v.([]any); ok {
			for i, item := range list {
				if err := mapRow(item, fmt.Sprintf("%s[%d]", path, i)); err != nil {
					return nil, err
				}
			}
			continue
		}
		if err := mapRow(v, path); err != nil {
			return nil, err
		}
	}
}

// document reads the file or fetches the URL and decodes it; where names
// the file or the URL (without credentials) in errors.
func (c *jsonCollector) document(ctx context.Context) (where string, doc any, err error) {
	if c.cfg.Path != "" {
		if doc, err = c.readFile(ctx); err != nil {
			return "", nil, fmt.Errorf("%s: %w", c.cfg.Path, err)
		}
		return c.cfg.Path, doc, nil
	}
	data, err := c.get(ctx)
	if err != nil {
		return "", nil, err
	}
	if doc, err = decodeJSON(data); err != nil {
		return "", nil, fmt.Errorf("%s %s: %w", c.Method, c.where(), err)
	}
	return c.where(), doc, nil
}

// readFile reads and decodes the file, reading at most max_bytes.
func (c *jsonCollector) readFile(ctx context.Context) (any, error) {
	f, err := OpenFile(c.env.Dir, c.cfg.Path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(NewBoundedReader(ctx, f, "", c.MaxBytes, 0))
	if err != nil {
		return nil, err
	}
	return decodeJSON(data)
}

// decodeJSON decodes one JSON document, numbers kept exact.
func decodeJSON(data []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber() // gojq keeps integers exact
	var doc any
	if err := dec.Decode(&doc); err != nil {
		return nil, fmt.Errorf("not a JSON document: %w", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("not a JSON document: data after the first value")
	}
	return doc, nil
}

// jsonScalar turns a value into a cell for the mapper: numbers in the
// source's number format, booleans as 1 and 0 (milestones), null as empty.
func jsonScalar(v any, nf NumberFormat) (string, bool) {
	switch v := v.(type) {
	case nil:
		return "", true
	case string:
		return v, true
	case bool:
		if v {
			return "1", true
		}
		return "0", true
	case int:
		return strconv.Itoa(v), true
	case float64:
		return FormatNumber(v, nf), true
	case json.Number:
		if f, err := v.Float64(); err == nil {
			return FormatNumber(f, nf), true
		}
		return v.String(), true // too large for a float64: its row is rejected
	case *big.Int:
		return v.String(), true
	}
	return "", false
}

func jsonKind(v any) string {
	switch v := v.(type) {
	case nil:
		return "null"
	case map[string]any:
		return "an object"
	case []any:
		return "an array"
	case string:
		return fmt.Sprintf("a string (%.40q)", v)
	case bool:
		return "a boolean"
	}
	return "a number"
}
