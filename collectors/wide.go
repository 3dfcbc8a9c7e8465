package collectors

import (
	"errors"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"sort"
	"strings"

	"github.com/kpiwatch/kpiwatch/catalogue"
	"github.com/kpiwatch/kpiwatch/kpi"
	"github.com/kpiwatch/kpiwatch/units"
)

// Layout is how the records of a table become observations: a Mapping for
// a long table (a row per unit and period) or a Wide table.
type Layout interface {
	bind(m *Mapper, header []string, file string) (rowMapper, error)
}

// rowMapper maps the records of one header.
type rowMapper interface {
	// NumberColumns are the columns read as numbers.
	NumberColumns() []int
	// AddRow adds what a record yields to batch and reports whether it
	// yielded an observation.
	AddRow(batch *Batch, cells []string, row int) bool
}

func (mp Mapping) bind(m *Mapper, header []string, file string) (rowMapper, error) {
	return m.Bind(mp, header, file)
}

// AddRow adds the record's observation, or its error, to batch.
func (b *Binding) AddRow(batch *Batch, cells []string, row int) bool {
	return batch.Add(b.Row(cells, row))
}

// tableLayout is the layout a csv or excel source configures: its mapping,
// or its wide table.
func tableLayout(mp Mapping, w *Wide) Layout {
	if w != nil {
		return w
	}
	return mp
}

// layoutNumbers is the number format of a source's layout.
func layoutNumbers(mp Mapping, w *Wide) NumberFormat {
	if w != nil {
		return w.Numbers
	}
	return mp.Numbers
}

// checkLayout checks that a source sets exactly one of mapping and wide.
func checkLayout(mp Mapping, w *Wide, prefix string) []catalogue.FieldError {
	if w == nil {
		return mp.Check(prefix + ".mapping")
	}
	if !reflect.ValueOf(mp).IsZero() {
		return []catalogue.FieldError{{Path: prefix + ".mapping", Msg: "set one of mapping (a long table) and wide, not both"}}
	}
	return w.Check(prefix + ".wide")
}

// Wide is a table with a column per period, or per KPI: a row per province,
// "T1/2025" ... "T10/2025" across, often under a group label per KPI, with
// the year above the months in a two-level header.
type Wide struct {
	// Dimensions maps a dimension to its column, as in a Mapping.
	Dimensions map[string]string `yaml:"dimensions"`
	Numbers    NumberFormat      `yaml:"numbers"`
	// Date is the column with each row's period, for KPIs read from one
	// column each (WideKPI.Column); DateFormat as in a Mapping.
	Date       string `yaml:"date"`
	DateFormat string `yaml:"date_format"`
	// PeriodPattern replaces the built-in reading of period headers: a
	// regular expression with named groups year and month, quarter,
	// months or day.
	PeriodPattern string `yaml:"period_pattern"`
	// Skip lists labels of columns read for no KPI: plan ("Kế hoạch")
	// columns unless a KPI is declared under that label.
	Skip []string  `yaml:"skip"`
	KPIs []WideKPI `yaml:"kpis"`

	pattern *periodPattern
}

// WideKPI says where one KPI's figures are.
type WideKPI struct {
	KPI string `yaml:"kpi"`
	// Under is the group label above the KPI's period columns ("Tài khoản
	// mức 2"); with neither Under nor Column the KPI takes every period
	// column no other KPI claims.
	Under string `yaml:"under"`
	// Column is the one column with the KPI's figure, its period from Date.
	Column string `yaml:"column"`
	// Numerator and Denominator, for a ratio KPI instead of Under: the
	// group labels above its parts' period columns, paired by period.
	Numerator   string `yaml:"numerator"`
	Denominator string `yaml:"denominator"`
	// Values says what the period columns hold: "cumulative" (to date, Lũy
	// kế) or "per_period" (each period's own figure). Unset, they hold what
	// the KPI is: cumulative for a cumulative count. When they differ the
	// collector sums the periods up, or takes each period's difference.
	Values string `yaml:"values"`
	// Opening is the column with the total before the first period, that
	// the sums start from (or the first difference is taken from). Without
	// one, sums start from zero, and the first cumulative column is only
	// the base of the second's difference.
	Opening string `yaml:"opening"`
}

const (
	valuesCumulative = "cumulative"
	valuesPerPeriod  = "per_period"
)

// defaultSkip are the plan columns beside the actuals: the plan lives in
// the catalogue, so they are not read unless a KPI is declared under them.
var defaultSkip = []string{"Kế hoạch", "KH"}

// Check reports problems that need no data to see.
func (w *Wide) Check(prefix string) []catalogue.FieldError {
	var errs []catalogue.FieldError
	add := func(p, msg string) { errs = append(errs, catalogue.FieldError{Path: prefix + p, Msg: msg}) }
	probe := Mapping{KPI: "x", Date: "x", Value: "x", Dimensions: w.Dimensions, Numbers: w.Numbers}
	errs = append(errs, probe.Check(prefix)...)
	if w.PeriodPattern != "" {
		p, err := compilePeriodPattern(w.PeriodPattern)
		if err != nil {
			add(".period_pattern", err.Error())
		}
		w.pattern = p
	}
	if len(w.KPIs) == 0 {
		add(".kpis", "required: the KPIs the table holds")
	}
	catchAll := 0
	for i, k := range w.KPIs {
		p := fmt.Sprintf(".kpis[%d]", i)
		if k.KPI == "" {
			add(p+".kpi", "required")
		}
		if k.Under != "" && k.Column != "" {
			add(p+".column", "set at most one of under and column")
		}
		ratio := k.Numerator != "" || k.Denominator != ""
		if ratio && (k.Numerator == "" || k.Denominator == "" || k.Under != "" || k.Column != "" || k.Values != "" || k.Opening != "") {
			add(p+".numerator", "a ratio takes numerator and denominator (both), and no under, column, values or opening")
		}
		if k.Under == "" && k.Column == "" && !ratio {
			catchAll++
		}
		if k.Column != "" && w.Date == "" {
			add(p+".column", "a KPI read from one column takes its period from date: set wide.date")
		}
		if k.Column != "" && k.Values == valuesPerPeriod && k.Opening != "" {
			add(p+".opening", "only period columns are summed up")
		}
		if k.Values != "" && k.Values != valuesCumulative && k.Values != valuesPerPeriod {
			add(p+".values", fmt.Sprintf("%q is not %s or %s", k.Values, valuesCumulative, valuesPerPeriod))
		}
	}
	if catchAll > 1 {
		add(".kpis", "at most one KPI may take every period column: give the others under or column")
	}
	return errs
}

// period reads a header's period with the source's pattern or the built-in
// forms.
func (w *Wide) period(header string) (span, bool) {
	if w.pattern != nil {
		return w.pattern.period(header)
	}
	return headerPeriod(header)
}

// wideColumn is one column of figures of one KPI.
type wideColumn struct {
	col  int
	den  int  // a ratio's denominator column, or -1
	span span // its period; unset for a KPI read from one column
	// b maps the record [dimensions..., period, value] made for the column.
	b *Binding
}

// wideKPI is one KPI's columns, in period order.
type wideKPI struct {
	cols    []wideColumn
	opening int // the opening column, or -1
	// sum adds the periods up; diff takes each period's difference.
	sum, diff bool
}

type wideBinding struct {
	w       *Wide
	m       *Mapper
	file    string
	header  []string
	dimCols []int
	date    int
	kpis    []wideKPI
	rec     []string // the record handed to a column's Binding, reused
}

// wideDims is the record's first columns: the dimensions, built-in then
// declared, in a fixed order. The inner Binding checks that a declared one
// is the catalogue's, as it does for a long table.
func (w *Wide) wideDims() []string {
	dims := make([]string, 0, len(w.Dimensions))
	for _, d := range catalogue.Dimensions {
		if _, ok := w.Dimensions[d]; ok {
			dims = append(dims, d)
		}
	}
	for _, d := range slices.Sorted(maps.Keys(w.Dimensions)) {
		if !slices.Contains(catalogue.Dimensions, d) {
			dims = append(dims, d)
		}
	}
	return dims
}

func (w *Wide) bind(m *Mapper, header []string, file string) (rowMapper, error) {
	headerErr := func(col string, err error) error {
		return &RowError{Location{Source: m.source, File: file, Row: 1, Column: col}, err}
	}
	index := map[string]int{}
	norm := make([]string, len(header))
	for i, h := range header {
		h = strings.TrimSpace(strings.TrimPrefix(h, "\ufeff"))
		index[h] = i
		norm[i] = " " + units.Normalise(h) + " "
	}
	column := func(name string) (int, error) {
		if i, ok := index[name]; ok {
			return i, nil
		}
		return -1, headerErr("", fmt.Errorf("no column %q (the header has %q)", name, header))
	}
	wb := &wideBinding{w: w, m: m, file: file, header: header, date: -1}
	dims := w.wideDims()
	for _, d := range dims {
		i, err := column(w.Dimensions[d])
		if err != nil {
			return nil, err
		}
		wb.dimCols = append(wb.dimCols, i)
	}
	if w.Date != "" {
		i, err := column(w.Date)
		if err != nil {
			return nil, err
		}
		wb.date = i
	}
	taken := map[int]bool{wb.date: true}
	for _, i := range wb.dimCols {
		taken[i] = true
	}
	for _, e := range w.KPIs {
		if i, ok := index[e.Column]; ok {
			taken[i] = true
		}
	}
	owner, part := w.claim(header, norm, taken)
	for k, e := range w.KPIs {
		wk := wideKPI{opening: -1}
		if e.Opening != "" {
			i, err := column(e.Opening)
			if err != nil {
				return nil, err
			}
			wk.opening = i
		}
		var cols []int
		if e.Column != "" {
			i, err := column(e.Column)
			if err != nil {
				return nil, err
			}
			cols = []int{i}
		}
		for c, o := range owner {
			if o == k && c != wk.opening {
				cols = append(cols, c)
			}
		}
		if len(cols) == 0 {
			return nil, headerErr("", fmt.Errorf("kpi %q: no period columns under %q (the header has %q)", e.KPI, e.labels(), header))
		}
		dens := map[span]int{} // a ratio's denominator columns by period
		for _, c := range cols {
			wc := wideColumn{col: c, den: -1}
			if e.Column == "" {
				p, ok := w.period(underPeriod(norm[c], e.labels()[part[c]]))
				if w.pattern != nil {
					p, ok = w.period(header[c])
				}
				if !ok {
					return nil, headerErr(header[c], fmt.Errorf("kpi %q: the column names no period (list it in wide.skip if it holds none)", e.KPI))
				}
				wc.span = p
			}
			if part[c] == 1 {
				if j, dup := dens[wc.span]; dup {
					return nil, headerErr(header[c], fmt.Errorf("kpi %q: columns %q and %q are denominators for the same period", e.KPI, header[j], header[c]))
				}
				dens[wc.span] = c
				continue
			}
			wk.cols = append(wk.cols, wc)
		}
		for i := range wk.cols {
			wc := &wk.cols[i]
			if e.Numerator != "" {
				den, ok := dens[wc.span]
				if !ok {
					return nil, headerErr(header[wc.col], fmt.Errorf("kpi %q: no denominator under %q for %s", e.KPI, e.Denominator, wc.span))
				}
				wc.den = den
				delete(dens, wc.span)
			}
			if err := wb.bindColumn(wc, e, dims); err != nil {
				return nil, err
			}
		}
		for _, c := range dens {
			return nil, headerErr(header[c], fmt.Errorf("kpi %q: no numerator under %q for this denominator", e.KPI, e.Numerator))
		}
		if err := wk.plan(e, m, header); err != nil {
			return nil, headerErr("", err)
		}
		wb.kpis = append(wb.kpis, wk)
	}
	return wb, nil
}

// bindColumn binds the record made for a column (and its denominator):
// the dimensions, the period, the figures.
func (wb *wideBinding) bindColumn(wc *wideColumn, e WideKPI, dims []string) error {
	w, header := wb.w, wb.header
	date, layout := "period of "+header[wc.col], "2006-01-02"
	if e.Column != "" {
		date, layout = w.Date, w.DateFormat
	}
	mp := Mapping{KPI: e.KPI, Date: date, DateFormat: layout, Value: header[wc.col], Dimensions: w.Dimensions, Numbers: w.Numbers}
	rec := make([]string, 0, len(dims)+3)
	for _, i := range wb.dimCols {
		rec = append(rec, header[i])
	}
	rec = append(rec, date, header[wc.col])
	if wc.den >= 0 {
		mp.Value, mp.Numerator, mp.Denominator = "", header[wc.col], header[wc.den]
		rec = append(rec, header[wc.den])
	}
	b, err := wb.m.Bind(mp, rec, wb.file)
	wc.b = b
	return err
}

// underPeriod is the period text of a column's header under a group label:
// the header less the label, which may name the KPI ("Tài khoản mức 2 T8"
// is not August the 2nd), but with the label's year when the rest has
// none, since a section "Năm 2025" over "T1" ... "T12" dates its months.
func underPeriod(norm, label string) string {
	label = units.Normalise(label)
	rest := strings.TrimSpace(strings.Replace(norm, " "+label+" ", " ", 1))
	if !yearRe.MatchString(rest) {
		rest = strings.TrimSpace(rest + " " + strings.Join(yearRe.FindAllString(label, -1), " "))
	}
	return rest
}

// labels are the group labels a KPI's columns sit under: its value's, or
// its numerator's and denominator's.
func (e WideKPI) labels() []string {
	if e.Numerator != "" {
		return []string{e.Numerator, e.Denominator}
	}
	return []string{e.Under}
}

// claim gives each column to the KPI whose group label it sits under (the
// longest label that fits; part is the label's index in its labels), to
// the KPI that takes every period column if it names a period and is not
// skipped, or to none (-1). The columns in taken (dimensions, date, single
// KPI columns) go to none.
func (w *Wide) claim(header, norm []string, taken map[int]bool) (owner, part []int) {
	skip := w.Skip
	if skip == nil {
		skip = defaultSkip
	}
	owner, part = make([]int, len(header)), make([]int, len(header))
	for c := range header {
		owner[c] = -1
		if taken[c] {
			continue
		}
		best := -1
		for k, e := range w.KPIs {
			for j, l := range e.labels() {
				if u := " " + units.Normalise(l) + " "; l != "" && strings.Contains(norm[c], u) && len(u) > best {
					owner[c], part[c], best = k, j, len(u)
				} else if l == "" && e.Column == "" && best < 0 {
					owner[c] = k
				}
			}
		}
		under := ""
		if owner[c] >= 0 {
			under = " " + units.Normalise(w.KPIs[owner[c]].labels()[part[c]]) + " "
		}
		for _, s := range skip {
			if s := " " + units.Normalise(s) + " "; strings.Contains(norm[c], s) && !strings.Contains(under, s) {
				owner[c] = -1
			}
		}
		if _, ok := w.period(header[c]); owner[c] >= 0 && best < 0 && !ok {
			owner[c] = -1 // a KPI with no label takes period columns only
		}
	}
	return owner, part
}

// plan orders a KPI's period columns and decides how its figures become the
// KPI's values, refusing columns that cannot: two for one period, a
// period's own figure spanning more than the KPI's period, a gap between
// periods to be summed.
func (wk *wideKPI) plan(e WideKPI, m *Mapper, header []string) error {
	k := &m.cat.KPIs[wk.cols[0].b.kpi]
	if (k.Kind == catalogue.KindRatio) != (e.Numerator != "") {
		if e.Numerator != "" {
			return fmt.Errorf("kpi %q is a %s: give it under, not numerator and denominator", k.ID, k.Kind)
		}
		return fmt.Errorf("kpi %q is a ratio: give the group labels of its numerator and denominator so it rolls up", k.ID)
	}
	cumulative := k.Cumulative
	if e.Values != "" {
		cumulative = e.Values == valuesCumulative
	}
	if cumulative && k.Kind != catalogue.KindCount {
		return fmt.Errorf("kpi %q is a %s: only counts add up, so its figures cannot be cumulative", k.ID, k.Kind)
	}
	if e.Column != "" {
		if cumulative != k.Cumulative {
			return fmt.Errorf("kpi %q: figures from one column, a period per row, cannot be summed up or differenced: leave values unset", k.ID)
		}
		return nil
	}
	wk.sum = k.Cumulative && !cumulative
	wk.diff = !k.Cumulative && cumulative
	sort.SliceStable(wk.cols, func(i, j int) bool { return wk.cols[i].span.end.Before(wk.cols[j].span.end) })
	seen := map[int64]int{}
	for i, c := range wk.cols {
		p := kpi.PeriodStart(k.Cadence.Period, c.span.last()).Unix()
		if j, dup := seen[p]; dup {
			return fmt.Errorf("kpi %q: columns %q and %q are for the same %s period", k.ID, header[wk.cols[j].col], header[c.col], k.Cadence.Period)
		}
		seen[p] = i
		if wk.sum && i > 0 && wk.cols[i-1].span.end != c.span.start {
			return fmt.Errorf("kpi %q: columns %q and %q leave a gap or overlap (%s, %s): figures summed up must follow on", k.ID, header[wk.cols[i-1].col], header[c.col], wk.cols[i-1].span, c.span)
		}
		own := c.span // the time the KPI's value from the column covers
		if wk.diff && i > 0 {
			own.start = wk.cols[i-1].span.end
		}
		if wk.diff && i == 0 {
			continue // from the opening, or only the base of the next
		}
		if !k.Cumulative && kpi.PeriodStart(k.Cadence.Period, own.last()) != own.start {
			hint := ""
			if wk.diff && i == 0 {
				hint = " (name an opening column to take the first difference from)"
			}
			return fmt.Errorf("kpi %q: column %q covers %s, not one %s period%s", k.ID, header[c.col], own, k.Cadence.Period, hint)
		}
	}
	return nil
}

func (wb *wideBinding) NumberColumns() []int {
	var cols []int
	for _, wk := range wb.kpis {
		for _, c := range wk.cols {
			cols = append(cols, c.col)
			if c.den >= 0 {
				cols = append(cols, c.den)
			}
		}
		if wk.opening >= 0 {
			cols = append(cols, wk.opening)
		}
	}
	return cols
}

func (wb *wideBinding) AddRow(batch *Batch, cells []string, row int) bool {
	if len(cells) < len(wb.header) {
		if strings.TrimSpace(strings.Join(cells, "")) == "" {
			return false
		}
		batch.Rejected = append(batch.Rejected, &RowError{Location{Source: wb.m.source, File: wb.file, Row: row}, fmt.Errorf("short row: %d of %d columns", len(cells), len(wb.header))})
		return false
	}
	kept := false
	for i := range wb.kpis {
		k, stop := wb.addKPI(batch, &wb.kpis[i], cells, row)
		kept = kept || k
		if stop {
			break
		}
	}
	return kept
}

// addKPI maps one KPI's columns of a record. A blank cell is a period not
// reported yet; a figure after a blank, when figures are summed up or
// differenced, is an error, since what it adds up to is unknown. stop is
// true for a row that no KPI can use: a totals row, an unknown unit.
func (wb *wideBinding) addKPI(batch *Batch, wk *wideKPI, cells []string, row int) (kept, stop bool) {
	reject := func(col int, err error) {
		batch.Rejected = append(batch.Rejected, &RowError{Location{Source: wb.m.source, File: wb.file, Row: row, Column: wb.header[col]}, err})
	}
	nf := wb.w.Numbers
	// Figures summed up or differenced are read here, before their
	// binding sees them, and the same way: in the source's format, the
	// catalogue's locale or what the column shows. They cannot wait for a
	// later row to show the format, so a value reading two ways where
	// nothing has shown which is rejected.
	k := &wb.m.cat.KPIs[wk.cols[0].b.kpi]
	number := func(b *Binding, s string) (float64, error) {
		v, _, err := b.number(b.value, s, row, true)
		if err == nil {
			err = kpi.Impossible(k, v)
		}
		return v, err
	}
	var carry float64
	haveCarry := wk.opening >= 0 && strings.TrimSpace(cells[wk.opening]) != ""
	if haveCarry {
		v, err := number(wk.cols[0].b, cells[wk.opening])
		if err != nil {
			reject(wk.opening, err)
			return false, false
		}
		carry = v
	}
	gapAfter := -1
	for _, c := range wk.cols {
		cell := cells[c.col]
		if c.den >= 0 && strings.TrimSpace(cell) == "" {
			cell = cells[c.den] // a ratio's period is reported when either part is
		}
		if strings.TrimSpace(cell) == "" {
			if gapAfter < 0 {
				gapAfter = c.col
			}
			continue
		}
		if (wk.sum || wk.diff) && gapAfter >= 0 {
			reject(c.col, fmt.Errorf("a figure after the blank %q: figures summed up or differenced by period must follow on", wb.header[gapAfter]))
			return kept, false
		}
		if wk.sum || wk.diff {
			v, err := number(c.b, cell)
			if err != nil {
				reject(c.col, err)
				return kept, false
			}
			switch {
			case wk.sum:
				carry += v
				cell = FormatNumber(carry, nf)
			case !haveCarry:
				carry, haveCarry = v, true
				continue // the base the next period's figure is taken from
			case v < carry:
				reject(c.col, fmt.Errorf("%s is below the running total before it, %s: a count's own figure for a period cannot be negative", FormatNumber(v, nf), FormatNumber(carry, nf)))
				return kept, false
			default:
				cell, carry = FormatNumber(v-carry, nf), v
			}
		}
		wb.rec = wb.rec[:0]
		for _, i := range wb.dimCols {
			wb.rec = append(wb.rec, cells[i])
		}
		if c.span.end.IsZero() { // a KPI read from one column: the row's period
			wb.rec = append(wb.rec, cells[wb.date])
		} else {
			wb.rec = append(wb.rec, c.span.last().Format("2006-01-02"))
		}
		record := append(wb.rec, cell)
		if c.den >= 0 {
			record = append(wb.rec, cells[c.col], cells[c.den])
		}
		obs, skip, err := c.b.Row(record, row)
		obs.Loc.Column = wb.header[c.col] // a figure's place is its cell, not only its row
		var re *RowError
		if errors.As(err, &re) && re.Loc.Column == "period of "+wb.header[c.col] {
			re.Loc.Column = wb.header[c.col]
		}
		kept = batch.Add(obs, skip, err) || kept
		if skip || err != nil && re != nil && re.Loc.Column != wb.header[c.col] && (c.den < 0 || re.Loc.Column != wb.header[c.den]) {
			return kept, true // a totals row, or a row whose unit cannot be used
		}
		if err != nil && (wk.sum || wk.diff) {
			return kept, false
		}
	}
	return kept, false
}
