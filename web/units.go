package web

import (
	"cmp"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"unicode"
	"unicode/utf8"

	"github.com/kpiwatch/kpiwatch/catalogue"
	"github.com/kpiwatch/kpiwatch/conventions"
	"github.com/kpiwatch/kpiwatch/model"
	"github.com/kpiwatch/kpiwatch/units"
)

// The deployment's own words and units (Catalogue.UnitSet): what its whole
// is called, its levels and their units, its blocks and its owners as a
// group. Nothing national is written into the pages.

// whole is what the deployment's whole is called: "toàn quốc" by default,
// "tỉnh Tây Ninh" for a province's own deployment.
func (r *request) whole() string {
	w := r.snap.Catalogue.UnitSet().Whole
	return r.l.pick(w.NameVI, w.NameEN)
}

// upperFirst capitalises a name that begins a caption or a cell.
func upperFirst(s string) string {
	c, n := utf8.DecodeRuneInString(s)
	return string(unicode.ToUpper(c)) + s[n:]
}

// levelName is what a column of a level's units is called.
func (r *request) levelName(lv *units.Level) string {
	return r.l.pick(lv.NameVI, lv.NameEN)
}

// owners is what the catalogue's owners are called as a group.
func (r *request) owners() string {
	m := r.snap.Catalogue.Metadata
	return r.l.pick(m.OwnersVI, m.OwnersEN)
}

// block is a block's name, as the catalogue lists it.
func (r *request) block(id string) string {
	if b, ok := r.snap.Catalogue.Block(id); ok {
		return r.l.pick(b.NameVI, b.NameEN)
	}
	return id
}

// unitRef is a unit of a level, by the name it is served under, as pages
// name it, with its page; a name no list of units knows (a free-text
// commune) shows as it is, without one.
func (r *request) unitRef(level, name string) (string, string) {
	if lv := r.snap.Catalogue.UnitLevel(level); lv != nil {
		if u, ok := lv.Unit(name); ok {
			return r.unitWords(u), r.unitURL(level, u)
		}
	}
	return name, ""
}

func (r *request) unitWords(u units.Unit) string { return r.l.pick(u.NameVI, u.Name) }

func (r *request) unitURL(level string, u units.Unit) string {
	return r.url("/unit/" + url.PathEscape(level) + "/" + url.PathEscape(u.Name))
}

// unitFigure is one unit's judged figure of a KPI.
type unitFigure struct {
	unit string // its name, the label value
	*model.Judged
}

// atLevel is a KPI's judged figure of each unit of a level: its series when
// the level is its one dimension, else its roll-ups at the level (none at
// its finest dimension, which the model does not roll up).
func atLevel(jk *model.KPI, level string) []unitFigure {
	var out []unitFigure
	if len(jk.KPI.Dimensions) == 1 && jk.KPI.Dimensions[0] == level {
		for i := range jk.Series {
			out = append(out, unitFigure{jk.Series[i].Labels[0], &jk.Series[i]})
		}
		return out
	}
	for i := range jk.Rollups {
		if ru := &jk.Rollups[i]; ru.Level == level {
			out = append(out, unitFigure{ru.Name, &ru.Judged})
		}
	}
	return out
}

// levelSection counts, for each unit of a level in force, its KPIs at each
// status, linking each unit's page, with the tile map of one KPI (?map=)
// for the provinces; nil when no KPI has figures at the level.
func (r *request) levelSection(lv *units.Level) *section {
	l := r.l
	byUnit := map[string]map[string]int{}
	var mapped []*model.KPI
	for i := range r.snap.KPIs {
		jk := &r.snap.KPIs[i]
		figs := atLevel(jk, lv.Name)
		if len(figs) > 0 && len(jk.KPI.Dimensions) == 1 {
			mapped = append(mapped, jk)
		}
		for _, f := range figs {
			if byUnit[f.unit] == nil {
				byUnit[f.unit] = map[string]int{}
			}
			byUnit[f.unit][f.Status()]++
		}
	}
	if len(byUnit) == 0 {
		return nil
	}
	cols := []col{{Label: r.levelName(lv)}}
	for _, s := range statusStyles {
		cols = append(cols, col{Label: l.t(s.word), Num: true})
	}
	t := &table{ID: "by_" + lv.Name, Caption: l.t(msg{"Số chỉ tiêu theo tình trạng ở mỗi đơn vị, đơn vị chậm nhất trước", "KPIs by status in each unit, the furthest behind first"}), Cols: cols}
	// Worst first: the most KPIs missed, then at risk; the list's order
	// where equal.
	inForce := slices.Clone(lv.Current())
	slices.SortStableFunc(inForce, func(a, b units.Unit) int {
		ca, cb := byUnit[a.Name], byUnit[b.Name]
		return cmp.Or(cmp.Compare(cb[conventions.StatusMissed], ca[conventions.StatusMissed]), cmp.Compare(cb[conventions.StatusAtRisk], ca[conventions.StatusAtRisk]))
	})
	for _, u := range inForce {
		c := byUnit[u.Name]
		cells := []cell{{Text: r.unitWords(u), Href: r.unitURL(lv.Name, u), CSV: u.Name}}
		for _, s := range statusStyles {
			cells = append(cells, cell{Text: strconv.Itoa(c[s.status])})
		}
		t.Rows = append(t.Rows, row{Attrs: attrs(lv.Name, u.Name, "missed", strconv.Itoa(c[conventions.StatusMissed]), "at_risk", strconv.Itoa(c[conventions.StatusAtRisk])), Cells: cells})
	}
	sec := &section{Heading: r.levelName(lv), Tables: []*table{t}}
	if lv.Name == catalogue.DimProvince && len(mapped) > 0 {
		sec.Form, sec.Side = r.mapForm(mapped)
	}
	return sec
}

// mapForm chooses the KPI whose provinces the tile map shows, keeping the
// scorecard's filters.
func (r *request) mapForm(kpis []*model.KPI) (*form, template.HTML) {
	shown := kpis[0]
	f := field{ID: "f-map", Name: "map", Label: r.l.t(msg{"Bản đồ theo chỉ tiêu", "Map of KPI"})}
	for _, jk := range kpis {
		if jk.KPI.ID == r.q.Get("map") {
			shown = jk
		}
	}
	for _, jk := range kpis {
		f.Options = append(f.Options, option{Value: jk.KPI.ID, Label: r.kpiName(jk.KPI), Selected: jk == shown})
	}
	hidden := r.langHidden()
	for _, k := range []string{"block", "owner", "status"} {
		if v := r.q.Get(k); v != "" {
			hidden = append(hidden, link{k, v})
		}
	}
	return &form{Action: "/", Submit: r.l.t(msg{"Xem", "Show"}), Hidden: hidden, Fields: []field{f}}, r.kpiMap(shown)
}

// unitPage is one unit of a level: each KPI it has a figure of, as the
// model judged it, with its rank among the level's units.
func unitPage(r *request) (*page, error) {
	lv := r.snap.Catalogue.UnitLevel(r.param("level"))
	if lv == nil {
		return nil, errNotFound
	}
	u, _, err := lv.Match(r.param("name"))
	if err != nil {
		return nil, errNotFound
	}
	if u.Name != r.param("name") {
		// Another spelling, or a former unit: the page of the unit in force.
		return nil, &httpError{code: http.StatusMovedPermanently, location: r.unitURL(lv.Name, u)}
	}
	l := r.l
	t := &table{ID: "kpis", Caption: l.t(msg{"Các chỉ tiêu (hạng trong các đơn vị cùng cấp)", "KPIs (rank among the units of its level)"}), Empty: l.t(mNone), Cols: r.seriesCols(mKPI)}
	for i := range r.snap.KPIs {
		jk := &r.snap.KPIs[i]
		for pos, f := range ranked(atLevel(jk, lv.Name), r.now()) {
			if f.unit == u.Name {
				t.Rows = append(t.Rows, r.seriesRow(jk, f.Judged, pos, cell{Text: r.kpiName(jk.KPI), Href: r.url("/kpi/" + jk.KPI.ID), CSV: jk.KPI.ID}))
			}
		}
	}
	intro := fmt.Sprintf("%s · %s · %s %s", r.levelName(lv), u.Name, l.t(msg{"mã", "code"}), u.Code)
	if u.Parent != "" {
		parent, _ := r.unitRef(lv.Parent, u.Parent)
		intro += " · " + parent
	}
	return &page{Title: r.unitWords(u), Intro: intro, Sections: []*section{{Tables: []*table{t}}}}, nil
}

// provincePage serves the links of earlier versions, by a province's code.
func provincePage(r *request) (*page, error) {
	if lv := r.snap.Catalogue.UnitLevel(catalogue.DimProvince); lv != nil {
		for _, u := range lv.Current() {
			if u.Code == r.param("code") {
				return nil, &httpError{code: http.StatusMovedPermanently, location: r.unitURL(lv.Name, u)}
			}
		}
	}
	return nil, errNotFound
}
