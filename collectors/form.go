package collectors

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"reflect"
	"regexp"
	"slices"
	"strings"

	"github.com/kpiwatch/kpiwatch/catalogue"
	"github.com/kpiwatch/kpiwatch/kpi"
	"github.com/kpiwatch/kpiwatch/units"
)

// Form is a form-style sheet ("Biểu mẫu"): no table, but labels with their
// values beside them, the reporting unit in a title cell ("UBND tỉnh Hà
// Giang"), the period in another. One file gives one set of observations;
// a folder of forms gives one per file.
type Form struct {
	// Unit is the cell naming the reporting unit; Dimension says which
	// dimension it is (default province).
	Unit      FormCell `yaml:"unit"`
	Dimension string   `yaml:"dimension"`
	// Period is the cell with the period: "Tháng 10/2025", "Quý III/2025",
	// "Kỳ báo cáo: 6 tháng đầu năm 2025" (read as in a wide table's
	// header), or a date.
	Period     FormCell     `yaml:"period"`
	DateFormat string       `yaml:"date_format"`
	Numbers    NumberFormat `yaml:"numbers"`
	Values     []FormValue  `yaml:"values"`
}

// FormCell addresses a cell by reference (B7) or by label: the cell Offset
// cells to the right of the one holding the label, or without an offset
// the first cell that is not blank to its right, within Within cells
// (default 5). Pattern, a regular expression, picks the part of the cell
// to read: its first group.
type FormCell struct {
	Cell    string `yaml:"cell"`
	Label   string `yaml:"label"`
	Offset  int    `yaml:"offset"`
	Within  int    `yaml:"within"`
	Pattern string `yaml:"pattern"`

	re *regexp.Regexp
}

// FormValue is one KPI's figure: a cell, or for a ratio its numerator's
// and denominator's.
type FormValue struct {
	KPI         string `yaml:"kpi"`
	FormCell    `yaml:",inline"`
	Numerator   *FormCell `yaml:"numerator"`
	Denominator *FormCell `yaml:"denominator"`
}

// unitTitle is how a title cell names a province's authority: the unit is
// what follows.
var unitTitle = regexp.MustCompile(`(?i)^\s*(?:ủy ban nhân dân|uỷ ban nhân dân|ubnd)\s+(.+?)\s*$`)

func (c *FormCell) check(prefix string, required bool) []catalogue.FieldError {
	var errs []catalogue.FieldError
	add := func(p, msg string) { errs = append(errs, catalogue.FieldError{Path: prefix + p, Msg: msg}) }
	switch {
	case c.Cell != "" && c.Label != "":
		add(".label", "set one of cell and label, not both")
	case c.Cell == "" && c.Label == "" && required:
		add(".cell", "required: a cell reference such as B7, or a label")
	case c.Cell != "":
		if _, _, err := cellRef(c.Cell); err != nil {
			add(".cell", err.Error())
		}
	}
	if c.Within < 0 || c.Offset < 0 {
		add(".within", "within and offset must not be negative")
	}
	if c.Within == 0 {
		c.Within = 5
	}
	if c.Pattern != "" {
		re, err := regexp.Compile(c.Pattern)
		switch {
		case err != nil:
			add(".pattern", err.Error())
		case re.NumSubexp() < 1:
			add(".pattern", fmt.Sprintf("%q has no group to read", c.Pattern))
		}
		c.re = re
	}
	return errs
}

// Check reports problems that need no data to see.
func (f *Form) Check(prefix string) []catalogue.FieldError {
	if f.Dimension == "" {
		f.Dimension = catalogue.DimProvince
	}
	if f.Unit.re == nil && f.Unit.Pattern == "" && f.Dimension == catalogue.DimProvince {
		f.Unit.re = unitTitle
	}
	errs := f.Unit.check(prefix+".unit", true)
	errs = append(errs, f.Period.check(prefix+".period", true)...)
	probe := Mapping{KPI: "x", Date: "x", Value: "x", Dimensions: map[string]string{f.Dimension: "x"}, Numbers: f.Numbers}
	errs = append(errs, probe.Check(prefix)...)
	if len(f.Values) == 0 {
		errs = append(errs, catalogue.FieldError{Path: prefix + ".values", Msg: "required: the KPIs the form reports"})
	}
	for i := range f.Values {
		v := &f.Values[i]
		p := fmt.Sprintf("%s.values[%d]", prefix, i)
		if v.KPI == "" {
			errs = append(errs, catalogue.FieldError{Path: p + ".kpi", Msg: "required"})
		}
		if (v.Numerator == nil) != (v.Denominator == nil) {
			errs = append(errs, catalogue.FieldError{Path: p + ".numerator", Msg: "a ratio needs both numerator and denominator"})
		}
		if v.Numerator != nil && v.Denominator != nil {
			if v.Cell != "" || v.Label != "" {
				errs = append(errs, catalogue.FieldError{Path: p, Msg: "set a value cell, or numerator and denominator, not both"})
			}
			errs = append(errs, v.Numerator.check(p+".numerator", true)...)
			errs = append(errs, v.Denominator.check(p+".denominator", true)...)
			continue
		}
		errs = append(errs, v.FormCell.check(p, true)...)
	}
	return errs
}

// checkForm checks a source that reads forms: no table layout beside the
// form, no columns from file names (the form's cells name its unit and
// period), no table rows.
func (c *excelConfig) checkForm(prefix string) []catalogue.FieldError {
	errs := c.Form.Check(prefix + ".form")
	for _, o := range []struct {
		key string
		set bool
	}{
		{"mapping", !reflect.ValueOf(c.Mapping).IsZero()}, {"wide", c.Wide != nil}, {"file_name", c.FileName != ""}, {"cells", len(c.Cells) > 0},
		{"sheet.header_row", c.Sheet.HeaderRow > 1}, {"sheet.header_rows", c.Sheet.HeaderRows > 1}, {"sheet.last_row", c.Sheet.LastRow > 0},
	} {
		if o.set {
			errs = append(errs, catalogue.FieldError{Path: prefix + "." + o.key, Msg: "not for a form: its cells say where everything is"})
		}
	}
	return errs
}

// cellRef reads a reference such as B7 as a 0-based column and 1-based row.
func cellRef(ref string) (col, row int, err error) {
	i := strings.IndexAny(ref, "0123456789")
	if i <= 0 {
		return 0, 0, fmt.Errorf("%q is not a cell reference such as B7", ref)
	}
	if col, err = columnIndex(strings.ToUpper(ref)); err != nil {
		return 0, 0, fmt.Errorf("%q is not a cell reference such as B7", ref)
	}
	if _, err := fmt.Sscanf(ref[i:], "%d", &row); err != nil || row < 1 || fmt.Sprint(row) != ref[i:] {
		return 0, 0, fmt.Errorf("%q is not a cell reference such as B7", ref)
	}
	return col, row, nil
}

// formGrid is a sheet read whole: a form is small. Cells hold the text
// they show, number cells their stored number (2026.1, 1058569).
type formGrid struct {
	rows    [][]string      // rows[r] is Excel's row r+1
	numbers map[string]bool // the references of number cells
}

func (g *formGrid) at(col, row int) string {
	if row-1 < len(g.rows) && col < len(g.rows[row-1]) {
		return g.rows[row-1][col]
	}
	return ""
}

func ref(col, row int) string { return fmt.Sprintf("%s%d", columnName(col), row) }

func columnName(col int) string {
	name := ""
	for col++; col > 0; col = (col - 1) / 26 {
		name = string(rune('A'+(col-1)%26)) + name
	}
	return name
}

// find locates a cell's value: its reference and its text.
func (g *formGrid) find(c *FormCell) (string, int, string, error) {
	if c.Cell != "" {
		col, row, _ := cellRef(c.Cell)
		return ref(col, row), row, c.pick(g.at(col, row)), nil
	}
	label := units.Normalise(c.Label)
	var found []string
	var valueRef, value string
	var valueRow int
	for r, cells := range g.rows {
		for col, text := range cells {
			if !strings.Contains(" "+units.Normalise(text)+" ", " "+label+" ") {
				continue
			}
			found = append(found, ref(col, r+1))
			valueRef, valueRow, value = "", r+1, ""
			if v, ok := afterLabel(text, label); ok && c.Offset == 0 {
				valueRef, value = ref(col, r+1), v
				continue
			}
			if c.Offset > 0 {
				valueRef, value = ref(col+c.Offset, r+1), g.at(col+c.Offset, r+1)
				continue
			}
			for right := col + 1; right <= col+c.Within && right < len(cells); right++ {
				if strings.TrimSpace(cells[right]) != "" {
					valueRef, value = ref(right, r+1), cells[right]
					break
				}
			}
		}
	}
	switch {
	case len(found) == 0:
		return "", 0, "", fmt.Errorf("no cell holds the label %q", c.Label)
	case len(found) > 1:
		return "", 0, "", fmt.Errorf("the label %q is in %s: give the cell", c.Label, strings.Join(found, ", "))
	case valueRef == "":
		return found[0], valueRow, "", fmt.Errorf("nothing within %d cells right of the label %q in %s", c.Within, c.Label, found[0])
	}
	return valueRef, valueRow, c.pick(value), nil
}

// afterLabel is the value a cell gives after its label and a colon
// ("Kỳ báo cáo: Tháng 10/2025", "Số tài khoản: 1.234"): offices type both
// into one cell as often as into two. ok is false for a label alone, or
// one whose colon has nothing after it, whose value is to its right.
func afterLabel(text, label string) (string, bool) {
	before, after, ok := strings.Cut(text, ":")
	after = strings.TrimSpace(after)
	return after, ok && after != "" && strings.Contains(" "+units.Normalise(before)+" ", " "+label+" ")
}

// pick is the part of a cell's text the pattern reads, or all of it.
func (c *FormCell) pick(text string) string {
	if c.re == nil {
		return strings.TrimSpace(text)
	}
	if m := c.re.FindStringSubmatch(text); m != nil {
		return strings.TrimSpace(m[1])
	}
	return strings.TrimSpace(text)
}

// readForm reads a workbook's sheet as a form.
func readForm(ctx context.Context, m *Mapper, dir fs.FS, name string, spec sheetSpec, f *Form, lim Limits) (*Batch, error) {
	g, err := readGrid(ctx, m, dir, name, spec, 0, lim)
	if err != nil {
		return nil, err
	}
	return f.observations(m, g, name)
}

// readGrid reads a sheet whole, or its rows up to last (0: all of them).
func readGrid(ctx context.Context, m *Mapper, dir fs.FS, name string, spec sheetSpec, last int, lim Limits) (*formGrid, error) {
	spec.HeaderRow, spec.HeaderRows, spec.FirstRow, spec.LastRow = 1, 1, 2, last
	sheet, err := openWorkbook(ctx, m, dir, name, spec, lim)
	if err != nil {
		return nil, err
	}
	defer sheet.Close()
	g := &formGrid{rows: [][]string{sheet.Header()}, numbers: map[string]bool{}}
	for {
		cells, row, err := sheet.Next()
		if errors.Is(err, io.EOF) {
			return g, nil
		}
		if err != nil {
			return nil, fmt.Errorf("source %s: %w", m.Source(), err)
		}
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		for i := range cells {
			if sheet.Number(i) {
				g.numbers[ref(i, row)] = true
			}
		}
		for len(g.rows) < row-1 {
			g.rows = append(g.rows, nil)
		}
		g.rows = append(g.rows, slices.Clone(cells))
	}
}

// cellColumns are the columns a table's title cells give every row of it:
// the unit ("UBND tỉnh Hà Giang" gives "tỉnh Hà Giang"), the period (as a
// wide table's header names one: "Tháng 10/2025", "Quý III/2025"; given as
// its last day). A cell that cannot be found rejects the file.
func cellColumns(ctx context.Context, m *Mapper, dir fs.FS, name string, spec sheetSpec, cells map[string]FormCell, l Layout, lim Limits) (Layout, error) {
	if len(cells) == 0 {
		return l, nil
	}
	g, err := readGrid(ctx, m, dir, name, spec, max(spec.HeaderRow-1, 1), lim)
	if err != nil {
		return nil, err
	}
	extra := &extraColumns{Layout: l}
	for _, key := range slices.Sorted(maps.Keys(cells)) {
		c := cells[key]
		ref, row, v, err := g.find(&c)
		if err == nil && v == "" {
			err = errors.New("blank")
		}
		if err != nil {
			return nil, &RowError{Location{Source: m.source, File: name, Row: row, Column: ref}, fmt.Errorf("cells.%s: %w", key, err)}
		}
		if c.re == nil {
			if t := unitTitle.FindStringSubmatch(v); t != nil {
				v = t[1]
			}
		}
		if p, ok := headerPeriod(v); ok {
			v = p.last().Format("2006-01-02")
		}
		extra.names, extra.values = append(extra.names, key), append(extra.values, v)
	}
	return extra, nil
}

// observations maps the form's cells: the unit and the period must be
// found, or the file is rejected; a value that cannot be read is a rejected
// cell, the others kept.
func (f *Form) observations(m *Mapper, g *formGrid, name string) (*Batch, error) {
	fail := func(ref string, row int, err error) error {
		return &RowError{Location{Source: m.source, File: name, Row: row, Column: ref}, err}
	}
	unitRef, unitRow, unit, err := g.find(&f.Unit)
	if err == nil && unit == "" {
		err = errors.New("the reporting unit's cell is blank")
	}
	if err != nil {
		return nil, fail(unitRef, unitRow, fmt.Errorf("unit: %w", err))
	}
	periodRef, periodRow, periodText, err := g.find(&f.Period)
	if err != nil {
		return nil, fail(periodRef, periodRow, fmt.Errorf("period: %w", err))
	}
	date := periodText
	p, named := headerPeriod(periodText)
	if named && f.DateFormat == "" {
		date = p.last().Format("2006-01-02")
	} else if _, err := ParseDate(periodText, f.DateFormat); err != nil {
		return nil, fail(periodRef, periodRow, fmt.Errorf("period: %q names no period", periodText))
	}
	batch := &Batch{}
	for _, v := range f.Values {
		cells := []*FormCell{&v.FormCell}
		if v.Numerator != nil {
			cells = []*FormCell{v.Numerator, v.Denominator}
		}
		header := []string{"unit " + unitRef, "period " + periodRef}
		record := []string{unit, date}
		row, rejected := 0, false
		for _, c := range cells {
			r, valueRow, text, err := g.find(c)
			if err != nil {
				batch.Rejected = append(batch.Rejected, fail(r, valueRow, fmt.Errorf("kpi %q: %w", v.KPI, err)))
				rejected = true
				break
			}
			if g.numbers[r] {
				text = typedNumber(text, f.Numbers)
			}
			header, record, row = append(header, r), append(record, text), valueRow
		}
		if rejected {
			continue
		}
		mp := Mapping{KPI: v.KPI, Date: header[1], DateFormat: f.DateFormat, Dimensions: map[string]string{f.Dimension: header[0]}, Numbers: f.Numbers}
		if v.Numerator != nil {
			mp.Numerator, mp.Denominator = header[2], header[3]
		} else {
			mp.Value = header[2]
		}
		if len(header) == 4 && header[2] == header[3] {
			batch.Rejected = append(batch.Rejected, fail(header[2], row, fmt.Errorf("kpi %q: numerator and denominator are the same cell", v.KPI)))
			continue
		}
		if f.DateFormat == "" {
			mp.DateFormat = "2006-01-02"
			if !named {
				mp.DateFormat = ""
			}
		}
		b, err := m.Bind(mp, header, name)
		if err != nil {
			return nil, err
		}
		obs, skip, err := b.Row(record, row)
		if k := &m.cat.KPIs[obs.KPI]; err == nil && named && f.DateFormat == "" && k.Kind == catalogue.KindCount && !k.Cumulative &&
			!kpi.PeriodStart(k.Cadence.Period, p.last()).Equal(p.start) {
			// A count of each period reported for a longer one (a quarter's
			// own figure for a monthly count) is no one period's figure.
			err = fail(header[len(header)-1], row, fmt.Errorf("kpi %q counts each %s period on its own, but the form's period %q covers %s", k.ID, k.Cadence.Period, periodText, p))
		}
		var re *RowError
		if errors.As(err, &re) {
			switch re.Loc.Column {
			case header[0]:
				re.Loc.Column, re.Loc.Row = unitRef, unitRow
			case header[1]:
				re.Loc.Column, re.Loc.Row = periodRef, periodRow
			}
		}
		batch.Add(obs, skip, err)
	}
	return batch, nil
}
