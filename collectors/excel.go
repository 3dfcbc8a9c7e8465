package collectors

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"regexp"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/kpiwatch/kpiwatch/catalogue"
)

func init() { Register("excel", newExcel) }

// excelConfig is an Excel source: a workbook as a ministry sends it.
type excelConfig struct {
	// Path is a workbook, a folder or a glob; URL instead fetches the
	// workbook.
	Path     string `yaml:"path"`
	HTTPFile `yaml:",inline"`
	Sheet    sheetSpec `yaml:"sheet"`
	Mapping  Mapping   `yaml:"mapping"`
	Wide     *Wide     `yaml:"wide"`
	// FileName reads columns from the names of a folder's files.
	FileName string `yaml:"file_name"`
	// Form reads a form-style sheet instead of a table.
	Form *Form `yaml:"form"`
	// Cells are columns of every row taken from cells above the table.
	Cells map[string]FormCell `yaml:"cells"`
}

// sheetSpec says where the table is in a workbook. Rows are numbered as
// Excel shows them; rows above the header (titles) are skipped.
type sheetSpec struct {
	Name  string `yaml:"name"`
	Index int    `yaml:"index"` // 1-based; the first sheet when neither is set
	// HeaderRow is the first row of the header; HeaderRows how many rows it
	// spans when group labels sit in merged cells above the column labels.
	HeaderRow  int `yaml:"header_row"`
	HeaderRows int `yaml:"header_rows"`
	// FirstRow and LastRow bound the data (default: from right under the
	// header to the last row), to leave out notes and signatures.
	FirstRow int `yaml:"first_row"`
	LastRow  int `yaml:"last_row"`
}

func (s *sheetSpec) check(prefix string) []catalogue.FieldError {
	var errs []catalogue.FieldError
	add := func(p, msg string) { errs = append(errs, catalogue.FieldError{Path: prefix + "." + p, Msg: msg}) }
	if s.Name != "" && s.Index != 0 {
		add("index", "set one of name and index, not both")
	}
	if s.Index < 0 || s.HeaderRow < 0 || s.HeaderRows < 0 || s.FirstRow < 0 || s.LastRow < 0 {
		add("", "index and rows must not be negative")
	}
	s.HeaderRow = max(s.HeaderRow, 1)
	s.HeaderRows = max(s.HeaderRows, 1)
	headerEnd := s.HeaderRow + s.HeaderRows - 1
	if s.FirstRow == 0 {
		s.FirstRow = headerEnd + 1
	}
	if s.FirstRow <= headerEnd {
		add("first_row", fmt.Sprintf("%d is not below the header (rows %d-%d)", s.FirstRow, s.HeaderRow, headerEnd))
	}
	if s.LastRow != 0 && s.LastRow < s.FirstRow {
		add("last_row", fmt.Sprintf("%d is above first_row %d", s.LastRow, s.FirstRow))
	}
	return errs
}

type excelCollector struct {
	*fileSet
	*fetcher
	cfg excelConfig
	env Env
}

func newExcel(node *yaml.Node, env Env) (Collector, []catalogue.FieldError) {
	var cfg excelConfig
	if errs := catalogue.DecodeStrict(node, &cfg, "config"); errs != nil {
		return nil, errs
	}
	var errs []catalogue.FieldError
	fetch, ferrs := newFetcher(cfg.HTTPFile, env, cfg.Path, "path", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "config")
	errs = append(errs, ferrs...)
	errs = append(errs, cfg.Sheet.check("config.sheet")...)
	if len(cfg.Cells) > 0 && cfg.Sheet.HeaderRow == 1 {
		errs = append(errs, catalogue.FieldError{Path: "config.cells", Msg: "cells are read above the table: set sheet.header_row"})
	}
	for key, cell := range cfg.Cells {
		errs = append(errs, cell.check("config.cells."+key, true)...)
		cfg.Cells[key] = cell
	}
	if cfg.Form != nil {
		errs = append(errs, cfg.checkForm("config")...)
	} else {
		errs = append(errs, checkLayout(cfg.Mapping, cfg.Wide, "config")...)
	}
	files, ferrs := newFileSet(env.Dir, cfg.Path, cfg.FileName, []string{".xlsx", ".xlsm", ".xls"}, "config")
	if errs = append(errs, ferrs...); len(errs) > 0 {
		return nil, errs
	}
	return &excelCollector{fileSet: files, fetcher: fetch, cfg: cfg, env: env}, nil
}

func (c *excelCollector) Collect(ctx context.Context, m *Mapper) (*Batch, error) {
	read := func(dir fs.FS, name string, l Layout) (*Batch, error) { return c.readFile(ctx, m, dir, name, l) }
	if c.cfg.Form != nil {
		read = func(dir fs.FS, name string, _ Layout) (*Batch, error) {
			return readForm(ctx, m, dir, name, c.cfg.Sheet, c.cfg.Form, c.env.Limits)
		}
	}
	if c.remote() {
		return c.readURL(ctx, m, tableLayout(c.cfg.Mapping, c.cfg.Wide), read)
	}
	return c.collect(ctx, m, tableLayout(c.cfg.Mapping, c.cfg.Wide), func(name string, l Layout) (*Batch, error) {
		return read(c.env.Dir, name, l)
	}, func(name string) int { return c.dataRows(ctx, name) })
}

// dataRows counts what a rejected workbook held: a form's figures, or the
// rows of its table's sheet that are not blank (none when even the sheet
// cannot be read).
func (c *excelCollector) dataRows(ctx context.Context, name string) int {
	if c.cfg.Form != nil {
		return len(c.cfg.Form.Values)
	}
	sheet, err := openSheet(ctx, c.env.Dir, name, c.cfg.Sheet, c.env.Limits)
	if err != nil {
		return 0
	}
	defer sheet.Close()
	n := 0
	for {
		cells, _, err := sheet.Next()
		if err != nil {
			return n
		}
		if strings.TrimSpace(strings.Join(cells, "")) != "" {
			n++
		}
	}
}

// readFile reads one workbook's table.
func (c *excelCollector) readFile(ctx context.Context, m *Mapper, dir fs.FS, name string, l Layout) (*Batch, error) {
	l, err := cellColumns(ctx, m, dir, name, c.cfg.Sheet, c.cfg.Cells, l, c.env.Limits)
	if err != nil {
		return nil, err
	}
	sheet, err := openWorkbook(ctx, m, dir, name, c.cfg.Sheet, c.env.Limits)
	if err != nil {
		return nil, err
	}
	defer sheet.Close()
	b, err := l.bind(m, sheet.Header(), name)
	if err != nil {
		return nil, atHeader(err, c.cfg.Sheet.HeaderRow)
	}
	numbers := b.NumberColumns()
	nf := layoutNumbers(c.cfg.Mapping, c.cfg.Wide)
	batch := &Batch{}
	for {
		cells, row, err := sheet.Next()
		if errors.Is(err, io.EOF) {
			return batch, nil
		}
		if err != nil {
			return nil, fmt.Errorf("source %s: %w", m.Source(), err)
		}
		for _, i := range numbers {
			if sheet.Number(i) {
				cells[i] = typedNumber(cells[i], nf)
			}
		}
		b.AddRow(batch, cells, row)
		if err := m.Err(); err != nil {
			return nil, err
		}
	}
}

// storedNumber is how a typed store writes a number: the value of an Excel
// number cell, a database's NUMERIC column as text.
var storedNumber = regexp.MustCompile(`^-?[0-9]+(\.[0-9]+)?([eE][-+]?[0-9]+)?$`)

// typedNumber rewrites a number the store typed in the source's number
// format, so that it reads alike with numbers written as text ("1.058.569",
// "59,57%"): an Excel number cell 850000.5 and a text cell "850.000,5".
func typedNumber(cell string, nf NumberFormat) string {
	if (nf.declared() && nf.withDefaults().Decimal == ".") || !storedNumber.MatchString(cell) {
		return cell
	}
	v, err := strconv.ParseFloat(cell, 64)
	if err != nil {
		return cell
	}
	return FormatNumber(v, nf)
}

// combineHeader joins the labels of a header spread over several rows,
// column by column ("Tài khoản mức 2" over "Số lượng" gives "Tài khoản mức 2
// Số lượng"). A merged cell holds its label in its first cell only, so a
// blank in an upper row under a group label to its left (one with labels
// below it) belongs to that group.
func combineHeader(rows [][]string) []string {
	width := 0
	for _, r := range rows {
		width = max(width, len(r))
	}
	cell := func(r, c int) string {
		if c < len(rows[r]) {
			return strings.Join(strings.Fields(rows[r][c]), " ")
		}
		return ""
	}
	labelledBelow := func(r, c int) bool {
		for below := r + 1; below < len(rows); below++ {
			if cell(below, c) != "" {
				return true
			}
		}
		return false
	}
	header := make([]string, width)
	for c := range width {
		var parts []string
		for r := range rows {
			label := cell(r, c)
			if label == "" && r < len(rows)-1 && labelledBelow(r, c) {
				for left := c - 1; left >= 0; left-- {
					if l := cell(r, left); l != "" {
						if labelledBelow(r, left) {
							label = l
						}
						break
					}
				}
			}
			if label != "" {
				parts = append(parts, label)
			}
		}
		header[c] = strings.Join(parts, " ")
	}
	return header
}
