package collectors

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"regexp"
	"slices"
	"strings"
	"sync/atomic"

	"github.com/kpiwatch/kpiwatch/catalogue"
)

// FileCounter is a collector that reads a folder or a glob of files: how
// many files its last read used, and how many it rejected.
type FileCounter interface {
	Files() (read, rejected int, ok bool)
}

// fileSet is a source's path: one file, a glob ("data/*/bao-cao-*.xlsx") or
// a folder (every file in it with one of exts). With a file-name pattern,
// its named groups are columns of every record of the file: "year" with
// "month", "quarter", "months" or "day" a column "period" (the period's
// last day), every other group a column of its own name ("province").
type fileSet struct {
	dir     fs.FS
	path    string
	exts    []string
	name    *regexp.Regexp
	period  *periodPattern
	counted atomic.Bool
	read    atomic.Int64
	reject  atomic.Int64
}

// FilePeriodColumn is the column a file-name pattern's period groups make.
const FilePeriodColumn = "period"

func newFileSet(dir fs.FS, name, fileName string, exts []string, prefix string) (*fileSet, []catalogue.FieldError) {
	fset := &fileSet{dir: dir, path: name, exts: exts}
	if fileName == "" {
		return fset, nil
	}
	if name == "" {
		return nil, []catalogue.FieldError{{Path: prefix + ".file_name", Msg: "only for a path (a folder or a glob of files)"}}
	}
	re, err := regexp.Compile(fileName)
	if err != nil {
		return nil, []catalogue.FieldError{{Path: prefix + ".file_name", Msg: err.Error()}}
	}
	fset.name = re
	if re.SubexpIndex("year") >= 0 {
		fset.period = &periodPattern{re}
	}
	return fset, nil
}

// Files reports the last read's files, when the path is a glob or a folder.
func (f *fileSet) Files() (read, rejected int, ok bool) {
	return int(f.read.Load()), int(f.reject.Load()), f.counted.Load()
}

// fsPath is where a configured path resolves: an absolute path in the root
// of the machine, a relative one in the catalogue's directory.
func fsPath(dir fs.FS, name string) (fs.FS, string, func(string) string) {
	if path.IsAbs(name) || dir == nil {
		abs := name
		if !path.IsAbs(abs) {
			wd, _ := os.Getwd()
			abs = path.Join(wd, name)
		}
		return os.DirFS("/"), strings.TrimPrefix(path.Clean(abs), "/"), func(p string) string { return "/" + p }
	}
	return dir, path.Clean(name), func(p string) string { return p }
}

// list names the files of a glob or a folder, in order; single is true for
// a path that is one file.
func (f *fileSet) list() (names []string, single bool, err error) {
	fsys, p, back := fsPath(f.dir, f.path)
	if strings.ContainsAny(f.path, "*?[") {
		matches, err := fs.Glob(fsys, p)
		if err != nil {
			return nil, false, fmt.Errorf("%s: %w", f.path, err)
		}
		for _, m := range matches {
			if fi, err := fs.Stat(fsys, m); err == nil && fi.Mode().IsRegular() {
				names = append(names, back(m))
			}
		}
		return names, false, nil
	}
	fi, err := fs.Stat(fsys, p)
	if err != nil {
		return nil, false, err
	}
	if !fi.IsDir() {
		return []string{f.path}, true, nil
	}
	entries, err := fs.ReadDir(fsys, p)
	if err != nil {
		return nil, false, err
	}
	for _, e := range entries {
		if e.Type().IsRegular() && slices.Contains(f.exts, strings.ToLower(path.Ext(e.Name()))) && !strings.HasPrefix(e.Name(), "~$") {
			names = append(names, back(path.Join(p, e.Name())))
		}
	}
	return names, false, nil
}

// collect reads every file with read, giving it the layout of that file
// (the source's, with the file name's columns). A file that cannot be read
// is rejected, named, and the others' data kept; a glob or folder with no
// file, or none that could be read, fails the refresh, and so does a file
// that changed while it was read (readUnchanged): the refresh would serve
// the folder without that file's rows.
//
// A rejected file counts as the data rows it held (rows, which reads the
// file again only to count them; at least one): a month of 95 communes
// dropped with its file weighs as 95 rejected rows against the source's
// max_rejected_ratio, not as one.
func (f *fileSet) collect(ctx context.Context, m *Mapper, l Layout, readFile func(name string, l Layout) (*Batch, error), rows func(name string) int) (*Batch, error) {
	read := func(name string, l Layout) (*Batch, error) {
		b, err := readUnchanged(f.dir, name, func() (*Batch, error) { return readFile(name, l) })
		if errors.Is(err, ErrChanged) {
			return nil, fmt.Errorf("source %s: %s: %w", m.Source(), name, err)
		}
		return b, err
	}
	names, single, err := f.list()
	if err != nil {
		return nil, fmt.Errorf("source %s: %w", m.Source(), err)
	}
	if single {
		fl, err := f.layout(l, names[0])
		if err != nil {
			return nil, &RowError{Location{Source: m.Source(), File: names[0]}, err}
		}
		return read(names[0], fl)
	}
	if len(names) == 0 {
		return nil, fmt.Errorf("source %s: no file matches %q", m.Source(), f.path)
	}
	batch := &Batch{}
	var rejected []error
	for _, name := range names {
		fl, err := f.layout(l, name)
		var b *Batch
		if err == nil {
			b, err = read(name, fl)
		}
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		if merr := m.Err(); merr != nil {
			return nil, merr
		}
		if errors.Is(err, ErrChanged) {
			return nil, err
		}
		if err != nil {
			if !strings.Contains(err.Error(), name) {
				err = &RowError{Location{Source: m.Source(), File: name}, err}
			}
			rejected = append(rejected, &FileError{Err: err, Rows: max(rows(name), 1)})
			continue
		}
		batch.Observations = append(batch.Observations, b.Observations...)
		batch.Tasks = append(batch.Tasks, b.Tasks...)
		batch.Rejected = append(batch.Rejected, b.Rejected...)
	}
	f.read.Store(int64(len(names) - len(rejected)))
	f.reject.Store(int64(len(rejected)))
	f.counted.Store(true)
	if len(rejected) == len(names) {
		return nil, fmt.Errorf("source %s: every one of %d files rejected, the first: %w", m.Source(), len(names), rejected[0].(*FileError).Err)
	}
	batch.Rejected = append(batch.Rejected, rejected...)
	return batch, nil
}

// FileError is a file of a folder or a glob rejected whole, with the data
// rows it held.
type FileError struct {
	Err  error
	Rows int
}

func (e *FileError) Error() string { return "file rejected: " + e.Err.Error() }
func (e *FileError) Unwrap() error { return e.Err }

// RejectedRows counts the rows errs rejected: one each, but a file rejected
// whole (a FileError) counts the data rows it held.
func RejectedRows(errs []error) int {
	n := 0
	for _, err := range errs {
		var fe *FileError
		if errors.As(err, &fe) {
			n += fe.Rows
		} else {
			n++
		}
	}
	return n
}

// layout is l with the columns the file's name gives.
func (f *fileSet) layout(l Layout, name string) (Layout, error) {
	if f.name == nil {
		return l, nil
	}
	base := path.Base(name)
	m := f.name.FindStringSubmatch(base)
	if m == nil {
		return nil, fmt.Errorf("the file name %q does not match file_name %q", base, f.name)
	}
	fl := &extraColumns{Layout: l}
	if f.period != nil {
		p, ok := f.period.period(base)
		if !ok {
			return nil, fmt.Errorf("the file name %q names no period", base)
		}
		fl.names = append(fl.names, FilePeriodColumn)
		fl.values = append(fl.values, p.last().Format("2006-01-02"))
	}
	for i, g := range f.name.SubexpNames() {
		if g != "" && !slices.Contains([]string{"year", "month", "quarter", "months", "day"}, g) {
			fl.names = append(fl.names, g)
			fl.values = append(fl.values, m[i])
		}
	}
	return fl, nil
}

// extraColumns is a layout whose records carry more columns than the table
// has: values the file's name (or a form's cells) give, the same in every
// record.
type extraColumns struct {
	Layout
	names, values []string
}

func (e *extraColumns) bind(m *Mapper, header []string, file string) (rowMapper, error) {
	for _, n := range e.names {
		if slices.Contains(header, n) {
			return nil, &RowError{Location{Source: m.source, File: file, Row: 1, Column: n}, fmt.Errorf("the table has a column %q too: rename the file-name group", n)}
		}
	}
	rm, err := e.Layout.bind(m, append(slices.Clip(header), e.names...), file)
	if err != nil {
		return nil, err
	}
	return &extraRows{rm, e.values, len(header), nil}, nil
}

type extraRows struct {
	rowMapper
	values []string
	width  int
	rec    []string
}

func (e *extraRows) AddRow(batch *Batch, cells []string, row int) bool {
	if len(cells) < e.width || strings.TrimSpace(strings.Join(cells, "")) == "" {
		return e.rowMapper.AddRow(batch, cells, row) // a short or blank row is reported, or skipped, as it is
	}
	e.rec = append(append(e.rec[:0], cells[:e.width]...), e.values...)
	return e.rowMapper.AddRow(batch, e.rec, row)
}
