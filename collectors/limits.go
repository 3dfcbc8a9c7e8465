package collectors

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"time"
)

// Limits bound what one refresh of a source may read, so that no file,
// response or workbook can grow the process without bound or keep it busy
// after its timeout. The zero value of a field means its default.
type Limits struct {
	// MaxBytes bounds the bytes read from one file or response.
	MaxBytes int64
	// MaxLineBytes bounds one line of a text file (a CSV row).
	MaxLineBytes int64
	// MaxRows bounds the records of one refresh.
	MaxRows int
	// MaxCells bounds the cells of one row.
	MaxCells int
	// MaxInflated bounds the unzipped bytes of a workbook's parts together
	// (a 1 MB file can inflate to gigabytes).
	MaxInflated int64
	// MaxXMLDepth bounds the nesting of a workbook's XML.
	MaxXMLDepth int
}

// DefaultLimits hold a national report by commune (a few hundred
// megabytes, millions of rows) with room to spare, and nothing much larger.
var DefaultLimits = Limits{
	MaxBytes:     1 << 30,
	MaxLineBytes: 1 << 20,
	MaxRows:      20_000_000,
	MaxCells:     16384, // Excel's widest sheet
	MaxInflated:  2 << 30,
	MaxXMLDepth:  64,
}

// WithDefaults fills in the fields left zero.
func (l Limits) WithDefaults() Limits {
	d := DefaultLimits
	if l.MaxBytes > 0 {
		d.MaxBytes = l.MaxBytes
	}
	if l.MaxLineBytes > 0 {
		d.MaxLineBytes = l.MaxLineBytes
	}
	if l.MaxRows > 0 {
		d.MaxRows = l.MaxRows
	}
	if l.MaxCells > 0 {
		d.MaxCells = l.MaxCells
	}
	if l.MaxInflated > 0 {
		d.MaxInflated = l.MaxInflated
	}
	if l.MaxXMLDepth > 0 {
		d.MaxXMLDepth = l.MaxXMLDepth
	}
	return d
}

// ErrLimit is wrapped by every error of a read that went over a limit.
var ErrLimit = errors.New("over the limit")

// BoundedReader reads one file or response for one refresh: each Read first
// checks ctx, so a parser reading from it stops soon after the refresh's
// deadline, and reading more than maxBytes in total, or a line longer than
// maxLine (0: no line bound), fails with ErrLimit. Errors start with where
// (if not empty), which must already be redacted (redact.URL).
type BoundedReader struct {
	ctx             context.Context
	r               io.Reader
	where           string
	maxBytes        int64
	maxLine         int64
	read, lineBytes int64
	line            int // lines ended so far
}

// NewBoundedReader wraps r; see BoundedReader.
func NewBoundedReader(ctx context.Context, r io.Reader, where string, maxBytes, maxLine int64) *BoundedReader {
	return &BoundedReader{ctx: ctx, r: r, where: where, maxBytes: maxBytes, maxLine: maxLine}
}

func (b *BoundedReader) Read(p []byte) (int, error) {
	if err := b.ctx.Err(); err != nil {
		return 0, b.fail("stopped after %d bytes: %w", b.read, err)
	}
	if int64(len(p)) > b.maxBytes-b.read+1 {
		p = p[:b.maxBytes-b.read+1]
	}
	n, err := b.r.Read(p)
	b.read += int64(n)
	if b.read > b.maxBytes {
		return n, b.fail("more than %d bytes: %w", b.maxBytes, ErrLimit)
	}
	if b.maxLine > 0 {
		chunk := p[:n]
		if i := bytes.LastIndexByte(chunk, '\n'); i >= 0 {
			b.line += bytes.Count(chunk, []byte{'\n'})
			b.lineBytes = int64(len(chunk) - i - 1)
		} else {
			b.lineBytes += int64(n)
		}
		if b.lineBytes > b.maxLine {
			return n, b.fail("line %d is longer than %d bytes: %w", b.line+1, b.maxLine, ErrLimit)
		}
	}
	return n, err
}

// fail is an error prefixed with where, if set.
func (b *BoundedReader) fail(format string, args ...any) error {
	if b.where == "" {
		return fmt.Errorf(format, args...)
	}
	return fmt.Errorf(b.where+": "+format, args...)
}

// OpenFile opens a path from a source's config: an absolute path as it is,
// a relative one in the catalogue's directory. Only regular files open: a
// device such as /dev/zero never ends, and a FIFO with no writer blocks the
// opening thread for ever.
func OpenFile(dir fs.FS, name string) (fs.File, error) {
	fi, err := statFile(dir, name)
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("%s is not a regular file (%s)", name, fi.Mode().Type())
	}
	if filepath.IsAbs(name) || dir == nil {
		return os.Open(name)
	}
	return dir.Open(name)
}

// statFile stats a path from a source's config, resolved as OpenFile does.
func statFile(dir fs.FS, name string) (fs.FileInfo, error) {
	if filepath.IsAbs(name) || dir == nil {
		return os.Stat(name)
	}
	return fs.Stat(dir, name)
}

// ErrChanged is wrapped by the error of a read during which its file
// changed; the error does not name the file, its caller does.
var ErrChanged = errors.New("changed while it was read")

// readUnchanged runs read, which reads the file name, and accepts what it
// read only if the file has the same size and modification time after the
// read as before it: a report being written in place (copied in, saved
// over, uploaded) is read half-written otherwise, and its first rows would
// be served as the whole. A file that changed is an error wrapping
// ErrChanged, whatever read made of it; the refresh fails, the last good
// data stays, and the next refresh reads the file as it then is.
func readUnchanged[T any](dir fs.FS, name string, read func() (T, error)) (T, error) {
	var zero T
	fi, err := statFile(dir, name)
	if err != nil {
		return zero, err
	}
	// Kept as values: an fs.FS may give a FileInfo that reads the file's
	// current state (fstest.MapFS does).
	size, mtime := fi.Size(), fi.ModTime()
	v, err := read()
	after, serr := statFile(dir, name)
	switch {
	case serr != nil:
		return zero, fmt.Errorf("%w (%v): it is read again at the next refresh", ErrChanged, serr)
	case after.Size() != size || !after.ModTime().Equal(mtime):
		return zero, fmt.Errorf("%w (%d bytes modified %s, then %d bytes modified %s): a file being written is read at the next refresh; "+
			"writers should write to a temporary name and rename it", ErrChanged,
			size, mtime.Format(time.RFC3339Nano), after.Size(), after.ModTime().Format(time.RFC3339Nano))
	}
	return v, err
}
