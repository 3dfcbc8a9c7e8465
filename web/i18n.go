package web

import (
	"math"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/kpiwatch/kpiwatch/catalogue"
	"github.com/kpiwatch/kpiwatch/conventions"
)

// lang is the language a page is written in: Vietnamese by default,
// English with ?lang=en.
type lang string

const (
	vi lang = "vi"
	en lang = "en"
)

func langOf(r *url.Values) lang {
	if r.Get("lang") == string(en) {
		return en
	}
	return vi
}

// msg is a phrase in both languages.
type msg struct{ vi, en string }

func (l lang) t(m msg) string {
	if l == en {
		return m.en
	}
	return m.vi
}

// pick chooses between a Vietnamese and an English name, falling back to
// whichever is set.
func (l lang) pick(nameVI, name string) string {
	if (l == en && name != "") || nameVI == "" {
		return name
	}
	return nameVI
}

// statusStyle is how a status shows: its words, and its colours as text on
// a background (the contrast of each pair is tested against WCAG's 4.5:1).
type statusStyle struct {
	status string
	word   msg
	bg, fg string
}

// statusStyles lists the statuses worst first, as the dashboards do: a KPI
// shows the worst of its units' statuses; a report overdue or missing ranks
// last, shown apart rather than as the KPI's standing.
var statusStyles = []statusStyle{
	{conventions.StatusMissed, msg{"Không đạt", "Missed"}, "#b42318", "#ffffff"},
	{conventions.StatusAtRisk, msg{"Có nguy cơ", "At risk"}, "#f5b83d", "#1d1d1d"},
	{conventions.StatusOnTrack, msg{"Đúng tiến độ", "On track"}, "#2e7d32", "#ffffff"},
	{conventions.StatusAchieved, msg{"Đã đạt", "Achieved"}, "#0b5d3b", "#ffffff"},
	{conventions.StatusStale, msg{"Quá hạn báo cáo", "Report overdue"}, "#6941c6", "#ffffff"},
	{conventions.StatusNoData, msg{"Chưa có số liệu", "No data"}, "#e4e7ec", "#344054"},
}

func styleOf(status string) statusStyle {
	for _, s := range statusStyles {
		if s.status == status {
			return s
		}
	}
	return statusStyles[len(statusStyles)-1]
}

// rank orders statuses worst first.
func rank(status string) int {
	for i, s := range statusStyles {
		if s.status == status {
			return i
		}
	}
	return len(statusStyles)
}

// ReasonWord is how a page writes why a figure is at risk.
func ReasonWord(language, reason string) string { return lang(language).t(reasonWords[reason]) }

// StatusWord is how a page writes a status.
func StatusWord(language, status string) string { return lang(language).t(styleOf(status).word) }

var reasonWords = map[string]msg{
	conventions.ReasonBehindPlan:   {"chậm so với kế hoạch", "behind plan"},
	conventions.ReasonForecastMiss: {"dự báo không kịp hạn", "forecast to miss"},
}

// number writes v with the given decimals, grouped by thousands: 1.234,5
// in Vietnamese, 1,234.5 in English.
func (l lang) number(v float64, decimals int) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return "–"
	}
	s := strconv.FormatFloat(math.Abs(v), 'f', decimals, 64)
	intPart, frac, _ := strings.Cut(s, ".")
	group, point := ",", "."
	if l == vi {
		group, point = ".", ","
	}
	var b strings.Builder
	if v < 0 && strings.Trim(s, "0.") != "" {
		b.WriteString("−")
	}
	for i, c := range intPart {
		if i > 0 && (len(intPart)-i)%3 == 0 {
			b.WriteString(group)
		}
		b.WriteRune(c)
	}
	if frac != "" {
		b.WriteString(point + frac)
	}
	return b.String()
}

// value writes a KPI's figure in its unit: ratios as percent, milestones as
// done or not, counts whole, levels with two decimals.
func (l lang) value(k *catalogue.KPI, v float64) string {
	switch k.Kind {
	case catalogue.KindRatio:
		return l.number(v*100, 1) + "%"
	case catalogue.KindMilestone:
		if v >= 1 {
			return l.t(msg{"Hoàn thành", "Done"})
		}
		return l.t(msg{"Chưa hoàn thành", "Not done"})
	case catalogue.KindCount:
		return l.number(v, 0)
	}
	return l.number(v, 2)
}

// gap writes a distance in a KPI's unit: percentage points for ratios.
func (l lang) gap(k *catalogue.KPI, v float64) string {
	if k.Kind == catalogue.KindRatio {
		return l.number(v*100, 1) + l.t(msg{" điểm %", " pts"})
	}
	if k.Kind == catalogue.KindMilestone {
		return ""
	}
	return l.value(k, v)
}

func (l lang) date(t time.Time) string {
	if t.IsZero() {
		return "–"
	}
	if l == vi {
		return t.Format("02/01/2006")
	}
	return t.Format("2006-01-02")
}

// period names the reporting period starting at t.
func (l lang) period(p catalogue.Period, t time.Time) string {
	if t.IsZero() {
		return "–"
	}
	switch p {
	case catalogue.Monthly:
		if l == vi {
			return t.Format("01/2006")
		}
		return t.Format("2006-01")
	case catalogue.Quarterly:
		q := strconv.Itoa((int(t.Month())-1)/3 + 1)
		if l == vi {
			return "Q" + q + "/" + t.Format("2006")
		}
		return t.Format("2006") + " Q" + q
	case catalogue.Yearly:
		return t.Format("2006")
	}
	return l.t(msg{"tuần ", "week of "}) + l.date(t)
}

// raw is a figure as data attributes and CSV carry it: as /metrics writes it.
func raw(v float64) string {
	if math.IsNaN(v) {
		return ""
	}
	return strconv.FormatFloat(v, 'g', -1, 64)
}

// days writes the days left to a deadline, or how long ago it passed.
func (l lang) days(n int) string {
	if n >= 0 {
		return strconv.Itoa(n)
	}
	return l.t(msg{"đã qua ", "passed "}) + strconv.Itoa(-n)
}
