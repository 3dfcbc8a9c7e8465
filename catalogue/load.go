package catalogue

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/prometheus/common/model"
	"gopkg.in/yaml.v3"

	"github.com/kpiwatch/kpiwatch/internal/suggest"
)

// FieldError is one problem in a catalogue, located by field path and line.
type FieldError struct {
	File string
	Line int
	Path string
	Msg  string
	// First is the path of the entry this one repeats (a duplicate id), and
	// FirstLine its line, so that the message names both.
	First     string
	FirstLine int
}

func (e FieldError) Error() string {
	loc := e.File
	if e.Line > 0 {
		loc = fmt.Sprintf("%s:%d", e.File, e.Line)
	}
	msg := e.Msg
	if e.First != "" {
		msg += " (first at " + e.First
		if e.FirstLine > 0 {
			msg += fmt.Sprintf(", line %d", e.FirstLine)
		}
		msg += ")"
	}
	if e.Path == "" {
		return fmt.Sprintf("%s: %s", loc, msg)
	}
	return fmt.Sprintf("%s: %s: %s", loc, e.Path, msg)
}

// Errors is every problem found in one catalogue.
type Errors []FieldError

func (es Errors) Error() string {
	msgs := make([]string, len(es))
	for i, e := range es {
		msgs[i] = e.Error()
	}
	return strings.Join(msgs, "\n")
}

// SourceChecker validates a source's collector and its config; the collectors
// package supplies it, so that the catalogue does not depend on collectors.
// It returns problems with paths relative to the source (e.g. "config.path").
type SourceChecker func(src Source, dir fs.FS) []FieldError

// MaxBytes bounds a catalogue file: a national catalogue of every KPI by
// commune is a few megabytes.
const MaxBytes = 32 << 20

// maxAliasNodes bounds how many nodes a catalogue's aliases may add once
// expanded: a few kilobytes of nested aliases can stand for billions.
const maxAliasNodes = 1_000_000

// LoadFile reads and validates a catalogue file from disk.
func LoadFile(path string, check SourceChecker) (*Catalogue, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if fi, err := f.Stat(); err == nil && !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("%s is not a regular file (%s)", path, fi.Mode().Type())
	}
	data, err := io.ReadAll(io.LimitReader(f, MaxBytes+1))
	if err != nil {
		return nil, err
	}
	dir := filepath.Dir(path)
	c, err := Parse(filepath.Base(path), data, os.DirFS(dir), check)
	if c != nil {
		c.Dir = dir
	}
	return c, err
}

// Parse decodes and validates a catalogue named name; relative source paths
// resolve in dir. On any problem it returns Errors listing all of them.
func Parse(name string, data []byte, dir fs.FS, check SourceChecker) (*Catalogue, error) {
	if len(data) > MaxBytes {
		return nil, Errors{{File: name, Msg: fmt.Sprintf("more than %d bytes: not a catalogue", MaxBytes)}}
	}
	var root yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&root); errors.Is(err, io.EOF) {
		return nil, Errors{{File: name, Msg: "empty catalogue: the file holds no YAML document"}}
	} else if err != nil {
		return nil, Errors{{File: name, Line: yamlErrorLine(err), Msg: err.Error()}}
	}
	if len(root.Content) == 0 {
		return nil, Errors{{File: name, Msg: "empty catalogue: the file holds no YAML document"}}
	}
	var next yaml.Node
	if err := dec.Decode(&next); !errors.Is(err, io.EOF) {
		line := next.Line
		if err != nil {
			line = yamlErrorLine(err)
		}
		return nil, Errors{{File: name, Line: line, Msg: "a second YAML document (after ---): a catalogue is one document"}}
	}
	if written := nodes(root.Content[0]); expandedSize(root.Content[0], written+maxAliasNodes, map[*yaml.Node]int{}) > written+maxAliasNodes {
		return nil, Errors{{File: name, Msg: fmt.Sprintf("aliases expand to more than %d nodes: not a catalogue", maxAliasNodes)}}
	}
	lines := map[string]int{}
	var errs Errors
	strictWalk(root.Content[0], reflect.TypeOf(Catalogue{}), "", lines, &errs)
	// Decode even when the walk found problems: values that did not decode
	// stay zero, and the checks below still see everything else, so one run
	// reports every problem. A path the walk already reported is not
	// reported again.
	var c Catalogue
	_ = root.Content[0].Decode(&c)
	c.applyDefaults()
	reported := map[string]bool{}
	for _, e := range errs {
		reported[e.Path] = true
	}
	v := c.validate(dir, check)
	for _, e := range v.errs {
		if !reported[e.Path] {
			errs = append(errs, e)
		}
	}
	c.file, c.lines = name, lines
	if len(errs) > 0 {
		return nil, c.Locate(errs)
	}
	c.Warnings = c.Locate(v.warns)
	return &c, nil
}

// expandedSize is how many nodes n stands for with its aliases expanded,
// counted once per node and capped just above limit; an alias inside the
// node it refers to counts as over the limit.
func expandedSize(n *yaml.Node, limit int, memo map[*yaml.Node]int) int {
	if v, ok := memo[n]; ok {
		return v
	}
	memo[n] = limit + 1 // an alias to a node being counted stands for no end of nodes
	size := 1
	if n.Kind == yaml.AliasNode && n.Alias != nil {
		size = expandedSize(n.Alias, limit, memo)
	}
	for _, c := range n.Content {
		if size += expandedSize(c, limit, memo); size > limit {
			size = limit + 1
			break
		}
	}
	memo[n] = size
	return size
}

// nodes counts n's nodes as written, aliases unexpanded.
func nodes(n *yaml.Node) int {
	size := 1
	for _, c := range n.Content {
		size += nodes(c)
	}
	return size
}

// lineOf finds the line of path or, failing that, of its nearest parent.
func lineOf(lines map[string]int, path string) int {
	for path != "" {
		if l, ok := lines[path]; ok {
			return l
		}
		i := strings.LastIndexAny(path, ".[")
		if i < 0 {
			break
		}
		path = path[:i]
	}
	return 0
}

// Locate names the catalogue's file and the line of each problem's path
// (or of its nearest parent), ordered by line.
func (c *Catalogue) Locate(errs []FieldError) Errors {
	out := make(Errors, len(errs))
	for i, e := range errs {
		e.File = c.file
		if e.Line == 0 {
			e.Line = lineOf(c.lines, e.Path)
		}
		if e.First != "" && e.FirstLine == 0 {
			e.FirstLine = lineOf(c.lines, e.First)
		}
		out[i] = e
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Line < out[j].Line })
	return out
}

func yamlErrorLine(err error) int {
	var l int
	if _, scanErr := fmt.Sscanf(strings.TrimPrefix(err.Error(), "yaml: "), "line %d", &l); scanErr == nil {
		return l
	}
	return 0
}

var (
	unmarshalerType = reflect.TypeOf((*yaml.Unmarshaler)(nil)).Elem()
	nodeType        = reflect.TypeOf(yaml.Node{})
)

// strictWalk checks node against t: unknown keys, wrong shapes and scalars
// that do not decode are reported with their paths; every path's line is
// recorded for later errors.
// structFields maps the YAML keys of a struct to their types, the keys of
// its inline structs (`yaml:",inline"`) included.
func structFields(t reflect.Type, fields map[string]reflect.Type) {
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		tag := strings.Split(f.Tag.Get("yaml"), ",")
		switch {
		case slices.Contains(tag[1:], "inline") && f.Type.Kind() == reflect.Struct:
			structFields(f.Type, fields)
		case tag[0] != "" && tag[0] != "-":
			fields[tag[0]] = f.Type
		}
	}
}

func strictWalk(n *yaml.Node, t reflect.Type, path string, lines map[string]int, errs *Errors) {
	if path != "" {
		lines[path] = n.Line
	}
	if n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	if t == nodeType {
		recordLines(n, path, lines) // a collector's config, decoded later
		return
	}
	if reflect.PointerTo(t).Implements(unmarshalerType) || (t.Kind() != reflect.Struct && t.Kind() != reflect.Slice && t.Kind() != reflect.Map) {
		if err := n.Decode(reflect.New(t).Interface()); err != nil {
			*errs = append(*errs, FieldError{Path: path, Line: n.Line, Msg: cleanYAMLError(err)})
		}
		return
	}
	switch t.Kind() {
	case reflect.Struct:
		if n.Kind != yaml.MappingNode {
			*errs = append(*errs, FieldError{Path: path, Line: n.Line, Msg: "must be a mapping"})
			return
		}
		fields := map[string]reflect.Type{}
		structFields(t, fields)
		seen := map[string]bool{}
		for i := 0; i+1 < len(n.Content); i += 2 {
			key, val := n.Content[i].Value, n.Content[i+1]
			p := joinPath(path, key)
			ft, ok := fields[key]
			switch {
			case !ok:
				*errs = append(*errs, FieldError{Path: p, Line: n.Content[i].Line, Msg: "unknown field" + suggest.DidYouMean(key, slices.Collect(maps.Keys(fields)))})
			case seen[key]:
				*errs = append(*errs, FieldError{Path: p, Line: n.Content[i].Line, Msg: "duplicate field", First: p, FirstLine: keyLine(n, key)})
			default:
				strictWalk(val, ft, p, lines, errs)
			}
			seen[key] = true
		}
	case reflect.Slice:
		if n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
			return
		}
		if n.Kind != yaml.SequenceNode {
			*errs = append(*errs, FieldError{Path: path, Line: n.Line, Msg: "must be a list"})
			return
		}
		for i, item := range n.Content {
			strictWalk(item, t.Elem(), fmt.Sprintf("%s[%d]", path, i), lines, errs)
		}
	case reflect.Map:
		if n.Kind != yaml.MappingNode {
			*errs = append(*errs, FieldError{Path: path, Line: n.Line, Msg: "must be a mapping"})
			return
		}
		for i := 0; i+1 < len(n.Content); i += 2 {
			strictWalk(n.Content[i+1], t.Elem(), joinPath(path, n.Content[i].Value), lines, errs)
		}
	}
}

// keyLine is the line of key's first occurrence in the mapping n.
func keyLine(n *yaml.Node, key string) int {
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i].Line
		}
	}
	return 0
}

// recordLines records the line of every path under n.
func recordLines(n *yaml.Node, path string, lines map[string]int) {
	lines[path] = n.Line
	switch n.Kind {
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			p := joinPath(path, n.Content[i].Value)
			recordLines(n.Content[i+1], p, lines)
			lines[p] = n.Content[i].Line
		}
	case yaml.SequenceNode:
		for i, item := range n.Content {
			recordLines(item, fmt.Sprintf("%s[%d]", path, i), lines)
		}
	}
}

func joinPath(parent, key string) string {
	if parent == "" {
		return key
	}
	return parent + "." + key
}

func cleanYAMLError(err error) string {
	msg := err.Error()
	msg = strings.TrimPrefix(msg, "yaml: unmarshal errors:\n  ")
	if i := strings.Index(msg, ": "); i >= 0 && strings.HasPrefix(msg, "line ") {
		msg = msg[i+2:]
	}
	return msg
}

// UnmarshalYAML reads YYYY-MM-DD.
func (d *Date) UnmarshalYAML(n *yaml.Node) error {
	t, err := time.Parse(time.DateOnly, n.Value)
	if err != nil {
		return typeError("%q is not a date (want YYYY-MM-DD)", n.Value)
	}
	d.Time = t
	return nil
}

// typeError lets yaml.v3 carry on decoding the rest of the document, so
// every bad value is reported, not just the first.
func typeError(format string, args ...any) error {
	return &yaml.TypeError{Errors: []string{fmt.Sprintf(format, args...)}}
}

// MarshalYAML writes YYYY-MM-DD.
func (d Date) MarshalYAML() (any, error) { return d.Format(time.DateOnly), nil }

// String is YYYY-MM-DD.
func (d Date) String() string { return d.Format(time.DateOnly) }

// UnmarshalYAML reads a Prometheus duration such as 90s, 1h or 5d.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	v, err := model.ParseDuration(n.Value)
	if err != nil {
		return typeError("%q is not a duration (e.g. 30s, 1h, 5d)", n.Value)
	}
	*d = Duration(v)
	return nil
}

// MarshalYAML writes the duration as Prometheus does.
func (d Duration) MarshalYAML() (any, error) { return model.Duration(d).String(), nil }

// String formats the duration as Prometheus does (5d, 1h30m).
func (d Duration) String() string { return model.Duration(d).String() }

// Std is the duration as a time.Duration.
func (d Duration) Std() time.Duration { return time.Duration(d) }

// DecodeStrict decodes a collector's config node into out, reporting unknown
// keys and bad values with paths under prefix (e.g. "config").
func DecodeStrict(n *yaml.Node, out any, prefix string) []FieldError {
	if n == nil || n.Kind == 0 {
		return []FieldError{{Path: prefix, Msg: "missing"}}
	}
	var errs Errors
	strictWalk(n, reflect.TypeOf(out).Elem(), prefix, map[string]int{}, &errs)
	if len(errs) > 0 {
		return errs
	}
	if err := n.Decode(out); err != nil {
		return []FieldError{{Path: prefix, Line: n.Line, Msg: cleanYAMLError(err)}}
	}
	return nil
}
