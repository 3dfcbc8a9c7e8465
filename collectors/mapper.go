package collectors

import (
	"errors"
	"fmt"
	"maps"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/kpiwatch/kpiwatch/catalogue"
	"github.com/kpiwatch/kpiwatch/internal/suggest"
	"github.com/kpiwatch/kpiwatch/kpi"
	"github.com/kpiwatch/kpiwatch/units"
)

// Mapping says which column of a record holds what. Every tabular collector
// (CSV, Excel, SQL, JSON rows) embeds it.
type Mapping struct {
	// KPI is the one KPI a source reports; KPIColumn instead names the column
	// that holds a KPI id (or name) in each row.
	KPI       string `yaml:"kpi"`
	KPIColumn string `yaml:"kpi_column"`
	// Date is the column with the report date or period (2025-10, 10/2025,
	// 31/10/2025, 2025-10-31, 2026.10; a year alone for a yearly KPI);
	// DateFormat, a Go layout, overrides the guessing.
	Date       string `yaml:"date"`
	DateFormat string `yaml:"date_format"`
	// ReportedAt, optional, is the column with the day the unit sent its
	// report (read like Date): completeness judges "received by the due day"
	// from it, and a source without it has no on-time figure.
	ReportedAt string `yaml:"reported_at"`
	// Value holds the figure; ratio KPIs need Numerator and Denominator
	// instead, so that they roll up correctly.
	Value       string `yaml:"value"`
	Numerator   string `yaml:"numerator"`
	Denominator string `yaml:"denominator"`
	// Dimensions maps a dimension (province, ministry, commune, block) to its
	// column.
	Dimensions map[string]string `yaml:"dimensions"`
	Numbers    NumberFormat      `yaml:"numbers"`
}

// NumberFormat is how a source writes numbers: Vietnamese reports write
// 1.058.569 and 59,57%, so decimal "," and thousands ".". A mapping that
// declares none reads numbers in the catalogue's metadata.locale; without
// that either, each column's unambiguous values settle the rest.
type NumberFormat struct {
	Decimal   string `yaml:"decimal"`
	Thousands string `yaml:"thousands"`
}

// The formats of the catalogue's locales.
var (
	viNumbers = NumberFormat{Decimal: ",", Thousands: "."}
	enNumbers = NumberFormat{Decimal: ".", Thousands: ","}
)

func (f NumberFormat) declared() bool { return f.Decimal != "" || f.Thousands != "" }

// Check reports mapping problems that need no data to see.
func (m Mapping) Check(prefix string) []catalogue.FieldError {
	var errs []catalogue.FieldError
	add := func(p, msg string) { errs = append(errs, catalogue.FieldError{Path: prefix + "." + p, Msg: msg}) }
	if (m.KPI == "") == (m.KPIColumn == "") {
		add("kpi", "set exactly one of kpi (a fixed KPI id) and kpi_column")
	}
	if m.Date == "" {
		add("date", "required: the column with the report date")
	}
	if m.Value == "" && (m.Numerator == "" || m.Denominator == "") {
		add("value", "required, or numerator and denominator")
	}
	for d := range m.Dimensions {
		if !slices.Contains(catalogue.Dimensions, d) && !dimensionName.MatchString(d) {
			add("dimensions."+d, fmt.Sprintf("%q is not a dimension (have %v, or one the catalogue declares)", d, catalogue.Dimensions))
		}
	}
	nf := m.Numbers.withDefaults()
	if len(nf.Decimal) != 1 || len(nf.Thousands) > 1 || nf.Decimal == nf.Thousands {
		add("numbers", fmt.Sprintf("decimal %q and thousands %q must be single, different characters", nf.Decimal, nf.Thousands))
	}
	return errs
}

// Columns lists the columns the mapping reads, each once, in a fixed order:
// the header of records that bring none of their own (JSON objects).
func (m Mapping) Columns() []string {
	cols := []string{m.KPIColumn, m.Date, m.ReportedAt, m.Value, m.Numerator, m.Denominator}
	for _, d := range catalogue.Dimensions {
		cols = append(cols, m.Dimensions[d])
	}
	for _, d := range slices.Sorted(maps.Keys(m.Dimensions)) { // declared ones
		cols = append(cols, m.Dimensions[d])
	}
	var out []string
	for _, c := range cols {
		if c != "" && !slices.Contains(out, c) {
			out = append(out, c)
		}
	}
	return out
}

func (f NumberFormat) withDefaults() NumberFormat {
	if f.Decimal == "" {
		f.Decimal = "."
	}
	if f.Thousands == "" && f.Decimal == "," {
		f.Thousands = "."
	}
	return f
}

// Location names where a record came from.
type Location struct {
	Source string
	File   string // file, URL or query name
	Row    int    // 1-based as the file shows it (a header is row 1)
	Column string
}

func (l Location) String() string {
	s := "source " + l.Source
	if l.File != "" {
		s += ": " + l.File
	}
	if l.Row > 0 {
		s += fmt.Sprintf(": row %d", l.Row)
	}
	if l.Column != "" {
		s += fmt.Sprintf(", column %q", l.Column)
	}
	return s
}

// RowError is bad input at a location.
type RowError struct {
	Loc Location
	Err error
}

func (e *RowError) Error() string { return e.Loc.String() + ": " + e.Err.Error() }
func (e *RowError) Unwrap() error { return e.Err }

// Mapper turns records into observations for one source of one catalogue.
type Mapper struct {
	cat    *catalogue.Catalogue
	source string
	kpis   map[string]int // id and normalised names -> index
	owners map[string]string

	mu       sync.Mutex
	bindings []*Binding // those guessing number formats, for Settle
	series   *seriesCount

	// now is the time of the read, that the window of report dates is
	// judged by.
	now time.Time
}

// NewMapper prepares mapping for the source with id source.
func NewMapper(cat *catalogue.Catalogue, source string) *Mapper {
	m := &Mapper{cat: cat, source: source, kpis: map[string]int{}, owners: map[string]string{}, now: time.Now()}
	for _, s := range cat.Sources {
		if s.ID == source {
			m.series = newSeriesCount(s.MaxSeries)
		}
	}
	for i, k := range cat.KPIs {
		for _, n := range []string{k.ID, k.Name, k.NameVI} {
			if n != "" {
				m.kpis[units.Normalise(n)] = i
			}
		}
	}
	for _, o := range cat.Owners {
		for _, n := range append([]string{o.ID, o.Name, o.NameVI}, o.Aliases...) {
			if n != "" {
				m.owners[units.Normalise(n)] = o.ID
			}
		}
	}
	return m
}

// Owner resolves an owner's id, name, Vietnamese name or alias.
func (m *Mapper) Owner(name string) (catalogue.Owner, bool) {
	id, ok := m.owners[units.Normalise(name)]
	if !ok {
		return catalogue.Owner{}, false
	}
	return m.cat.Owner(id)
}

// Source is the id of the source being mapped.
func (m *Mapper) Source() string { return m.source }

// Binding is a Mapping bound to the columns of one header.
type Binding struct {
	m        *Mapper
	mapping  Mapping
	file     string
	header   []string
	kpi      int // fixed KPI, or -1
	kpiCol   int
	date     int
	sent     int // mapping.reported_at, or -1
	value    int
	num, den int
	dims     map[string]int
	nf       NumberFormat
	// A report repeats the same KPI ids, unit names and dates over up to a
	// million rows: each distinct cell is resolved once, and the
	// observations share the resulting label strings rather than each
	// keeping its record alive.
	kpiCells  map[string]int // -1 for a KPI not in the catalogue
	dimCells  map[string]map[string]dimValue
	dateCells map[string]dateValue
	// windows are the first and last dates a report of a KPI (by index)
	// may be for, at the time of the read.
	windows map[int][2]time.Time
	// guess is set when no number format is declared: columns holds what
	// each number column's values have shown of its format, and deferred
	// the rows with a number that reads two ways until Settle.
	guess    bool
	columns  map[int]*columnFormat
	deferred []deferredRow
}

// columnFormat is the format a column's values have shown: the locale, and
// the first cell and row that showed it.
type columnFormat struct {
	locale string
	cell   string
	row    int
}

// deferredRow is a mapped row waiting for its column to show its format,
// with the number cells as the file wrote them.
type deferredRow struct {
	obs             Observation
	value, num, den string
}

// errDeferred is Row's word for a row kept back until Settle.
var errDeferred = errors.New("deferred until the column shows its number format")

// dimValue is a resolved dimension cell.
type dimValue struct {
	label  string
	unit   string  // the listed unit the cell names (former or current), for roll-ups
	merged *Merger // set when that unit is a former one
	total  bool    // a totals row
	err    error
}

// dateValue is a read date cell; year is set for a year alone.
type dateValue struct {
	t    time.Time
	year bool
	err  error
}

// Bind finds the mapping's columns in header. A missing column is an error
// that lists the columns the file has.
func (m *Mapper) Bind(mp Mapping, header []string, file string) (*Binding, error) {
	b := &Binding{m: m, mapping: mp, file: file, header: header, kpi: -1, kpiCol: -1, sent: -1, value: -1, num: -1, den: -1, dims: map[string]int{},
		kpiCells: map[string]int{}, dimCells: map[string]map[string]dimValue{}, dateCells: map[string]dateValue{}, windows: map[int][2]time.Time{}, columns: map[int]*columnFormat{}}
	switch {
	case mp.Numbers.declared():
		b.nf = mp.Numbers.withDefaults()
	case m.cat.Metadata.Locale == catalogue.LocaleVI:
		b.nf = viNumbers
	case m.cat.Metadata.Locale == catalogue.LocaleEN:
		b.nf = enNumbers
	default:
		b.guess = true
	}
	index := map[string]int{}
	for i, h := range header {
		index[strings.TrimSpace(strings.TrimPrefix(h, "\ufeff"))] = i
	}
	var missing []string
	col := func(name string) int {
		if name == "" {
			return -1
		}
		if i, ok := index[name]; ok {
			return i
		}
		missing = append(missing, name)
		return -1
	}
	if mp.KPI != "" {
		i, ok := m.kpis[units.Normalise(mp.KPI)]
		if !ok {
			return nil, &RowError{Location{Source: m.source, File: file}, fmt.Errorf("kpi %q is not in the catalogue%s", mp.KPI, suggest.DidYouMean(mp.KPI, m.cat.KPIIDs()))}
		}
		if k := &m.cat.KPIs[i]; !k.ReadFrom(m.source) {
			return nil, &RowError{Location{Source: m.source, File: file}, notThisSource(k, m.source)}
		}
		b.kpi = i
	}
	b.kpiCol = col(mp.KPIColumn)
	b.date = col(mp.Date)
	b.sent = col(mp.ReportedAt)
	b.value = col(mp.Value)
	b.num = col(mp.Numerator)
	b.den = col(mp.Denominator)
	for d, c := range mp.Dimensions {
		if !m.cat.IsDimension(d) {
			return nil, &RowError{Location{Source: m.source, File: file}, fmt.Errorf("mapping: %q is not a dimension (have %v)", d, m.cat.DimensionNames())}
		}
		b.dims[d] = col(c)
	}
	if len(missing) > 0 {
		hint := ""
		for _, name := range missing {
			hint += suggest.DidYouMean(name, slices.Collect(maps.Keys(index)))
		}
		return nil, &RowError{Location{Source: m.source, File: file, Row: 1}, fmt.Errorf("no column %q%s (the header has %q)", missing, hint, header)}
	}
	if b.guess {
		m.mu.Lock()
		m.bindings = append(m.bindings, b)
		m.mu.Unlock()
	}
	return b, nil
}

// NumberColumns are the indexes in the header of the columns read as
// numbers (value, numerator, denominator).
func (b *Binding) NumberColumns() []int {
	var cols []int
	for _, c := range []int{b.value, b.num, b.den} {
		if c >= 0 && !slices.Contains(cols, c) {
			cols = append(cols, c)
		}
	}
	return cols
}

// totalRows are the unit names that mark a totals row, skipped rather than
// rejected: totals are computed by recording rules, never read.
var totalRows = map[string]bool{"tong": true, "tong cong": true, "cong": true, "total": true, "grand total": true, "ca nuoc": true, "toan quoc": true, "national": true}

// Row maps one record. skip is true for blank and totals rows.
func (b *Binding) Row(cells []string, row int) (obs Observation, skip bool, err error) {
	loc := Location{Source: b.m.source, File: b.file, Row: row}
	blank := true
	for _, c := range cells {
		if strings.TrimSpace(c) != "" {
			blank = false
			break
		}
	}
	if blank {
		return obs, true, nil
	}
	if len(cells) < len(b.header) {
		return obs, false, &RowError{loc, fmt.Errorf("short row: %d of %d columns", len(cells), len(b.header))}
	}
	for i := len(b.header); i < len(cells); i++ {
		if strings.TrimSpace(cells[i]) != "" {
			return obs, false, &RowError{loc, fmt.Errorf("long row: %d columns, the header has %d (cell %d is %.40q)", len(cells), len(b.header), i+1, cells[i])}
		}
	}
	fail := func(col int, err error) (Observation, bool, error) {
		loc.Column = b.header[col]
		return obs, false, &RowError{loc, err}
	}
	obs.KPI = b.kpi
	if b.kpiCol >= 0 {
		i := b.kpiIndex(cells[b.kpiCol])
		if i < 0 && totalRows[units.Normalise(cells[b.kpiCol])] {
			return obs, true, nil // a national file's totals row
		}
		if i < 0 {
			return fail(b.kpiCol, fmt.Errorf("kpi %q is not in the catalogue%s", cells[b.kpiCol], suggest.DidYouMean(cells[b.kpiCol], b.m.cat.KPIIDs())))
		}
		obs.KPI = i
	}
	k := &b.m.cat.KPIs[obs.KPI]
	if !k.ReadFrom(b.m.source) { // a KPI named by a row: a fixed one is checked by Bind
		return fail(b.kpiCol, notThisSource(k, b.m.source))
	}
	obs.Labels = make([]string, len(k.Dimensions))
	for i, d := range k.Dimensions {
		c, ok := b.dims[d]
		if !ok {
			return fail(b.date, fmt.Errorf("kpi %q is broken down by %s but the source maps no %s column", k.ID, d, d))
		}
		v := b.dimension(d, strings.TrimSpace(cells[c]))
		if v.total {
			return obs, true, nil
		}
		if v.err != nil {
			return fail(c, v.err)
		}
		obs.Labels[i] = v.label
		switch {
		case v.unit == "":
		case obs.Unit == "":
			obs.Unit = v.unit
		default: // units of two listed levels: one report is of both
			obs.Unit += " / " + v.unit
		}
		if v.merged != nil {
			obs.Merged = v.merged
		}
	}
	date, err := b.readDate(obs.KPI, cells[b.date])
	if err != nil {
		return fail(b.date, err)
	}
	obs.Period = kpi.PeriodStart(k.Cadence.Period, date)
	obs.Loc = loc
	if b.sent >= 0 {
		if obs.ReportedAt, err = b.readDate(obs.KPI, cells[b.sent]); err != nil {
			return fail(b.sent, err)
		}
	}
	if k.Kind == catalogue.KindRatio && (b.num < 0 || b.den < 0) {
		return fail(b.date, fmt.Errorf("kpi %q is a ratio: map numerator and denominator so it rolls up", k.ID))
	}
	if k.Kind != catalogue.KindRatio && b.value < 0 {
		return fail(b.date, fmt.Errorf("kpi %q needs a value column", k.ID))
	}
	cell := func(i int) string {
		if i < 0 {
			return ""
		}
		return cells[i]
	}
	d := deferredRow{value: cell(b.value), num: cell(b.num), den: cell(b.den)}
	deferred, err := b.numbers(&obs, k, d, false)
	if err == nil {
		b.m.countSeries(&obs)
	}
	if deferred {
		d.obs = obs
		d.value, d.num, d.den = strings.Clone(d.value), strings.Clone(d.num), strings.Clone(d.den)
		b.deferred = append(b.deferred, d)
		return obs, false, errDeferred
	}
	return obs, false, err
}

// numbers reads a row's value, or numerator and denominator, into obs. It
// reports deferred for a number that reads two ways in a column that has
// not shown its format yet, unless final (at Settle), when that is an error.
func (b *Binding) numbers(obs *Observation, k *catalogue.KPI, d deferredRow, final bool) (deferred bool, err error) {
	fail := func(col int, err error) (bool, error) {
		obs.Loc.Column = b.header[col]
		return false, &RowError{obs.Loc, err}
	}
	read := func(col int, s string) (float64, bool, error) {
		v, later, err := b.number(col, s, obs.Loc.Row, final)
		if err == nil && !later {
			err = kpi.Impossible(k, v)
		}
		return v, later, err
	}
	if k.Kind != catalogue.KindRatio {
		v, later, err := read(b.value, d.value)
		if err != nil {
			return fail(b.value, err)
		}
		obs.Value = v
		return later, nil
	}
	num, laterNum, err := read(b.num, d.num)
	if err != nil {
		return fail(b.num, err)
	}
	den, laterDen, err := read(b.den, d.den)
	if err != nil {
		return fail(b.den, err)
	}
	if laterNum || laterDen {
		return true, nil
	}
	if den <= 0 {
		return fail(b.den, fmt.Errorf("denominator %g is not positive", den))
	}
	obs.Num, obs.Den, obs.Value = num, den, num/den
	return false, nil
}

// number reads the number cell s of column col (an index into the
// binding's header) as every figure is read: a typed number exactly, text
// in the declared or the catalogue's format, or where neither is set in
// the format its column shows. A value that reads two ways in a column that
// has not shown its format is deferred (later is true), or when final an
// error.
func (b *Binding) number(col int, s string, row int, final bool) (v float64, later bool, err error) {
	if v, ok := typed(s); ok {
		return v, false, nil
	}
	if !b.guess {
		v, err := ParseNumber(s, b.nf)
		return v, false, err
	}
	return b.columnNumber(col, s, row, final)
}

// typed reads a number as FormatNumber writes a typed one (an Excel number
// cell, a database column, a JSON number) for a source that declares no
// format: an exponent, which no report writes, in any binding's format.
// It shows nothing of how the file writes numbers.
func typed(s string) (float64, bool) {
	if !strings.ContainsAny(s, "eE") {
		return 0, false
	}
	v, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
	return v, err == nil && !math.IsInf(v, 0) && !math.IsNaN(v)
}

// columnNumber reads a number where no format is declared. A value that
// reads one way only (1.058.569, 12,5, 1,058,569, 0.5) shows its column's
// format; one that reads two ways (171.548) takes the format its column
// shows, and waits for it until final. A value that contradicts what its
// column showed is an error, as is one still unsettled when final.
func (b *Binding) columnNumber(col int, s string, row int, final bool) (float64, bool, error) {
	// Most cells need one reading: those without a separator, and those
	// of a column that has shown its format.
	cf := b.columns[col]
	if cf != nil || !strings.ContainsAny(s, ".,") {
		f := enNumbers
		if cf != nil && cf.locale == catalogue.LocaleVI {
			f = viNumbers
		}
		v, err := ParseNumber(s, f)
		if err == nil {
			return v, false, nil
		} else if cf == nil {
			return 0, false, err
		}
	}
	vi, viErr := ParseNumber(s, viNumbers)
	en, enErr := ParseNumber(s, enNumbers)
	const fix = "set metadata.locale (vi or en) in the catalogue, or numbers: in this source's mapping"
	switch {
	case viErr != nil && enErr != nil:
		return 0, false, fmt.Errorf("%q is not a number", s)
	case viErr == nil && enErr == nil && vi == en:
		return vi, false, nil
	case viErr == nil && enErr == nil:
		switch {
		case cf != nil && cf.locale == catalogue.LocaleVI:
			return vi, false, nil
		case cf != nil:
			return en, false, nil
		case !final:
			return 0, true, nil
		}
		return 0, false, fmt.Errorf("%q could be %s (locale vi) or %s (locale en), and no other value in the column shows which: %s",
			s, strconv.FormatFloat(vi, 'f', -1, 64), strconv.FormatFloat(en, 'f', -1, 64), fix)
	}
	locale, v := catalogue.LocaleVI, vi
	if viErr != nil {
		locale, v = catalogue.LocaleEN, en
	}
	switch {
	case cf == nil:
		b.columns[col] = &columnFormat{locale: locale, cell: strings.Clone(s), row: row}
	case cf.locale != locale:
		return 0, false, fmt.Errorf("%q reads only as %s numbers, but row %d of this column wrote %q, which reads only as %s: %s", s, locale, cf.row, cf.cell, cf.locale, fix)
	}
	return v, false, nil
}

// Settle maps the rows kept back for their number format, now that every
// column has shown what it can, into batch: rows of a column that showed
// its format are read in it; the rest are rejected with the option to set.
func (m *Mapper) Settle(batch *Batch) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, b := range m.bindings {
		for _, d := range b.deferred {
			obs := d.obs
			_, err := b.numbers(&obs, &m.cat.KPIs[obs.KPI], d, true)
			batch.Add(obs, false, err)
		}
	}
	m.bindings = nil
}

func (b *Binding) kpiIndex(cell string) int {
	i, ok := b.kpiCells[cell]
	if !ok {
		if i, ok = b.m.kpis[units.Normalise(cell)]; !ok {
			i = -1
		}
		b.kpiCells[strings.Clone(cell)] = i
	}
	return i
}

func (b *Binding) dimension(d, raw string) dimValue {
	cells := b.dimCells[d]
	if v, ok := cells[raw]; ok {
		return v
	}
	if cells == nil {
		cells = map[string]dimValue{}
		b.dimCells[d] = cells
	}
	raw = strings.Clone(raw)
	var v dimValue
	if !utf8.ValidString(raw) {
		// A label value must be UTF-8, or the whole exposition is invalid.
		desc, _ := legacyEncoding(raw)
		v.err = fmt.Errorf("%s is not valid UTF-8 text: %s", d, desc)
	} else if n := units.Normalise(raw); totalRows[n] {
		v.total = true
	} else if l := b.m.cat.UnitLevel(d); l != nil {
		var u units.Unit
		u, v.unit, v.err = l.Match(raw)
		v.label = u.Name
		if named, _ := l.Unit(v.unit); v.err == nil && !named.Current() {
			v.merged = &Merger{Level: l.Name, Into: u.Name, On: named.MergedOn}
		}
	} else {
		v.label, v.err = b.m.dimension(d, raw)
	}
	cells[raw] = v
	return v
}

// readDate reads a date cell for the KPI with index ki: a date as
// ParseDate reads it, or for a yearly KPI a year alone ("2025", "Năm
// 2025"). A date outside the window a report of the KPI may be for
// (kpi.InWindow) is an error.
func (b *Binding) readDate(ki int, cell string) (time.Time, error) {
	k := &b.m.cat.KPIs[ki]
	v, ok := b.dateCells[cell]
	if !ok {
		v.t, v.err = ParseDate(cell, b.mapping.DateFormat)
		if y := yearAlone.FindStringSubmatch(units.Normalise(cell)); y != nil && b.mapping.DateFormat == "" {
			year, _ := strconv.Atoi(y[1])
			v.t, v.year, v.err = time.Date(year, 1, 1, 0, 0, 0, 0, time.UTC), true, nil
		}
		b.dateCells[strings.Clone(cell)] = v
	}
	switch {
	case v.err != nil:
		return time.Time{}, v.err
	case v.year && k.Cadence.Period != catalogue.Yearly:
		return time.Time{}, fmt.Errorf("%q is a year alone, but kpi %q is reported %s: give the %s", cell, k.ID, k.Cadence.Period, periodWord[k.Cadence.Period])
	}
	w, ok := b.windows[ki]
	if !ok {
		w = [2]time.Time{kpi.Earliest(k), kpi.Latest(k, b.m.now)}
		b.windows[ki] = w
	}
	if v.t.Before(w[0]) || v.t.After(w[1]) {
		return time.Time{}, fmt.Errorf("%q: %w", cell, kpi.InWindow(k, v.t, b.m.now))
	}
	return v.t, nil
}

// notThisSource is the error for a KPI that source reports but that is
// not read from it.
func notThisSource(k *catalogue.KPI, source string) error {
	return fmt.Errorf("kpi %q is read from %s, not source %s: to read it from both, list the KPI's sources under sources: in order, the one whose figures win a period both give last",
		k.ID, strings.Join(k.SourceIDs(), " and "), source)
}

// periodWord names what a date cell must give for a cadence.
var periodWord = map[catalogue.Period]string{catalogue.Weekly: "day", catalogue.Monthly: "month (2025-10)", catalogue.Quarterly: "month or day"}

func (m *Mapper) dimension(d, raw string) (string, error) {
	switch d {
	case catalogue.DimMinistry:
		if id, ok := m.owners[units.Normalise(raw)]; ok {
			return id, nil
		}
		return "", fmt.Errorf("unknown ministry %q (not an owner id, name or alias)", raw)
	case catalogue.DimBlock:
		if _, ok := m.cat.Block(raw); ok {
			return raw, nil
		}
		return "", fmt.Errorf("unknown block %q", raw)
	}
	if dd, ok := m.cat.Dimension(d); ok {
		return dd.Value(raw)
	}
	if raw == "" {
		return "", fmt.Errorf("empty %s", d)
	}
	return raw, nil
}

// dimensionName is the form of a dimension a catalogue may declare: the
// catalogue says which it does.
var dimensionName = regexp.MustCompile(`^[a-z][a-z0-9_]*$`)

// numberSpaces turns the spaces and the minus sign of typeset numbers into
// ASCII ones.
var numberSpaces = strings.NewReplacer("\u00a0", " ", "\u202f", " ", "\u2212", "-")

// ParseNumber reads a number as reports write it: thousands separators,
// a decimal comma, a trailing % (59,57% is 0.5957), surrounding spaces, a
// negative in parentheses as accountants write it ((1.000) is -1000) or
// with a minus sign (U+2212).
func ParseNumber(s string, f NumberFormat) (float64, error) {
	f = f.withDefaults()
	t := s
	if strings.ContainsAny(t, "\u00a0\u202f\u2212") {
		t = numberSpaces.Replace(t)
	}
	t = strings.TrimSpace(t)
	if t == "" {
		return 0, fmt.Errorf("empty number")
	}
	scale := 1.0
	if len(t) > 2 && t[0] == '(' && t[len(t)-1] == ')' {
		scale = -1
		t = strings.TrimSpace(t[1 : len(t)-1])
	}
	if strings.HasSuffix(t, "%") {
		scale *= 0.01
		t = strings.TrimSpace(strings.TrimSuffix(t, "%"))
	}
	t = strings.ReplaceAll(t, " ", "")
	whole, frac, hasFrac := strings.Cut(t, f.Decimal)
	if f.Thousands != "" && strings.Contains(whole, f.Thousands) {
		// Separators must group thousands, so that 0.5 in a source that
		// writes 1.058.569 is an error rather than five.
		groups := strings.Split(whole, f.Thousands)
		first := strings.TrimLeft(groups[0], "+-")
		bad := len(first) == 0 || len(first) > 3 || first[0] == '0'
		for _, g := range groups[1:] {
			bad = bad || len(g) != 3
		}
		if bad {
			return 0, fmt.Errorf("%q is not a number (%q must separate groups of three digits)", s, f.Thousands)
		}
		whole = strings.Join(groups, "")
	}
	if strings.ContainsAny(whole+frac, f.Thousands+".,") {
		return 0, fmt.Errorf("%q is not a number (decimal separator %q, thousands %q)", s, f.Decimal, f.Thousands)
	}
	t = whole
	if hasFrac {
		t += "." + frac
	}
	v, err := strconv.ParseFloat(t, 64)
	switch {
	case errors.Is(err, strconv.ErrRange) && !math.IsInf(v, 0):
		v = 0 // too small to tell from zero
	case errors.Is(err, strconv.ErrRange):
		return 0, fmt.Errorf("%q is too large a number", s)
	case err != nil || math.IsInf(v, 0) || math.IsNaN(v) || scale < 0 && strings.HasPrefix(t, "-"):
		return 0, fmt.Errorf("%q is not a number", s)
	}
	return v * scale, nil
}

// FormatNumber writes a typed number (from a database, a JSON document or an
// Excel number cell) in the source's number format, so that ParseNumber
// reads it back exactly. A whole number is written in plain digits, which
// read alike in every format (and as a year in a date column). Otherwise,
// where no format is declared, it writes an exponent (1.71548e+02), which
// reads one way only, so that a typed number never looks like a thousands
// group.
func FormatNumber(v float64, f NumberFormat) string {
	if v == math.Trunc(v) && math.Abs(v) < 1e15 {
		return strconv.FormatFloat(v, 'f', -1, 64)
	}
	if !f.declared() {
		return strconv.FormatFloat(v, 'e', -1, 64)
	}
	return strings.Replace(strconv.FormatFloat(v, 'g', -1, 64), ".", f.withDefaults().Decimal, 1)
}

// dateLayouts are the forms of a report date ParseDate reads: ISO days and
// months, Vietnamese day-month-year with slashes, dashes or dots, and a
// month with its year either side of a dot (2026.10, 10.2026). A year is
// always four digits.
var dateLayouts = []string{
	"2006-01-02", "2006-01", "2006/01/02", "2006/01", "2006.01.02", "2006.01", "02/01/2006", "2/1/2006", "01/2006", "1/2006",
	"02-01-2006", "2-1-2006", "01-2006", "1-2006", "02.01.2006", "2.1.2006", "01.2006", "1.2006",
	time.RFC3339, "2006-01-02 15:04:05", "2006-01-02T15:04:05",
}

// excelEpoch is day 0 of Excel's 1900 date system (with its 1900 leap bug).
var excelEpoch = time.Date(1899, 12, 30, 0, 0, 0, 0, time.UTC)

// yearAlone is a cell, as units.Normalise leaves it, that names a year and
// nothing else: "2025", "Năm 2025".
var yearAlone = regexp.MustCompile(`^(?:nam )?(\d{4})$`)

// ParseDate reads a report date. With layout empty it reads the forms
// reports use: ISO dates and months, dd/mm/yyyy, mm/yyyy, 2026.10 and
// 10.2026, "Tháng 10/2025", "T10/2025", "tháng 10 năm 2025". A year alone
// names no date, and a number is not read as an Excel date serial: a
// workbook's date cells arrive as the dates they show.
func ParseDate(s, layout string) (time.Time, error) {
	t := strings.TrimSpace(strings.ReplaceAll(s, "\u00a0", " "))
	if layout != "" {
		d, err := time.Parse(layout, t)
		if err != nil {
			return time.Time{}, fmt.Errorf("%q is not a date in the form %q", s, layout)
		}
		return d.UTC(), nil
	}
	n := units.Normalise(t)
	if yearAlone.MatchString(n) {
		return time.Time{}, fmt.Errorf("%q is a year alone, not a date", s)
	}
	for _, p := range []string{"thang ", "th ", "t"} {
		if strings.HasPrefix(n, p) && len(n) > len(p) && n[len(p)] >= '0' && n[len(p)] <= '9' {
			t = strings.ReplaceAll(strings.TrimSpace(n[len(p):]), " ", "/")
			break
		}
	}
	for _, l := range dateLayouts {
		if d, err := time.Parse(l, t); err == nil {
			return d.UTC(), nil
		}
	}
	if p, ok := headerPeriod(s); ok && strings.Contains(n, "thang ") && p.end.Equal(p.start.AddDate(0, 1, 0)) {
		return p.start, nil // "tháng 10 năm 2025"
	}
	if _, err := strconv.ParseFloat(t, 64); err == nil {
		return time.Time{}, fmt.Errorf("%q is a number, not a date (an Excel date is read from a cell formatted as a date)", s)
	}
	return time.Time{}, fmt.Errorf("%q is not a date", s)
}
