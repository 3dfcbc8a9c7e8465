package units

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/kpiwatch/kpiwatch/internal/suggest"
)

// APIVersion and Kind head every units file.
const (
	APIVersion = "kpiwatch.io/v1"
	Kind       = "Units"
)

// maxBytes bounds a units file or level CSV: every commune of the country
// with its former ones is well under a megabyte.
const maxBytes = 16 << 20

// FileError is a problem in a units file or a level's CSV. Row and Column
// count from 1, the CSV's header being row 1; they are 0 when the problem
// is the file's as a whole.
type FileError struct {
	File   string
	Row    int
	Column int
	Header string // the column's header, when known
	Msg    string
}

func (e *FileError) Error() string {
	switch {
	case e.Row == 0:
		return fmt.Sprintf("%s: %s", e.File, e.Msg)
	case e.Column == 0:
		return fmt.Sprintf("%s: row %d: %s", e.File, e.Row, e.Msg)
	case e.Header != "":
		return fmt.Sprintf("%s: row %d, column %d (%s): %s", e.File, e.Row, e.Column, e.Header, e.Msg)
	}
	return fmt.Sprintf("%s: row %d, column %d: %s", e.File, e.Row, e.Column, e.Msg)
}

type file struct {
	APIVersion string `yaml:"apiVersion"`
	Kind       string `yaml:"kind"`
	Whole      struct {
		Name   string `yaml:"name"`
		NameVI string `yaml:"name_vi"`
		NameEN string `yaml:"name_en"`
	} `yaml:"whole"`
	Levels []struct {
		Name   string `yaml:"name"`
		NameVI string `yaml:"name_vi"`
		NameEN string `yaml:"name_en"`
		File   string `yaml:"file"`
		Parent string `yaml:"parent"`
	} `yaml:"levels"`
}

// Load reads a units file (docs/units.md) and the CSVs it names.
func Load(name string) (*Set, error) {
	dir, base := filepath.Split(name)
	s, err := LoadFS(os.DirFS(filepath.Clean(dir)), base)
	if fe := (*FileError)(nil); errors.As(err, &fe) && dir != "" {
		fe.File = filepath.Join(dir, filepath.FromSlash(fe.File))
	}
	return s, err
}

// LoadFS is Load from fsys; errors name files by their path in fsys.
func LoadFS(fsys fs.FS, name string) (*Set, error) {
	data, err := readAll(fsys, name)
	if err != nil {
		return nil, &FileError{File: name, Msg: err.Error()}
	}
	var f file
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&f); err != nil {
		return nil, &FileError{File: name, Msg: strings.TrimPrefix(err.Error(), "yaml: ")}
	}
	bad := func(format string, args ...any) error {
		return &FileError{File: name, Msg: fmt.Sprintf(format, args...)}
	}
	switch {
	case f.APIVersion != APIVersion:
		return nil, bad("apiVersion: %q, want %q", f.APIVersion, APIVersion)
	case f.Kind != Kind:
		return nil, bad("kind: %q, want %q", f.Kind, Kind)
	case f.Whole.Name == "" || f.Whole.NameVI == "" || f.Whole.NameEN == "":
		return nil, bad("whole: name, name_vi and name_en are required")
	case len(f.Levels) == 0:
		return nil, bad("levels: none listed")
	}
	s := &Set{Whole: Whole(f.Whole)}
	for i, lf := range f.Levels {
		p := fmt.Sprintf("levels[%d]", i)
		switch {
		case !labelName.MatchString(lf.Name):
			return nil, bad("%s.name: %q is not a label name (letters, digits and _, not first a digit)", p, lf.Name)
		case s.Level(lf.Name) != nil:
			return nil, bad("%s.name: %q is listed twice", p, lf.Name)
		case lf.NameVI == "" || lf.NameEN == "":
			return nil, bad("%s: name_vi and name_en are required", p)
		case lf.File == "":
			return nil, bad("%s.file: required", p)
		}
		var parent *Level
		if lf.Parent != "" {
			// A parent is an earlier level of this file, or the default's.
			if parent = s.Level(lf.Parent); parent == nil {
				parent = Default().Level(lf.Parent)
			}
			if parent == nil || lf.Parent == lf.Name {
				return nil, bad("%s.parent: %q is no level listed before it nor the default's%s", p, lf.Parent, suggest.DidYouMean(lf.Parent, levelNames(s)))
			}
		}
		l := &Level{Name: lf.Name, NameVI: lf.NameVI, NameEN: lf.NameEN, Parent: lf.Parent}
		if err := l.read(fsys, path.Join(path.Dir(name), lf.File), parent); err != nil {
			return nil, err
		}
		s.Levels = append(s.Levels, l)
	}
	return s, nil
}

func levelNames(s *Set) []string {
	names := []string{"province"}
	for _, l := range s.Levels {
		names = append(names, l.Name)
	}
	return names
}

var labelName = regexp.MustCompile(`^[a-zA-Z_][a-zA-Z0-9_]*$`)

func readAll(fsys fs.FS, name string) ([]byte, error) {
	f, err := fsys.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxBytes+1))
	if err == nil && len(data) > maxBytes {
		err = fmt.Errorf("larger than %d bytes", maxBytes)
	}
	return data, err
}

// columns of a level's CSV, and whether each is required.
var columns = map[string]bool{"code": true, "name": true, "name_vi": true, "aliases": false, "parent": false, "merged_into": false, "merged_on": false}

// read fills l.Units from the level's CSV, resolving parent codes in parent.
func (l *Level) read(fsys fs.FS, name string, parent *Level) error {
	data, err := readAll(fsys, name)
	if err != nil {
		return &FileError{File: name, Msg: err.Error()}
	}
	r := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(data, []byte("\ufeff"))))
	rows, err := r.ReadAll()
	if pe := (*csv.ParseError)(nil); errors.As(err, &pe) {
		return &FileError{File: name, Row: pe.Line, Column: pe.Column, Msg: pe.Err.Error()}
	} else if err != nil {
		return &FileError{File: name, Msg: err.Error()}
	}
	if len(rows) < 2 {
		return &FileError{File: name, Msg: "no units: a header row and one row per unit are needed"}
	}
	col := map[string]int{}
	for i, h := range rows[0] {
		h = strings.TrimSpace(h)
		if _, known := columns[h]; !known {
			return &FileError{File: name, Row: 1, Column: i + 1, Msg: fmt.Sprintf("unknown column %q%s", h, suggest.DidYouMean(h, slices.Collect(maps.Keys(columns))))}
		}
		if _, dup := col[h]; dup {
			return &FileError{File: name, Row: 1, Column: i + 1, Msg: fmt.Sprintf("column %q twice", h)}
		}
		col[h] = i
	}
	for c, required := range columns {
		if _, ok := col[c]; required && !ok {
			return &FileError{File: name, Row: 1, Msg: fmt.Sprintf("no column %q", c)}
		}
	}
	cell := func(row []string, c string) string {
		if i, ok := col[c]; ok {
			return strings.TrimSpace(row[i])
		}
		return ""
	}
	fail := func(row int, c, format string, args ...any) error {
		return &FileError{File: name, Row: row + 1, Column: col[c] + 1, Header: c, Msg: fmt.Sprintf(format, args...)}
	}
	byCode, byName := map[string]int{}, map[string]int{}
	for i, row := range rows[1:] {
		n := i + 1
		u := Unit{Code: cell(row, "code"), Name: cell(row, "name"), NameVI: cell(row, "name_vi"), Aliases: splitList(cell(row, "aliases"))}
		switch j, dup := byCode[u.Code]; {
		case u.Code == "":
			return fail(n, "code", "empty")
		case dup:
			return fail(n, "code", "%q is also row %d's", u.Code, j+1)
		case u.Name == "":
			return fail(n, "name", "empty")
		case byName[u.Name] > 0:
			return fail(n, "name", "%q is also row %d's", u.Name, byName[u.Name]+1)
		case u.NameVI == "":
			return fail(n, "name_vi", "empty")
		}
		byCode[u.Code], byName[u.Name] = n, n
		switch pc := cell(row, "parent"); {
		case parent == nil && pc != "":
			return fail(n, "parent", "%q, but the level has no parent level", pc)
		case parent != nil && pc == "":
			return fail(n, "parent", "empty: the code of the unit's %s is needed", parent.Name)
		case parent != nil:
			pu, ok := parent.byCode(pc)
			if !ok {
				return fail(n, "parent", "no %s is coded %q", parent.Name, pc)
			}
			u.Parent = pu.Name
		}
		if on := cell(row, "merged_on"); on != "" {
			t, err := time.Parse(time.DateOnly, on)
			if err != nil {
				return fail(n, "merged_on", "%q is not a date (YYYY-MM-DD)", on)
			}
			u.MergedOn = t
		}
		switch into := cell(row, "merged_into"); {
		case into != "" && u.MergedOn.IsZero():
			return fail(n, "merged_on", "empty: the day of the merger into %q is needed", into)
		case into == "" && !u.MergedOn.IsZero():
			return fail(n, "merged_on", "set, but merged_into is empty")
		case into == u.Code:
			return fail(n, "merged_into", "the unit itself")
		}
		l.Units = append(l.Units, u)
	}
	// merged_into names a code that may come on a later row.
	for i, row := range rows[1:] {
		if into := cell(row, "merged_into"); into != "" {
			j, ok := byCode[into]
			if !ok {
				return fail(i+1, "merged_into", "no unit of the level is coded %q", into)
			}
			l.Units[i].MergedInto = l.Units[j-1].Name
		}
	}
	sortUnits(l.Units)
	if err := l.index(); err != nil {
		return &FileError{File: name, Msg: err.Error()}
	}
	return nil
}

// byCode is the unit coded code, one in force rather than a former one
// (the default's 2008 and 2025 codes overlap).
func (l *Level) byCode(code string) (Unit, bool) {
	i := slices.IndexFunc(l.Units, func(u Unit) bool { return u.Code == code && u.Current() })
	if i < 0 {
		i = slices.IndexFunc(l.Units, func(u Unit) bool { return u.Code == code })
	}
	if i < 0 {
		return Unit{}, false
	}
	return l.Units[i], true
}
