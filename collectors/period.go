package collectors

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/kpiwatch/kpiwatch/units"
)

// span is the time a figure covers: from start up to, not including, end.
type span struct{ start, end time.Time }

// last is the last day of the span: the date its figure stands at.
func (s span) last() time.Time { return s.end.AddDate(0, 0, -1) }

func (s span) String() string {
	return s.start.Format("2006-01-02") + " to " + s.last().Format("2006-01-02")
}

func months(year, from, n int) span {
	start := time.Date(year, time.Month(from), 1, 0, 0, 0, 0, time.UTC)
	return span{start, start.AddDate(0, n, 0)}
}

// The forms of a period in a header, on the text as units.Normalise leaves
// it (lower case, no diacritics, punctuation as spaces): "6 tháng đầu năm
// 2025" is "6 thang dau nam 2025", "T10/2025" is "t10 2025".
var (
	yearRe     = regexp.MustCompile(`\b(?:19|20)\d\d\b`)
	nMonthsRe  = regexp.MustCompile(`\b(\d{1,2}) thang(?: (dau|cuoi))?\b`)
	halfRe     = regexp.MustCompile(`\bnua (dau|cuoi) nam\b`)
	quarterRe  = regexp.MustCompile(`\b(?:quy|q) ?(iv|iii|ii|i|[1-4])\b`)
	dayRe      = regexp.MustCompile(`\b(\d{1,2}) (\d{1,2}) ((?:19|20)\d\d)\b`)
	monthRe    = regexp.MustCompile(`\b(?:thang|th|t) ?(\d{1,2})\b`)
	monthNumRe = regexp.MustCompile(`\b(\d{1,2}) (?:19|20)\d\d\b`)
	isoMonthRe = regexp.MustCompile(`\b(?:19|20)\d\d (\d{1,2})\b`)
	yearOnly   = map[string]bool{"": true, "nam": true, "ca nam": true}
	// decimalYear is a year with one digit after a decimal point or comma:
	// a number, not a month.
	decimalYear = regexp.MustCompile(`^(?:19|20)\d\d[.,]\d$`)
)

var romanQuarters = map[string]int{"i": 1, "ii": 2, "iii": 3, "iv": 4, "1": 1, "2": 2, "3": 3, "4": 4}

// headerPeriod reads the period a column header names, in the forms
// Vietnamese reports write: "T1/2025", "Tháng 10/2025", "10/2025",
// "2025-10", "Quý III/2025", "Q3 2025", "6 tháng đầu năm 2025", "9 tháng
// 2025", "6 tháng cuối năm 2025", "Năm 2025", "Lũy kế đến 31/10/2025", and
// with the year above the months in a two-level header, "Năm 2025 T1". A
// header with no year, or two, names no period, and neither does a number
// such as 2026.1 (2026.10 typed into a number cell) or 2026,1.
func headerPeriod(header string) (span, bool) {
	if decimalYear.MatchString(strings.TrimSpace(header)) {
		return span{}, false
	}
	n := units.Normalise(header)
	if m := dayRe.FindStringSubmatch(n); m != nil {
		d, _ := strconv.Atoi(m[1])
		mo, _ := strconv.Atoi(m[2])
		y, _ := strconv.Atoi(m[3])
		t := time.Date(y, time.Month(mo), d, 0, 0, 0, 0, time.UTC)
		if mo < 1 || mo > 12 || t.Day() != d {
			return span{}, false
		}
		return span{t, t.AddDate(0, 0, 1)}, true
	}
	years := yearRe.FindAllString(n, -1)
	for _, y := range years[min(1, len(years)):] {
		if y != years[0] {
			return span{}, false
		}
	}
	if len(years) == 0 {
		return span{}, false
	}
	year, _ := strconv.Atoi(years[0])
	if m := nMonthsRe.FindStringSubmatch(n); m != nil {
		k, _ := strconv.Atoi(m[1])
		if k < 1 || k > 12 {
			return span{}, false
		}
		if m[2] == "cuoi" {
			return months(year, 13-k, k), true
		}
		return months(year, 1, k), true
	}
	if m := halfRe.FindStringSubmatch(n); m != nil {
		if m[1] == "cuoi" {
			return months(year, 7, 6), true
		}
		return months(year, 1, 6), true
	}
	if m := quarterRe.FindStringSubmatch(n); m != nil {
		return months(year, 3*romanQuarters[m[1]]-2, 3), true
	}
	for _, re := range []*regexp.Regexp{monthRe, monthNumRe, isoMonthRe} {
		if m := re.FindStringSubmatch(n); m != nil {
			mo, _ := strconv.Atoi(m[1])
			if mo < 1 || mo > 12 {
				return span{}, false
			}
			return months(year, mo, 1), true
		}
	}
	if yearOnly[strings.TrimSpace(yearRe.ReplaceAllString(n, ""))] {
		return months(year, 1, 12), true
	}
	return span{}, false
}

// periodPattern is an operator's own header form: a regular expression on
// the header as written, with named groups year (required) and one of
// month, quarter (1-4 or I-IV), months (so many months from January) or
// day with month.
type periodPattern struct{ re *regexp.Regexp }

func compilePeriodPattern(expr string) (*periodPattern, error) {
	re, err := regexp.Compile(expr)
	if err != nil {
		return nil, err
	}
	if re.SubexpIndex("year") < 0 {
		return nil, fmt.Errorf("%q has no named group (?P<year>...)", expr)
	}
	return &periodPattern{re}, nil
}

func (p *periodPattern) period(header string) (span, bool) {
	m := p.re.FindStringSubmatch(strings.Join(strings.Fields(header), " "))
	if m == nil {
		return span{}, false
	}
	group := func(name string) (int, bool) {
		i := p.re.SubexpIndex(name)
		if i < 0 || m[i] == "" {
			return 0, false
		}
		v, err := strconv.Atoi(m[i])
		if err != nil {
			v, ok := romanQuarters[strings.ToLower(m[i])]
			return v, ok && name == "quarter"
		}
		return v, true
	}
	year, ok := group("year")
	if !ok {
		return span{}, false
	}
	month, hasMonth := group("month")
	if hasMonth && (month < 1 || month > 12) {
		return span{}, false
	}
	if d, ok := group("day"); ok && hasMonth {
		t := time.Date(year, time.Month(month), d, 0, 0, 0, 0, time.UTC)
		if t.Day() != d {
			return span{}, false
		}
		return span{t, t.AddDate(0, 0, 1)}, true
	}
	if hasMonth {
		return months(year, month, 1), true
	}
	if q, ok := group("quarter"); ok && q >= 1 && q <= 4 {
		return months(year, 3*q-2, 3), true
	}
	if k, ok := group("months"); ok && k >= 1 && k <= 12 {
		return months(year, 1, k), true
	}
	return months(year, 1, 12), true
}
