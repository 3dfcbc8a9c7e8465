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
	d := &jsonDecoder{dec: json.NewDecoder(bytes.NewReader(data)), data: data}
	d.dec.UseNumber() // gojq keeps integers exact
	doc, err := d.value()
	if err != nil {
		return nil, fmt.Errorf("not a JSON document: %w", err)
	}
	if _, err := d.dec.Token(); err != io.EOF {
		return nil, errors.New("not a JSON document: data after the first value")
	}
	return doc, nil
}

// maxJSONDepth bounds the nesting of a document, as encoding/json does.
const maxJSONDepth = 10000

// jsonDecoder builds a document token by token, as encoding/json would
// decode it into an any, keeping the path to the value being read.
type jsonDecoder struct {
	dec  *json.Decoder
	data []byte
	path []any // keys and indexes from the root
}

// token is the next token; the document may not end before its value does.
func (d *jsonDecoder) token() (json.Token, error) {
	tok, err := d.dec.Token()
	if errors.Is(err, io.EOF) {
		err = io.ErrUnexpectedEOF
	}
	return tok, err
}

func (d *jsonDecoder) value() (any, error) {
	tok, err := d.token()
	if err != nil {
		return nil, err
	}
	delim, ok := tok.(json.Delim)
	if !ok {
		return tok, nil // a string, json.Number, bool or nil
	}
	if len(d.path) >= maxJSONDepth {
		return nil, fmt.Errorf("%s: nested deeper than %d: %w", d.where(), maxJSONDepth, ErrLimit)
	}
	var v any
	if delim == '{' {
		obj := map[string]any{}
		for d.dec.More() {
			tok, err := d.token()
			if err != nil {
				return nil, err
			}
			key := tok.(string) // the decoder allows nothing else here
			if _, dup := obj[key]; dup {
				line, col := d.keyPlace()
				return nil, fmt.Errorf("%s has the key %q twice (the second at line %d, column %d): which figure is meant is unknown", d.where(), key, line, col)
			}
			d.path = append(d.path, key)
			if obj[key], err = d.value(); err != nil {
				return nil, err
			}
			d.path = d.path[:len(d.path)-1]
		}
		v = obj
	} else {
		list := []any{}
		for i := 0; d.dec.More(); i++ {
			d.path = append(d.path, i)
			item, err := d.value()
			if err != nil {
				return nil, err
			}
			d.path = d.path[:len(d.path)-1]
			list = append(list, item)
		}
		v = list
	}
	if _, err := d.token(); err != nil { // the closing delimiter
		return nil, err
	}
	return v, nil
}

// jqKey is a key jq writes after a dot.
var jqKey = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// where is the path of the value being read, as jq writes it: .data[3].
func (d *jsonDecoder) where() string {
	if len(d.path) == 0 {
		return "the document"
	}
	var b strings.Builder
	for _, p := range d.path {
		switch p := p.(type) {
		case int:
			fmt.Fprintf(&b, "[%d]", p)
		case string:
			if jqKey.MatchString(p) {
				b.WriteString("." + p)
			} else {
				fmt.Fprintf(&b, "[%q]", p)
			}
		}
	}
	return b.String()
}

// keyPlace is the line and column (in characters, from 1, as an editor
// shows them) where the key just read opens.
func (d *jsonDecoder) keyPlace() (line, col int) {
	end := int(d.dec.InputOffset()) - 1 // the key's closing quote
	start := end - 1
	for ; start > 0; start-- {
		if d.data[start] != '"' {
			continue
		}
		escapes := 0
		for i := start - 1; i >= 0 && d.data[i] == '\\'; i-- {
			escapes++
		}
		if escapes%2 == 0 {
			break
		}
	}
	before := d.data[:max(start, 0)]
	line = bytes.Count(before, []byte{'\n'}) + 1
	return line, utf8.RuneCount(before[bytes.LastIndexByte(before, '\n')+1:]) + 1
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
		f, err := v.Float64()
		return FormatNumber(f, nf), err == nil
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
