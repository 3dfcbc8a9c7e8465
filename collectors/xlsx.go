package collectors

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"strconv"
	"strings"
	"time"
)

// The Excel reader streams a worksheet's XML straight from the workbook's
// zip, one row at a time, so a 100,000-row sheet is never held whole.
// excelize's row iterator streams too but gives cells as strings only, and
// a Vietnamese report needs each cell's type: the number cell 850.000 (850)
// and the text cell "850.000" (850000) look the same as strings.

// maxHeldXML bounds the unzipped parts that are held in memory whole (the
// shared strings, the workbook, its styles), within Limits.MaxInflated.
const maxHeldXML = 256 << 20

// sheetTable streams one table of a workbook: the header, then data rows.
type sheetTable struct {
	ctx     context.Context
	lim     Limits
	zip     *zip.Reader
	file    fs.File
	rc      io.ReadCloser
	dec     *xml.Decoder
	strings []string // the shared strings
	spec    sheetSpec
	name    string
	header  []string
	row     int    // the row last read
	numbers []bool // per cell of the row last read: a number cell
	pending *xml.StartElement
	// open are the elements of the sheet entered and not yet left, to
	// check that tags match and nesting is bounded (RawToken checks
	// neither).
	openEls []string
	// dateStyles marks the cell styles that show a number as a date;
	// date1904 is the date system of workbooks made on old Macs.
	dateStyles []bool
	date1904   bool
}

// openSheet opens a workbook and reads its table's header. spec must have
// passed check, which fills in its defaults. Every read is bounded by lim
// and stops once ctx ends.
func openSheet(ctx context.Context, dir fs.FS, name string, spec sheetSpec, lim Limits) (*sheetTable, error) {
	f, err := OpenFile(dir, name)
	if err != nil {
		return nil, err
	}
	t := &sheetTable{ctx: ctx, lim: lim.WithDefaults(), file: f, spec: spec, name: name}
	if err := t.open(); err != nil {
		_ = t.Close()
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return t, nil
}

func (t *sheetTable) open() error {
	z, err := openZip(t.ctx, t.file, t.name, t.lim.MaxBytes)
	if err != nil {
		return fmt.Errorf("not a workbook (.xlsx): %w", err)
	}
	t.zip = z
	sheets, date1904, err := t.workbookSheets()
	if err != nil {
		return fmt.Errorf("not a workbook (.xlsx): %w", err)
	}
	t.date1904 = date1904
	sheet, err := pickSheet(sheets, t.spec)
	if err != nil {
		return err
	}
	if t.strings, err = t.sharedStrings(); err != nil {
		return fmt.Errorf("shared strings: %w", err)
	}
	if t.dateStyles, err = t.readDateStyles(); err != nil {
		return fmt.Errorf("styles: %w", err)
	}
	if t.rc, err = t.part(sheet.path, t.lim.MaxInflated); err != nil {
		return fmt.Errorf("sheet %q: %w", sheet.name, err)
	}
	t.dec = xml.NewDecoder(t.rc)
	t.name += " [" + sheet.name + "]"
	var header [][]string
	last := t.spec.HeaderRow + t.spec.HeaderRows - 1
	for t.row < last {
		cells, err := t.readRow()
		if errors.Is(err, io.EOF) {
			return fmt.Errorf("sheet %q ends before its header row %d", sheet.name, last)
		}
		if err != nil {
			return err
		}
		if t.row >= t.spec.HeaderRow {
			header = append(header, cells)
		}
	}
	t.header = combineHeader(header)
	return nil
}

// Header is the table's header, one label per column.
func (t *sheetTable) Header() []string { return t.header }

// Next returns the next data row, padded to the header's width, and its
// number as Excel shows it; io.EOF after the last.
func (t *sheetTable) Next() ([]string, int, error) {
	for {
		if t.spec.LastRow > 0 && t.row >= t.spec.LastRow {
			return nil, t.row, io.EOF
		}
		if t.row >= t.lim.MaxRows {
			return nil, t.row, fmt.Errorf("%s: more than %d rows: %w", t.name, t.lim.MaxRows, ErrLimit)
		}
		if t.row%256 == 0 && t.ctx.Err() != nil {
			return nil, t.row, fmt.Errorf("%s: stopped at row %d: %w", t.name, t.row, t.ctx.Err())
		}
		cells, err := t.readRow()
		if err != nil {
			if !errors.Is(err, io.EOF) {
				err = fmt.Errorf("%s: row %d: %w", t.name, t.row, err)
			}
			return nil, t.row, err
		}
		if t.row < t.spec.FirstRow {
			continue
		}
		for len(cells) < len(t.header) {
			cells = append(cells, "")
		}
		return cells, t.row, nil
	}
}

// Number is true when cell i of the row last read is a number cell.
func (t *sheetTable) Number(i int) bool { return i < len(t.numbers) && t.numbers[i] }

// Close releases the workbook.
func (t *sheetTable) Close() error {
	var err error
	if t.rc != nil {
		err = t.rc.Close()
	}
	return errors.Join(err, t.file.Close())
}

// xlsxString is a string item: plain text, or rich text in runs.
type xlsxString struct {
	Text string `xml:"t"`
	Runs []struct {
		Text string `xml:"t"`
	} `xml:"r"`
}

func (s xlsxString) String() string {
	if len(s.Runs) == 0 {
		return s.Text
	}
	var b strings.Builder
	for _, r := range s.Runs {
		b.WriteString(r.Text)
	}
	return b.String()
}

// readRow reads the next row in the sheet; rows the file leaves out (empty
// ones) come back empty, so that t.row counts as Excel does. It reads raw
// tokens by hand: decoding each cell by reflection would double the time.
func (t *sheetTable) readRow() ([]string, error) {
	if t.pending == nil {
		start, err := t.nextRowElement()
		if err != nil {
			return nil, err
		}
		t.pending = start
	}
	num := t.row + 1
	if n, err := strconv.Atoi(attr(t.pending, "r")); err == nil && n > t.row {
		num = n
	}
	t.row++
	if num > maxSheetRows {
		return nil, fmt.Errorf("row number %d is beyond Excel's last row %d", num, maxSheetRows)
	}
	t.numbers = t.numbers[:0]
	if num > t.row {
		return nil, nil // a row the file leaves out
	}
	t.pending = nil
	var cells []string
	var cell struct {
		ref, typ, style string
		text            strings.Builder
		inText          bool // inside <v>, or a <t> of an inline string
		phonetic        bool // inside <rPh>, whose text is not the cell's
	}
	for {
		tok, err := t.token()
		if err != nil {
			return nil, fmt.Errorf("reading the sheet: %w", err)
		}
		switch el := tok.(type) {
		case xml.StartElement:
			switch el.Name.Local {
			case "c":
				cell.ref, cell.typ, cell.style = attr(&el, "r"), attr(&el, "t"), attr(&el, "s")
				cell.text.Reset()
			case "v", "t":
				cell.inText = !cell.phonetic
			case "rPh":
				cell.phonetic = true
			}
		case xml.CharData:
			if cell.inText {
				cell.text.Write(el)
			}
		case xml.EndElement:
			switch el.Name.Local {
			case "v", "t":
				cell.inText = false
			case "rPh":
				cell.phonetic = false
			case "c":
				col := len(cells)
				if cell.ref != "" {
					if col, err = columnIndex(cell.ref); err != nil {
						return nil, err
					}
				}
				if col >= t.lim.MaxCells {
					return nil, fmt.Errorf("cell %s: more than %d cells in a row: %w", cell.ref, t.lim.MaxCells, ErrLimit)
				}
				for len(cells) <= col {
					cells = append(cells, "")
					t.numbers = append(t.numbers, false)
				}
				if cells[col], t.numbers[col], err = t.cellValue(cell.typ, cell.style, cell.text.String()); err != nil {
					return nil, fmt.Errorf("cell %s: %w", cell.ref, err)
				}
			case "row":
				return cells, nil
			}
		}
	}
}

func attr(el *xml.StartElement, name string) string {
	for _, a := range el.Attr {
		if a.Name.Local == name {
			return a.Value
		}
	}
	return ""
}

// maxSheetRows is Excel's last row: a row number beyond it is not a report
// (and would stand for a billion empty rows).
const maxSheetRows = 1 << 20

// token is the sheet's next raw token, with what RawToken leaves out
// checked: end tags match their start tags, nesting stays within
// MaxXMLDepth, and the file does not end inside an element.
func (t *sheetTable) token() (xml.Token, error) {
	tok, err := t.dec.RawToken()
	if errors.Is(err, io.EOF) && len(t.openEls) > 0 {
		return nil, fmt.Errorf("the sheet ends inside <%s>", t.openEls[len(t.openEls)-1])
	}
	if err != nil {
		return nil, err
	}
	switch el := tok.(type) {
	case xml.StartElement:
		if len(t.openEls) >= t.lim.MaxXMLDepth {
			return nil, fmt.Errorf("elements nested deeper than %d: %w", t.lim.MaxXMLDepth, ErrLimit)
		}
		t.openEls = append(t.openEls, el.Name.Local)
	case xml.EndElement:
		if len(t.openEls) == 0 || t.openEls[len(t.openEls)-1] != el.Name.Local {
			want := "no open element"
			if len(t.openEls) > 0 {
				want = "<" + t.openEls[len(t.openEls)-1] + ">"
			}
			return nil, fmt.Errorf("</%s> does not close %s", el.Name.Local, want)
		}
		t.openEls = t.openEls[:len(t.openEls)-1]
	}
	return tok, nil
}

// nextRowElement finds the next <row>, or io.EOF at the end of the data.
func (t *sheetTable) nextRowElement() (*xml.StartElement, error) {
	for {
		tok, err := t.token()
		if errors.Is(err, io.EOF) {
			return nil, io.EOF
		}
		if err != nil {
			return nil, fmt.Errorf("reading the sheet: %w", err)
		}
		switch el := tok.(type) {
		case xml.StartElement:
			if el.Name.Local == "row" {
				start := el.Copy()
				return &start, nil
			}
		case xml.EndElement:
			if el.Name.Local == "sheetData" {
				return nil, io.EOF
			}
		}
	}
}

// cellValue is a cell's text and whether it is a number cell. A number
// shown as a date is a date, written as ISO 8601 as ParseDate reads it;
// booleans read as 1 and 0.
func (t *sheetTable) cellValue(typ, style, value string) (string, bool, error) {
	switch typ {
	case "s":
		i, err := strconv.Atoi(strings.TrimSpace(value))
		if err != nil || i < 0 || i >= len(t.strings) {
			return "", false, fmt.Errorf("shared string %q out of range", value)
		}
		return t.strings[i], false, nil
	case "", "n":
		if s, err := strconv.Atoi(style); err == nil && s >= 0 && s < len(t.dateStyles) && t.dateStyles[s] {
			if d, ok := serialDate(value, t.date1904); ok {
				return d, false, nil
			}
		}
		return value, value != "", nil
	case "b":
		return value, value != "", nil
	}
	return value, false, nil // inlineStr, str (a formula's text), e (an error such as #N/A), d (ISO 8601 already)
}

// serialDate writes an Excel date serial as a date, or a date and time.
func serialDate(serial string, date1904 bool) (string, bool) {
	v, err := strconv.ParseFloat(serial, 64)
	if err != nil || v < 0 || v >= 2958466 {
		return "", false
	}
	if date1904 {
		v += 1462 // days from 1900-01-01 to 1904-01-01 in Excel's count
	}
	d := excelEpoch.Add(time.Duration(v * float64(24*time.Hour))).Round(time.Second)
	if d.Equal(d.Truncate(24 * time.Hour)) {
		return d.Format(time.DateOnly), true
	}
	return d.Format("2006-01-02T15:04:05"), true
}

// columnIndex is the 0-based column of a reference such as AB12.
func columnIndex(ref string) (int, error) {
	col := 0
	for i, r := range ref {
		switch {
		case r >= 'A' && r <= 'Z':
			col = col*26 + int(r-'A'+1)
		case r >= 'a' && r <= 'z':
			col = col*26 + int(r-'a'+1)
		case i > 0 && col > 0 && col <= 16384:
			return col - 1, nil
		default:
			return 0, fmt.Errorf("bad cell reference %q", ref)
		}
		if col > 16384 {
			return 0, fmt.Errorf("bad cell reference %q", ref)
		}
	}
	return 0, fmt.Errorf("bad cell reference %q", ref)
}

// openZip opens a workbook's zip of at most maxBytes without reading it
// whole when the file allows random access (files on disk do).
func openZip(ctx context.Context, f fs.File, name string, maxBytes int64) (*zip.Reader, error) {
	if ra, ok := f.(io.ReaderAt); ok {
		if st, err := f.Stat(); err == nil {
			if st.Size() > maxBytes {
				return nil, fmt.Errorf("%d bytes, more than %d: %w", st.Size(), maxBytes, ErrLimit)
			}
			return zip.NewReader(ra, st.Size())
		}
	}
	data, err := io.ReadAll(NewBoundedReader(ctx, f, name, maxBytes, 0))
	if err != nil {
		return nil, err
	}
	return zip.NewReader(bytes.NewReader(data), int64(len(data)))
}

// part opens a part of the workbook, its unzipped bytes bounded by max and
// its reads stopping once the refresh's context ends.
func (t *sheetTable) part(name string, max int64) (io.ReadCloser, error) {
	rc, err := t.zip.Open(name)
	if err != nil {
		return nil, err
	}
	max = min(max, t.lim.MaxInflated)
	return struct {
		io.Reader
		io.Closer
	}{NewBoundedReader(t.ctx, rc, name+" (unzipped)", max, 0), rc}, nil
}

type xlsxSheet struct {
	name, path string
	hidden     bool // hidden or very hidden: no tab shows it
}

// pickSheet is the sheet a source reads: the one sheet.name names (hidden
// or not: the operator asked for it), else the sheet.index-th of the
// visible sheets, else the first visible one. A hidden sheet is never read
// unless named: workbooks keep last year's figures or lookup tables in
// them, and a person opening the file sees only the tabs.
func pickSheet(sheets []xlsxSheet, spec sheetSpec) (xlsxSheet, error) {
	var visible []xlsxSheet
	var names []string
	for _, s := range sheets {
		if s.hidden {
			names = append(names, s.name+" (hidden)")
		} else {
			names = append(names, s.name)
			visible = append(visible, s)
		}
	}
	switch {
	case spec.Name != "":
		for _, s := range sheets {
			if strings.EqualFold(s.name, spec.Name) {
				return s, nil
			}
		}
		return xlsxSheet{}, fmt.Errorf("no sheet %q (the workbook has %q)", spec.Name, names)
	case len(visible) == 0:
		return xlsxSheet{}, fmt.Errorf("every sheet is hidden (%q): name the one to read in sheet.name", names)
	case spec.Index > len(visible):
		return xlsxSheet{}, fmt.Errorf("no sheet %d: the workbook shows %d (%q)", spec.Index, len(visible), names)
	}
	return visible[max(spec.Index, 1)-1], nil
}

// workbookSheets lists the sheets in order with the path of each one's XML,
// and says whether the workbook counts dates from 1904.
func (t *sheetTable) workbookSheets() ([]xlsxSheet, bool, error) {
	var wb struct {
		Properties struct {
			Date1904 string `xml:"date1904,attr"`
		} `xml:"workbookPr"`
		Sheets []struct {
			Name  string `xml:"name,attr"`
			State string `xml:"state,attr"` // hidden, veryHidden, or visible (the default)
			RID   string `xml:"id,attr"`    // r:id, in a namespace that differs between transitional and strict files
		} `xml:"sheets>sheet"`
	}
	var rels struct {
		Rels []struct {
			ID     string `xml:"Id,attr"`
			Target string `xml:"Target,attr"`
		} `xml:"Relationship"`
	}
	if err := t.readXML("xl/workbook.xml", &wb); err != nil {
		return nil, false, err
	}
	if err := t.readXML("xl/_rels/workbook.xml.rels", &rels); err != nil {
		return nil, false, err
	}
	targets := map[string]string{}
	for _, r := range rels.Rels {
		if strings.HasPrefix(r.Target, "/") {
			targets[r.ID] = strings.TrimPrefix(r.Target, "/")
		} else {
			targets[r.ID] = path.Join("xl", r.Target)
		}
	}
	var sheets []xlsxSheet
	for _, s := range wb.Sheets {
		if p, ok := targets[s.RID]; ok {
			sheets = append(sheets, xlsxSheet{s.Name, p, s.State == "hidden" || s.State == "veryHidden"})
		}
	}
	if len(sheets) == 0 {
		return nil, false, errors.New("no worksheets")
	}
	date1904 := wb.Properties.Date1904 == "1" || wb.Properties.Date1904 == "true"
	return sheets, date1904, nil
}

// dateStyles reads which cell styles show a number as a date: the built-in
// date formats, and custom formats with day, month or year codes.
func (t *sheetTable) readDateStyles() ([]bool, error) {
	var styles struct {
		NumFmts []struct {
			ID   int    `xml:"numFmtId,attr"`
			Code string `xml:"formatCode,attr"`
		} `xml:"numFmts>numFmt"`
		Xfs []struct {
			NumFmtID int `xml:"numFmtId,attr"`
		} `xml:"cellXfs>xf"`
	}
	if err := t.readXML("xl/styles.xml", &styles); errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	} else if err != nil {
		return nil, err
	}
	custom := map[int]bool{}
	for _, f := range styles.NumFmts {
		custom[f.ID] = isDateFormat(f.Code)
	}
	dates := make([]bool, len(styles.Xfs))
	for i, xf := range styles.Xfs {
		id := xf.NumFmtID
		date, ok := custom[id]
		if !ok { // built-in: dates, and the East Asian date formats
			date = id >= 14 && id <= 17 || id == 22 || id >= 27 && id <= 36 || id >= 50 && id <= 58
		}
		dates[i] = date
	}
	return dates, nil
}

// isDateFormat is true for a number format that shows a day, a month or a
// year. Quoted text, escaped characters and [bracketed] sections (colours,
// locales, elapsed hours) are not codes.
func isDateFormat(code string) bool {
	var hasM, hasTime bool
	for i := 0; i < len(code); i++ {
		switch c := code[i] | 0x20; { // lower case for letters
		case code[i] == '"':
			for i++; i < len(code) && code[i] != '"'; i++ {
			}
		case code[i] == '\\' || code[i] == '_' || code[i] == '*':
			i++ // the next character is literal, a space's width, or a fill
		case code[i] == '[':
			for ; i < len(code) && code[i] != ']'; i++ {
			}
		case c == 'y' || c == 'd':
			return true
		case c == 'm':
			hasM = true
		case c == 'h' || c == 's':
			hasTime = true
		}
	}
	return hasM && !hasTime // m alone is a month; with h or s, minutes
}

// sharedStrings reads the shared-strings table, if the workbook has one.
func (t *sheetTable) sharedStrings() ([]string, error) {
	rc, err := t.part("xl/sharedStrings.xml", maxHeldXML)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	dec := xml.NewDecoder(rc)
	var out []string
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, err
		}
		if el, ok := tok.(xml.StartElement); ok && el.Name.Local == "si" {
			var si xlsxString
			if err := dec.DecodeElement(&si, &el); err != nil {
				return nil, err
			}
			out = append(out, si.String())
		}
	}
}

func (t *sheetTable) readXML(name string, v any) error {
	rc, err := t.part(name, maxHeldXML)
	if err != nil {
		return err
	}
	defer rc.Close()
	if err := xml.NewDecoder(rc).Decode(v); err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	return nil
}
