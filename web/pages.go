package web

import (
	"fmt"
	"html"
	"html/template"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/kpiwatch/kpiwatch/catalogue"
	"github.com/kpiwatch/kpiwatch/collectors"
	"github.com/kpiwatch/kpiwatch/conventions"
	"github.com/kpiwatch/kpiwatch/model"
)

var (
	mKPI      = msg{"Chỉ tiêu", "KPI"}
	mBlock    = msg{"Khối", "Block"}
	mOwner    = msg{"Cơ quan chủ trì", "Owner"}
	mStatus   = msg{"Tình trạng", "Status"}
	mUnits    = msg{"Các đơn vị", "Units"}
	mValue    = msg{"Giá trị", "Value"}
	mPlan     = msg{"Kế hoạch", "Plan"}
	mTarget   = msg{"Mục tiêu", "Target"}
	mDeadline = msg{"Hạn", "Deadline"}
	mDaysLeft = msg{"Còn (ngày)", "Days left"}
	mLast     = msg{"Kỳ báo cáo gần nhất", "Last report"}
	mTrend    = msg{"Xu hướng", "Trend"}
	mGap      = msg{"Chậm so với KH", "Behind plan"}
	mForecast = msg{"Dự báo đến hạn", "Forecast at deadline"}
	mAll      = msg{"Tất cả", "All"}
	mFilter   = msg{"Lọc", "Filter"}
	mNone     = msg{"Không có.", "None."}
)

func (r *request) owner(id string) string {
	for _, o := range r.snap.Catalogue.Owners {
		if o.ID == id {
			return r.l.pick(o.NameVI, o.Name)
		}
	}
	return id
}

func (r *request) kpiName(k *catalogue.KPI) string { return r.l.pick(k.NameVI, k.Name) }

func (r *request) cols(ms ...msg) []col {
	out := make([]col, len(ms))
	for i, m := range ms {
		out[i] = col{Label: r.l.t(m)}
	}
	return out
}

// numCols marks columns as figures (right-aligned).
func numCols(cs []col, idx ...int) []col {
	for _, i := range idx {
		cs[i].Num = true
	}
	return cs
}

// kpiCells are the figures of a KPI's row, the same on the scorecard and
// its own page.
func (r *request) kpiRow(s *kpiSummary) row {
	k, l := s.jk.KPI, r.l
	days, daysCSV, deadline := "–", "", "–"
	if !s.deadline.IsZero() {
		n := daysLeft(s.deadline, r.now())
		days, daysCSV, deadline = l.days(n), strconv.Itoa(n), l.date(s.target.By)
	}
	target, plan, targetValue := "–", "–", math.NaN()
	if !s.deadline.IsZero() {
		target, plan, targetValue = l.value(k, s.target.Value), l.value(k, s.plan), s.target.Value
	}
	st := statusCell(l, s.status)
	if s.whole.Reason() != "" {
		st.Sub = l.t(reasonWords[s.whole.Reason()])
	}
	gap := ""
	if s.gap > 0 {
		gap = l.gap(k, s.gap)
	}
	return row{
		Attrs: attrs(conventions.LabelKPI, k.ID, conventions.LabelStatus, s.status, "value", raw(s.value), "plan", raw(s.plan), "target", raw(targetValue)),
		Cells: []cell{
			{Text: r.kpiName(k), Href: r.url("/kpi/" + k.ID), CSV: k.ID},
			{Text: r.owner(k.Owner), Sub: r.block(k.Block), CSV: k.Owner + " (" + k.Block + ")"},
			st,
			{SVG: r.statusBar(s), CSV: countsCSV(s.counts)},
			{Text: l.value(k, s.value), CSV: raw(s.value)},
			{Text: plan, CSV: raw(s.plan)},
			{Text: gap, CSV: raw(s.gap)},
			{Text: target, CSV: raw(targetValue)},
			{Text: deadline, CSV: dateCSV(s.target.By)},
			{Text: days, CSV: daysCSV},
			{Text: l.period(k.Cadence.Period, s.last), CSV: dateCSV(s.last)},
			{SVG: sparkline(l, k, s.history), Text: "–", CSV: " "},
		},
	}
}

func (r *request) kpiCols() []col {
	return numCols(r.cols(mKPI, msg{"Cơ quan chủ trì (khối)", "Owner (block)"}, mStatus, mUnits, mValue, mPlan, mGap, mTarget, mDeadline, mDaysLeft, mLast, mTrend), 4, 5, 6, 7, 9)
}

func countsCSV(c map[string]int) string {
	var parts []string
	for _, s := range statusStyles {
		if c[s.status] > 0 {
			parts = append(parts, s.status+"="+strconv.Itoa(c[s.status]))
		}
	}
	return strings.Join(parts, " ")
}

func dateCSV(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.Format("2006-01-02")
}

// statusBar shows how many of a KPI's units stand at each status, as one bar.
func (r *request) statusBar(s *kpiSummary) template.HTML {
	total := 0
	for _, n := range s.counts {
		total += n
	}
	if total <= 1 {
		return ""
	}
	const w, h = 72.0, 12.0
	var b, label strings.Builder
	x := 0.0
	for _, st := range statusStyles {
		n := s.counts[st.status]
		if n == 0 {
			continue
		}
		dw := w * float64(n) / float64(total)
		fmt.Fprintf(&b, `<rect x="%.1f" width="%.1f" height="%g" fill="%s"/>`, x, dw, h, st.bg)
		x += dw
		if label.Len() > 0 {
			label.WriteString(", ")
		}
		fmt.Fprintf(&label, "%d %s", n, r.l.t(st.word))
	}
	t := html.EscapeString(label.String())
	return template.HTML(fmt.Sprintf(`<svg width="%g" height="%g" role="img" aria-label="%s"><title>%s</title>%s</svg>`, w, h, t, t, b.String()))
}

// selectField is a filter: a select with a label, "All" first.
func (r *request) selectField(name string, label msg, values, labels []string) field {
	f := field{ID: "f-" + name, Name: name, Label: r.l.t(label), Options: []option{{Value: "", Label: r.l.t(mAll)}}}
	for i, v := range values {
		f.Options = append(f.Options, option{Value: v, Label: labels[i], Selected: r.q.Get(name) == v})
	}
	return f
}

// langHidden keeps the language across a filter's submit.
func (r *request) langHidden() []link {
	if r.l == en {
		return []link{{"lang", string(en)}}
	}
	return nil
}

func scorecardPage(r *request) (*page, error) {
	snap, l := r.snap, r.l
	block, owner, status := r.q.Get("block"), r.q.Get("owner"), r.q.Get("status")
	t := &table{ID: "kpis", Caption: l.t(msg{"Các chỉ tiêu", "KPIs"}), Cols: r.kpiCols(), Empty: l.t(msg{"Không có chỉ tiêu nào khớp bộ lọc.", "No KPI matches the filters."})}
	for i := range snap.KPIs {
		jk := &snap.KPIs[i]
		s := summarise(jk, r.now())
		if (block != "" && jk.KPI.Block != block) || (owner != "" && jk.KPI.Owner != owner) || (status != "" && s.status != status) {
			continue
		}
		t.Rows = append(t.Rows, r.kpiRow(&s))
	}
	var blocks, blockNames, owners, ownerNames, statuses, statusNames []string
	for _, b := range snap.Catalogue.BlockIDs() {
		blocks, blockNames = append(blocks, b), append(blockNames, r.block(b))
	}
	for _, o := range snap.Catalogue.Owners {
		owners, ownerNames = append(owners, o.ID), append(ownerNames, l.pick(o.NameVI, o.Name))
	}
	for _, s := range statusStyles {
		statuses, statusNames = append(statuses, s.status), append(statusNames, l.t(s.word))
	}
	filters := &form{Action: "/", Submit: l.t(mFilter), Hidden: r.langHidden(), Fields: []field{
		r.selectField("block", mBlock, blocks, blockNames),
		r.selectField("owner", mOwner, owners, ownerNames),
		r.selectField("status", mStatus, statuses, statusNames),
	}}
	w := r.whole()
	p := &page{
		Title: l.t(msg{"Bảng tổng hợp chỉ tiêu", "KPI scorecard"}),
		Intro: l.t(msg{"Mỗi chỉ tiêu: số liệu chung (" + w + "; tỷ lệ: tổng tử số trên tổng mẫu số) và tình trạng của nó so với mục tiêu chung; chỉ tiêu có mục tiêu cho từng đơn vị mang tình trạng xấu nhất trong các đơn vị. Thanh màu đếm các đơn vị theo tình trạng.",
			"Each KPI: the overall figure (" + w + "; ratios: the sum of numerators over the sum of denominators) and its status against the overall target; a KPI whose target holds for each unit stands as its worst unit. The bar counts its units by status."}),
		Sections: []*section{{Form: filters, Tables: []*table{t}}},
	}
	for _, lv := range snap.Catalogue.UnitSet().Levels {
		if sec := r.levelSection(lv); sec != nil {
			p.Sections = append(p.Sections, sec)
		}
	}
	return p, nil
}

// kpiMap is the tile map of a province KPI's statuses.
func (r *request) kpiMap(jk *model.KPI) template.HTML {
	lv := r.snap.Catalogue.UnitLevel(catalogue.DimProvince)
	status := map[string]string{}
	for _, f := range atLevel(jk, lv.Name) {
		status[f.unit] = f.Status()
	}
	return tileMap(r, lv, r.kpiName(jk.KPI), status)
}

func (r *request) findKPI(id string) (*model.KPI, error) {
	for i := range r.snap.KPIs {
		if r.snap.KPIs[i].KPI.ID == id {
			return &r.snap.KPIs[i], nil
		}
	}
	return nil, errNotFound
}

func kpiPage(r *request) (*page, error) {
	jk, err := r.findKPI(r.param("id"))
	if err != nil {
		return nil, err
	}
	k, l := jk.KPI, r.l
	s := summarise(jk, r.now())
	w := r.whole()
	summary := &table{ID: "kpi", Caption: upperFirst(w), Cols: r.kpiCols(), Rows: []row{r.kpiRow(&s)}}
	p := &page{
		Title: r.kpiName(k),
		Intro: fmt.Sprintf("%s · %s: %s · %s", k.Description, l.t(mOwner), r.owner(k.Owner), r.block(k.Block)),
		Sections: []*section{
			{Tables: []*table{summary}},
			{Heading: l.t(msg{"Số liệu chung (" + w + ") theo thời gian, so với kế hoạch (nét đứt) và mục tiêu (chấm đỏ)", "The overall figure (" + w + ") over time against the plan (dashed) and targets (red dots)"}),
				Chart: trendChart(l, k, s.history, *s.whole.Plan, r.now())},
		},
	}
	if len(k.Dimensions) > 0 {
		sec := &section{Heading: l.t(msg{"Các đơn vị, xếp theo mức độ hoàn thành", "Every unit, ranked by how far it has come"}), Tables: []*table{r.unitsTable(jk)}}
		if slices.Equal(k.Dimensions, []string{catalogue.DimProvince}) && r.snap.Catalogue.UnitLevel(catalogue.DimProvince) != nil {
			sec.Side = r.kpiMap(jk)
		}
		p.Sections = append(p.Sections, sec)
	}
	targets := &table{ID: "targets", Caption: l.t(msg{"Các mục tiêu", "Targets"}), Cols: numCols(r.cols(mDeadline, mTarget, msg{"Đơn vị", "Unit"}, msg{"Quyết định", "Decision"}, msg{"Hiệu lực từ", "Effective"}), 1)}
	for _, tg := range k.Targets {
		unit := ""
		for d, v := range tg.Unit {
			unit += d + "=" + v
		}
		targets.Rows = append(targets.Rows, row{Cells: []cell{{Text: l.date(tg.By.Time), CSV: tg.By.Format("2006-01-02")}, {Text: l.value(k, tg.Value), CSV: raw(tg.Value)}, {Text: unit}, {Text: tg.Decision}, {Text: l.date(tg.Effective.Time)}}})
	}
	p.Sections = append(p.Sections, &section{Tables: []*table{r.notReported(k.ID), targets}})
	return p, nil
}

// unitName is how a series' unit shows: a unit of a level, a ministry or
// a block by name, with the page of its unit where it has one.
func (r *request) unitName(jk *model.KPI, s *model.Judged) (string, string) {
	if len(s.Labels) == 0 {
		return upperFirst(r.whole()), ""
	}
	var parts []string
	href := ""
	for i, d := range jk.KPI.Dimensions {
		v, h := r.valueOf(d, s.Labels[i])
		if h != "" {
			href = h
		}
		parts = append(parts, v)
	}
	return strings.Join(parts, ", "), href
}

// seriesCols are the columns of a table of series: the first names the
// series (a unit or a KPI).
func (r *request) seriesCols(first msg) []col {
	return numCols(r.cols(first, msg{"Hạng", "Rank"}, mStatus, mValue, mPlan, mTarget, mGap, mForecast, mLast, mTrend), 1, 3, 4, 5, 6, 7)
}

// seriesRow is one series or roll-up with its judgement and its rank among
// the KPI's units (pos, from 0); name is the first cell.
func (r *request) seriesRow(jk *model.KPI, s *model.Judged, pos int, name cell) row {
	k, l := jk.KPI, r.l
	p, reported := s.Latest()
	value := math.NaN()
	if reported {
		value = p.Value
	}
	target := math.NaN()
	if m, ok := s.Target(r.now()); ok {
		target = m.Value
	}
	st := statusCell(l, s.Status())
	if s.Reason() != "" {
		st.Sub = l.t(reasonWords[s.Reason()])
	}
	gap, forecast, rank := "", "", "–"
	if s.Gap > 0 {
		gap = l.gap(k, s.Gap)
	}
	if !math.IsNaN(s.Forecast) {
		forecast = l.value(k, s.Forecast)
	}
	if reported {
		rank = strconv.Itoa(pos + 1)
	}
	var hist []figure
	for _, h := range s.History {
		hist = append(hist, figure{h.Period, h.Value})
	}
	// The plan the figure was judged against, at the end of its period.
	plan := s.Verdict.Plan
	labels := []string{conventions.LabelKPI, k.ID, conventions.LabelStatus, s.Status(), conventions.LabelReason, s.Reason(), "value", raw(value),
		"plan", raw(plan), "target", raw(target), "gap", raw(s.Gap), "forecast", raw(s.Forecast)}
	if reported {
		labels = append(labels, "rank", rank)
	}
	for di, v := range s.Labels {
		labels = append(labels, k.Dimensions[di], v)
	}
	return row{Attrs: attrs(labels...), Cells: []cell{
		name,
		{Text: rank},
		st,
		{Text: l.value(k, value), CSV: raw(value)},
		{Text: l.value(k, plan), CSV: raw(plan)},
		{Text: l.value(k, target), CSV: raw(target)},
		{Text: gap, CSV: raw(s.Gap)},
		{Text: forecast, CSV: raw(s.Forecast)},
		{Text: l.period(k.Cadence.Period, p.Period), CSV: dateCSV(p.Period)},
		{SVG: sparkline(l, k, hist), CSV: " "},
	}}
}

// unitsTable ranks a KPI's series with their judgement.
func (r *request) unitsTable(jk *model.KPI) *table {
	t := &table{ID: "units", Caption: r.l.t(msg{"Xếp hạng các đơn vị", "Units ranked"}), Cols: r.seriesCols(msg{"Đơn vị", "Unit"})}
	series := make([]unitFigure, len(jk.Series))
	for i := range jk.Series {
		series[i] = unitFigure{Judged: &jk.Series[i]}
	}
	for i, f := range ranked(series, r.now()) {
		name, href := r.unitName(jk, f.Judged)
		t.Rows = append(t.Rows, r.seriesRow(jk, f.Judged, i, cell{Text: name, Href: href, CSV: strings.Join(f.Labels, ",")}))
	}
	return t
}

func tasksPage(r *request) (*page, error) {
	l := r.l
	owners, overdue := r.tasksTables(r.snap.TaskSum, r.snap.Tasks)
	return &page{Title: l.t(msg{"Nhiệm vụ quá hạn theo cơ quan", "Overdue tasks by owner"}), Sections: []*section{{Tables: []*table{owners, overdue}}}}, nil
}

// tasksTables are the roadmap's counts by owner and its overdue tasks,
// longest overdue first.
func (r *request) tasksTables(sum collectors.TaskSummary, tasks []collectors.Task) (*table, *table) {
	l := r.l
	type counts struct {
		block                string
		total, overdue, late int
	}
	by := map[string]*counts{}
	get := func(owner, block string) *counts {
		if by[owner] == nil {
			by[owner] = &counts{block: block}
		}
		return by[owner]
	}
	for _, c := range sum.ByStatus {
		get(c.Owner, c.Block).total += c.Count
	}
	for _, c := range sum.Overdue {
		get(c.Owner, c.Block).overdue += c.Count
	}
	for _, c := range sum.DoneLate {
		get(c.Owner, c.Block).late += c.Count
	}
	ids := make([]string, 0, len(by))
	for id := range by {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool {
		if by[ids[i]].overdue != by[ids[j]].overdue {
			return by[ids[i]].overdue > by[ids[j]].overdue
		}
		return ids[i] < ids[j]
	})
	owners := &table{ID: "owners", Caption: l.t(msg{"Theo cơ quan chủ trì", "By owner"}), Empty: l.t(mNone),
		Cols: numCols(r.cols(mOwner, mBlock, msg{"Quá hạn", "Overdue"}, msg{"Hoàn thành muộn", "Done late"}, msg{"Tổng số nhiệm vụ", "Tasks"}), 2, 3, 4)}
	for _, id := range ids {
		c := by[id]
		owners.Rows = append(owners.Rows, row{Attrs: attrs("owner", id, "overdue", strconv.Itoa(c.overdue)), Cells: []cell{
			{Text: r.owner(id), CSV: id}, {Text: r.block(c.block), CSV: c.block}, {Text: strconv.Itoa(c.overdue)}, {Text: strconv.Itoa(c.late)}, {Text: strconv.Itoa(c.total)},
		}})
	}
	titles := map[string]string{}
	for _, t := range tasks {
		titles[t.ID] = t.Title
	}
	list := slices.Clone(sum.Tasks)
	sort.SliceStable(list, func(i, j int) bool { return list[i].Days > list[j].Days })
	overdue := &table{ID: "overdue", Caption: l.t(msg{"Nhiệm vụ quá hạn", "Overdue tasks"}), Empty: l.t(mNone),
		Cols: numCols(r.cols(msg{"Nhiệm vụ", "Task"}, msg{"Nội dung", "Title"}, mOwner, mDeadline, msg{"Quá hạn (ngày)", "Days overdue"}), 4)}
	for _, t := range list {
		overdue.Rows = append(overdue.Rows, row{Attrs: attrs("task", t.Task, "days", strconv.Itoa(t.Days)), Cells: []cell{
			{Text: t.Task}, {Text: titles[t.Task]}, {Text: r.owner(t.Owner), CSV: t.Owner}, {Text: l.date(t.Due), CSV: dateCSV(t.Due)}, {Text: strconv.Itoa(t.Days)},
		}})
	}
	return owners, overdue
}

// reportingPage is reporting discipline for each KPI's last period due: per
// block, the reports expected, received and received by the due day; and
// every unit whose report is not in.
func reportingPage(r *request) (*page, error) {
	l := r.l
	type counts struct{ expected, received, dated, onTime int }
	by := map[string]*counts{}
	for _, rep := range r.snap.Reports {
		c := by[rep.Block]
		if c == nil {
			c = &counts{}
			by[rep.Block] = c
		}
		c.expected++
		if rep.Received {
			c.received++
		}
		if rep.OnTimeKnown {
			c.dated++
			if rep.OnTime {
				c.onTime++
			}
		}
	}
	blocks := &table{ID: "by_block", Caption: l.t(msg{"Theo khối", "By block"}), Empty: l.t(mNone),
		Cols: numCols(r.cols(mBlock, msg{"Báo cáo phải nộp", "Reports expected"}, msg{"Đã nhận", "Received"}, msg{"Đúng hạn (trong số có ngày gửi)", "On time (of those dated)"}), 1, 2, 3)}
	for _, b := range r.snap.Catalogue.BlockIDs() {
		c := by[b]
		if c == nil {
			continue
		}
		onTime := "–"
		if c.dated > 0 {
			onTime = fmt.Sprintf("%d / %d", c.onTime, c.dated)
		}
		blocks.Rows = append(blocks.Rows, row{Attrs: attrs("block", b), Cells: []cell{
			{Text: r.block(b), CSV: b}, {Text: strconv.Itoa(c.expected)}, {Text: strconv.Itoa(c.received)}, {Text: onTime},
		}})
	}
	w := r.whole()
	return &page{Title: l.t(msg{"Kỷ luật báo cáo", "Reporting discipline"}),
		Intro:    l.t(msg{"Báo cáo các đơn vị phải nộp về kỳ đã đến hạn gần nhất của mỗi chỉ tiêu, " + w + ".", "The reports due from the units on each KPI's period last due, " + w + "."}),
		Sections: []*section{{Tables: []*table{blocks, r.notReported("")}}}}, nil
}

// notReported lists the reports the model expects on each KPI's last due
// period (Model.Reports) that are not in, of KPI kpiID alone unless it is
// "": /reporting and each KPI's page show this one answer, as the briefing
// does unit by unit.
func (r *request) notReported(kpiID string) *table {
	l := r.l
	t := &table{ID: "not_reported", Caption: l.t(msg{"Chưa báo cáo kỳ đã đến hạn", "Not reported for the period last due"}), Empty: l.t(msg{"Mọi đơn vị đã báo cáo.", "Every unit has reported."}),
		Cols: r.cols(mKPI, msg{"Đơn vị báo cáo", "Reporting unit"}, mOwner, mBlock, msg{"Kỳ", "Period"}, msg{"Hạn báo cáo", "Due"})}
	for i := range r.snap.Reports {
		rep := &r.snap.Reports[i]
		if rep.Received || (kpiID != "" && rep.KPI != kpiID) {
			continue
		}
		name, period := rep.KPI, l.date(rep.Period)
		if k, ok := r.snap.Catalogue.KPI(rep.KPI); ok {
			name, period = r.kpiName(k), l.period(k.Cadence.Period, rep.Period)
		}
		unit, href := r.reporter(rep)
		due := dueDay(rep)
		t.Rows = append(t.Rows, row{Attrs: attrs("kpi", rep.KPI, "unit", rep.Unit), Cells: []cell{
			{Text: name, Href: r.url("/kpi/" + rep.KPI), CSV: rep.KPI}, {Text: unit, Href: href, CSV: rep.Unit}, {Text: r.owner(rep.Owner), CSV: rep.Owner}, {Text: r.block(rep.Block), CSV: rep.Block},
			{Text: period, CSV: dateCSV(rep.Period)}, {Text: l.date(due), CSV: dateCSV(due)},
		}})
	}
	return t
}

// dueDay is the day a report is due by (Report.Due is the instant after it).
func dueDay(rep *model.Report) time.Time { return rep.Due.Add(-time.Second) }

// reporter names who owes a report, with a link to its page where it has
// one: a national KPI's owner, or the value of its dimension.
func (r *request) reporter(rep *model.Report) (string, string) {
	if rep.Dimension == "" {
		return r.owner(rep.Owner), ""
	}
	return r.valueOf(rep.Dimension, rep.Unit)
}

// valueOf names a value of dimension d as pages show it, with its page
// where it has one: a ministry or a block by name, a unit of a listed level.
func (r *request) valueOf(d, v string) (string, string) {
	switch d {
	case catalogue.DimMinistry:
		return r.owner(v), ""
	case catalogue.DimBlock:
		return r.block(v), ""
	}
	return r.unitRef(d, v)
}

func sourcesPage(r *request) (*page, error) {
	l := r.l
	t := &table{ID: "sources", Caption: l.t(msg{"Các nguồn dữ liệu", "Data sources"}),
		Cols: numCols(r.cols(msg{"Nguồn", "Source"}, msg{"Bộ thu thập", "Collector"}, mStatus, msg{"Lần đọc thành công gần nhất", "Last success"}, msg{"Thời gian đọc (giây)", "Duration (s)"}, msg{"Chuỗi số liệu", "Series"}, msg{"Dòng bị từ chối", "Rows rejected"}, msg{"Lỗi liên tiếp", "Failures in a row"}), 4, 5, 6, 7)}
	for _, s := range r.snap.Sources {
		state, class := l.t(msg{"Chưa đọc", "Not yet read"}), conventions.StatusNoData
		switch {
		case s.Attempted && s.Success:
			state, class = l.t(msg{"Tốt", "OK"}), conventions.StatusAchieved
		case s.Attempted:
			state, class = l.t(msg{"Lỗi", "Failing"}), conventions.StatusMissed
		}
		last := "–"
		if !s.LastSuccess.IsZero() {
			last = s.LastSuccess.UTC().Format("2006-01-02 15:04:05") + " UTC"
		}
		t.Rows = append(t.Rows, row{Attrs: attrs("source", s.ID, "success", strconv.FormatBool(s.Success)), Cells: []cell{
			{Text: s.ID}, {Text: s.Collector}, {Text: state, Status: class, CSV: strconv.FormatBool(s.Success)}, {Text: last},
			{Text: l.number(s.Duration.Seconds(), 3), CSV: raw(s.Duration.Seconds())}, {Text: strconv.Itoa(s.Series)}, {Text: strconv.Itoa(s.Rejected)}, {Text: strconv.Itoa(s.Failures)},
		}})
	}
	return &page{Title: l.t(msg{"Tình trạng các nguồn dữ liệu", "Source health"}), Sections: []*section{{Tables: []*table{t}}}}, nil
}
