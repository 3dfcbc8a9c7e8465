package web

import (
	"fmt"
	"html"
	"html/template"
	"math"
	"strings"
	"time"

	"github.com/kpiwatch/kpiwatch/catalogue"
	"github.com/kpiwatch/kpiwatch/kpi"
	"github.com/kpiwatch/kpiwatch/units"
)

// The charts are drawn on the server as SVG: no script, no fonts, nothing
// fetched; they print as they show.

// sparkline is a small trend of the last figures, labelled for screen
// readers with the first and last.
func sparkline(l lang, k *catalogue.KPI, hist []figure) template.HTML {
	if len(hist) > 24 {
		hist = hist[len(hist)-24:]
	}
	if len(hist) < 2 {
		return ""
	}
	const w, h = 72.0, 22.0
	lo, hi := extent(hist, nil)
	var pts strings.Builder
	for i, f := range hist {
		x := float64(i) / float64(len(hist)-1) * (w - 4)
		fmt.Fprintf(&pts, "%.1f,%.1f ", x+2, scale(f.value, lo, hi, h-3, 3))
	}
	label := fmt.Sprintf("%s %s → %s %s", l.period(k.Cadence.Period, hist[0].at), l.value(k, hist[0].value),
		l.period(k.Cadence.Period, hist[len(hist)-1].at), l.value(k, hist[len(hist)-1].value))
	return template.HTML(fmt.Sprintf(`<svg class="spark" width="%g" height="%g" viewBox="0 0 %g %g" role="img" aria-label="%s"><title>%s</title><polyline points="%s" fill="none" stroke="#1f4e79" stroke-width="1.5"/></svg>`,
		w, h, w, h, html.EscapeString(label), html.EscapeString(label), strings.TrimSpace(pts.String())))
}

// extent is the range the chart shows: the figures and the extra values
// (plan, targets), with a little room.
func extent(hist []figure, extra []float64) (lo, hi float64) {
	lo, hi = math.Inf(1), math.Inf(-1)
	for _, f := range hist {
		lo, hi = math.Min(lo, f.value), math.Max(hi, f.value)
	}
	for _, v := range extra {
		lo, hi = math.Min(lo, v), math.Max(hi, v)
	}
	if hi == lo {
		hi, lo = hi+1, lo-1
	}
	return lo, hi
}

// scale maps v in [lo, hi] onto [y0, y1].
func scale(v, lo, hi, y0, y1 float64) float64 { return y0 + (v-lo)/(hi-lo)*(y1-y0) }

// trendChart is a KPI's figure of the whole over time against its plan and
// targets: the figure as a line, the plan dashed, each milestone a marker.
func trendChart(l lang, k *catalogue.KPI, hist []figure, plan kpi.Plan, now time.Time) template.HTML {
	if len(hist) == 0 {
		return ""
	}
	const w, h, left, right, top, bottom = 720.0, 260.0, 90.0, 20.0, 16.0, 34.0
	start := hist[0].at
	if plan.BaselineAt.Before(start) && !plan.BaselineAt.IsZero() {
		start = plan.BaselineAt
	}
	end := now
	for _, m := range plan.Milestones {
		if m.By.After(end) {
			end = m.By
		}
	}
	planPts := []figure{{start, plan.ValueAt(start)}}
	for _, m := range plan.Milestones {
		if m.By.After(start) {
			planPts = append(planPts, figure{m.By, plan.ValueAt(m.By)})
		}
	}
	if last := planPts[len(planPts)-1].at; end.After(last) {
		planPts = append(planPts, figure{end, plan.ValueAt(end)}) // flat after the last milestone
	}
	var extra []float64
	for _, p := range planPts {
		extra = append(extra, p.value)
	}
	lo, hi := extent(hist, extra)
	if k.Kind == catalogue.KindRatio {
		lo, hi = math.Min(lo, 0), math.Max(hi, 1)
	}
	x := func(t time.Time) float64 {
		return left + float64(t.Sub(start))/float64(end.Sub(start))*(w-left-right)
	}
	y := func(v float64) float64 { return scale(v, lo, hi, h-bottom, top) }
	var b strings.Builder
	desc := fmt.Sprintf("%s: %s %s", l.t(msg{"Diễn biến", "Over time"}), l.value(k, hist[len(hist)-1].value), l.period(k.Cadence.Period, hist[len(hist)-1].at))
	fmt.Fprintf(&b, `<svg class="chart" viewBox="0 0 %g %g" role="img" aria-label="%s"><title>%s</title>`, w, h, html.EscapeString(desc), html.EscapeString(desc))
	for i := range 5 {
		v := lo + (hi-lo)*float64(i)/4
		fmt.Fprintf(&b, `<line x1="%g" x2="%g" y1="%.1f" y2="%.1f" stroke="#d0d5dd"/><text x="%g" y="%.1f" text-anchor="end" font-size="11" fill="#344054">%s</text>`,
			left, w-right, y(v), y(v), left-6, y(v)+4, html.EscapeString(l.value(k, v)))
	}
	for yr := start.Year() + 1; yr <= end.Year(); yr++ {
		t := time.Date(yr, 1, 1, 0, 0, 0, 0, time.UTC)
		fmt.Fprintf(&b, `<line x1="%.1f" x2="%.1f" y1="%g" y2="%g" stroke="#eaecf0"/><text x="%.1f" y="%g" text-anchor="middle" font-size="11" fill="#344054">%d</text>`,
			x(t), x(t), top, h-bottom, x(t), h-bottom+16, yr)
	}
	line := func(pts []figure, style string) {
		var p strings.Builder
		for _, f := range pts {
			fmt.Fprintf(&p, "%.1f,%.1f ", x(f.at), y(f.value))
		}
		fmt.Fprintf(&b, `<polyline points="%s" fill="none" %s/>`, strings.TrimSpace(p.String()), style)
	}
	line(planPts, `stroke="#667085" stroke-width="1.5" stroke-dasharray="6 4"`)
	shown := make([]figure, len(hist))
	for i, f := range hist {
		shown[i] = figure{kpi.PeriodEnd(k.Cadence.Period, f.at), f.value}
	}
	line(shown, `stroke="#1f4e79" stroke-width="2.5"`)
	for _, m := range plan.Milestones {
		if m.By.Before(start) {
			continue
		}
		fmt.Fprintf(&b, `<circle cx="%.1f" cy="%.1f" r="5" fill="#b42318"><title>%s %s: %s</title></circle>`,
			x(m.By), y(m.Value), html.EscapeString(l.t(msg{"Mục tiêu", "Target"})), l.date(m.By), html.EscapeString(l.value(k, m.Value)))
	}
	fmt.Fprintf(&b, `<line x1="%.1f" x2="%.1f" y1="%g" y2="%g" stroke="#344054" stroke-dasharray="2 3"/>`, x(now), x(now), top, h-bottom)
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}

// tile is a province's place on the tile map: column, row and a short name.
type tile struct {
	col, row int
	abbr     string
}

// tiles places the 34 units in force since 2025-07-01 roughly as they lie,
// north to south, by statistics code: no boundary data needed.
var tiles = map[string]tile{
	"12": {1, 0, "LCh"}, "15": {2, 0, "LCa"}, "08": {3, 0, "TQ"}, "04": {4, 0, "CB"},
	"11": {0, 1, "ĐB"}, "14": {1, 1, "SL"}, "25": {2, 1, "PT"}, "19": {3, 1, "TN"}, "20": {4, 1, "LS"},
	"01": {2, 2, "HN"}, "24": {3, 2, "BN"}, "22": {4, 2, "QNi"},
	"37": {2, 3, "NB"}, "33": {3, 3, "HY"}, "31": {4, 3, "HP"},
	"38": {2, 4, "TH"},
	"40": {2, 5, "NA"},
	"42": {3, 6, "HT"},
	"44": {3, 7, "QT"},
	"46": {4, 8, "Huế"},
	"48": {4, 9, "ĐN"},
	"51": {4, 10, "QNg"},
	"52": {4, 11, "GL"},
	"66": {4, 12, "ĐL"},
	"68": {3, 13, "LĐ"}, "56": {4, 13, "KH"},
	"80": {1, 14, "TNi"}, "79": {2, 14, "HCM"}, "75": {3, 14, "ĐNa"},
	"91": {0, 15, "AG"}, "82": {1, 15, "ĐT"}, "86": {2, 15, "VL"},
	"92": {1, 16, "CT"},
	"96": {1, 17, "CM"},
}

// tileMap draws the provinces coloured by status (by name); each tile
// links to the province's page and names it and its status.
func tileMap(r *request, lv *units.Level, title string, status map[string]string) template.HTML {
	const tw, th, gap = 46.0, 30.0, 4.0
	var b strings.Builder
	fmt.Fprintf(&b, `<svg class="tiles" viewBox="0 0 %g %g" role="group" aria-label="%s">`, 5*(tw+gap), 18*(th+gap), html.EscapeString(title))
	for _, p := range lv.Current() {
		t, ok := tiles[p.Code]
		if !ok {
			continue
		}
		st := styleOf(status[p.Name])
		word := r.l.t(st.word)
		if _, ok := status[p.Name]; !ok {
			word = "–"
		}
		name := r.unitWords(p) + ": " + word
		fmt.Fprintf(&b, `<a href="%s" aria-label="%s"><title>%s</title><rect x="%g" y="%g" width="%g" height="%g" rx="4" fill="%s"/><text x="%g" y="%g" text-anchor="middle" font-size="12" fill="%s">%s</text></a>`,
			html.EscapeString(r.unitURL(lv.Name, p)), html.EscapeString(name), html.EscapeString(name),
			float64(t.col)*(tw+gap), float64(t.row)*(th+gap), tw, th, st.bg,
			float64(t.col)*(tw+gap)+tw/2, float64(t.row)*(th+gap)+th/2+4, st.fg, html.EscapeString(t.abbr))
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}
