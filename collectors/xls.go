package collectors

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
)

// No Go module the proxy serves reads legacy .xls (BIFF8) workbooks well
// enough (see docs/collectors.md, "Legacy .xls workbooks"): such a file is
// recognised by its compound-file signature and refused with what to do,
// rather than reported as a damaged .xlsx.

// oleSignature starts every compound file: .xls, .doc, and .xlsx files
// encrypted with a password.
var oleSignature = []byte{0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1}

// errLegacyWorkbook explains a compound file where an .xlsx belongs.
var errLegacyWorkbook = errors.New("a legacy .xls (BIFF) workbook, or a password-protected one: " +
	"convert it to .xlsx first (soffice --headless --convert-to xlsx; see docs/collectors.md)")

// legacyWorkbook reports whether the file is a compound file.
func legacyWorkbook(dir fs.FS, name string) bool {
	f, err := OpenFile(dir, name)
	if err != nil {
		return false
	}
	defer f.Close()
	head := make([]byte, len(oleSignature))
	_, err = io.ReadFull(f, head)
	return err == nil && bytes.Equal(head, oleSignature)
}

// openWorkbook opens a workbook's sheet for a source, telling a legacy .xls
// from a damaged .xlsx.
func openWorkbook(ctx context.Context, m *Mapper, dir fs.FS, name string, spec sheetSpec, lim Limits) (*sheetTable, error) {
	sheet, err := openSheet(ctx, dir, name, spec, lim)
	if err != nil && legacyWorkbook(dir, name) {
		err = &RowError{Location{Source: m.Source(), File: name}, errLegacyWorkbook}
	}
	if err != nil {
		return nil, fmt.Errorf("source %s: %w", m.Source(), err)
	}
	return sheet, nil
}
