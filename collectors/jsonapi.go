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
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

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
		return m.Err()
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
	data, err := readUnchanged(c.env.Dir, c.cfg.Path, func() ([]byte, error) {
		return io.ReadAll(NewBoundedReader(ctx, f, "", c.MaxBytes, 0))
	})
	if err != nil {
		return nil, err
	}
	return decodeJSON(data)
}

// decodeJSON decodes one JSON document, numbers kept exact. An object
// with a key twice is refused, naming the key, the object's path and the
// key's line and column: encoding/json would keep the last silently, and
// which of two figures a portal meant is not for a reader to guess.
//
// The text is UTF-8, as JSON must be: a byte-order mark (UTF-8, or UTF-16,
// which Windows tools still write) is read as textReader reads a CSV's, and
// text that is not UTF-8 is refused naming the encoding it looks like,
// where encoding/json would turn each bad byte into U+FFFD unseen.
func decodeJSON(data []byte) (any, error) {
	data, err := utf8Text(data)
	if err != nil {
		return nil, fmt.Errorf("not a JSON document: %w", err)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber() // gojq keeps integers exact
	var doc any
	if err := dec.Decode(&doc); err != nil {
		return nil, fmt.Errorf("not a JSON document: %w", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("not a JSON document: data after the first value")
	}
	if err := duplicateKey(data[:dec.InputOffset()]); err != nil {
		return nil, fmt.Errorf("not a JSON document: %w", err)
	}
	return doc, nil
}

// jsonFrame is an object or an array being scanned: the keys of an object
// so far (raw, or decoded when escaped) and the one being read, or an
// array's index.
type jsonFrame struct {
	object    bool
	expectKey bool
	keys      [][]byte
	key       []byte
	index     int
}

// duplicateKey scans a well-formed JSON document for an object with a key
// twice, and names the key, the object's path (as jq writes it) and the
// line and column of the second. It is a scan of the bytes apart from
// decoding (three times faster than building the document token by
// token): keys are compared without copying unless escaped ("\u0076alue"
// is "value").
func duplicateKey(data []byte) error {
	var stack []jsonFrame
	depth := 0 // frames in use; stack keeps the rest for reuse
	for i := 0; i < len(data); i++ {
		switch data[i] {
		case '{', '[':
			if depth == len(stack) {
				stack = append(stack, jsonFrame{})
			}
			f := &stack[depth]
			f.object, f.expectKey, f.keys, f.key, f.index = data[i] == '{', data[i] == '{', f.keys[:0], nil, 0
			depth++
		case '}', ']':
			depth--
		case ',':
			if f := &stack[depth-1]; f.object {
				f.expectKey = true
			} else {
				f.index++
			}
		case '"':
			start := i
			escaped := false
			for i++; data[i] != '"'; i++ {
				if data[i] == '\\' {
					escaped = true
					i++
				}
			}
			if depth == 0 || !stack[depth-1].object || !stack[depth-1].expectKey {
				continue
			}
			f := &stack[depth-1]
			key := data[start+1 : i]
			if escaped {
				var s string
				if err := json.Unmarshal(data[start:i+1], &s); err != nil {
					return err
				}
				key = []byte(s)
			}
			for _, k := range f.keys {
				if bytes.Equal(k, key) {
					line := bytes.Count(data[:start], []byte{'\n'}) + 1
					col := utf8.RuneCount(data[bytes.LastIndexByte(data[:start], '\n')+1:start]) + 1
					return fmt.Errorf("%s has the key %q twice (the second at line %d, column %d): which figure is meant is unknown", jsonPath(stack[:depth-1]), key, line, col)
				}
			}
			f.keys = append(f.keys, key)
			f.key, f.expectKey = key, false
		}
	}
	return nil
}

// jqKey is a key jq writes after a dot.
var jqKey = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// jsonPath is the path of the value the frames lead to, as jq writes it
// (.data[3]), or "the document" for the root.
func jsonPath(frames []jsonFrame) string {
	if len(frames) == 0 {
		return "the document"
	}
	var b strings.Builder
	for _, f := range frames {
		switch {
		case !f.object:
			fmt.Fprintf(&b, "[%d]", f.index)
		case jqKey.Match(f.key):
			b.WriteString("." + string(f.key))
		default:
			fmt.Fprintf(&b, "[%q]", f.key)
		}
	}
	return b.String()
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
