package web

import (
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/kpiwatch/kpiwatch/catalogue"
	"github.com/kpiwatch/kpiwatch/conventions"
	"github.com/kpiwatch/kpiwatch/exporter"
	"github.com/kpiwatch/kpiwatch/kpi"
	"github.com/kpiwatch/kpiwatch/model"
)

// briefingDay is the day of the following month the working group's
// briefing on a month is judged on: the latest due day of cat's monthly
// KPIs, by when each one's report on the month is due (the 15th, as the
// national reports are, for a catalogue with none).
func briefingDay(cat *catalogue.Catalogue) int {
	day := 0
	for _, k := range cat.KPIs {
		if k.Cadence.Period == catalogue.Monthly {
			day = max(day, k.Cadence.DueDay)
		}
	}
	if day == 0 {
		return 15
	}
	return day
}

// ParsePeriod reads a briefing period, YYYY-MM.
func ParsePeriod(s string) (time.Time, error) {
	t, err := time.Parse("2006-01", s)
	if err != nil {
		return time.Time{}, &httpError{code: 400, msg: msg{"Kỳ báo cáo phải có dạng YYYY-MM, ví dụ 2026-10: " + strconv.Quote(s), "the period must be YYYY-MM, e.g. 2026-10: " + strconv.Quote(s)}}
	}
	return t, nil
}

// BriefingPeriod reads the month a briefing on snap is asked for, YYYY-MM,
// and refuses a month no briefing can be about: before the earliest date a
// report of any KPI may be for (kpi.Earliest), after the month of the
// snapshot's now, or by whose briefing day no KPI had a report. A briefing
// on such a month would show the snapshot's own figures under its name.
func BriefingPeriod(snap *exporter.Snapshot, s string) (time.Time, error) {
	period, err := ParsePeriod(s)
	if err != nil {
		return period, err
	}
	now := snap.Now.UTC()
	earliest := now
	for _, k := range snap.Catalogue.KPIs {
		earliest = minTime(earliest, kpi.Earliest(&k))
	}
	const month = "2006-01"
	switch {
	case period.Before(earliest):
		return period, &httpError{code: 400, msg: msg{"Không có báo cáo nào trước " + earliest.Format(month) + ": " + strconv.Quote(s),
			"no report can be for a month before " + earliest.Format(month) + ": " + strconv.Quote(s)}}
	case period.After(now):
		return period, &httpError{code: 400, msg: msg{"Tháng " + strconv.Quote(s) + " chưa bắt đầu (hôm nay là " + now.Format(time.DateOnly) + ")",
			"the month " + strconv.Quote(s) + " has not begun (today is " + now.Format(time.DateOnly) + ")"}}
	}
	at := briefingAt(snap.Catalogue, period, now)
	for _, jk := range snap.KPIs {
		for _, sr := range jk.Series {
			if len(sr.History) > 0 && !kpi.PeriodEnd(jk.KPI.Cadence.Period, sr.History[0].Period).After(at) {
				return period, nil
			}
		}
	}
	return period, &httpError{code: 404, msg: msg{"Chưa có chỉ tiêu nào có báo cáo đến tháng " + strconv.Quote(s),
		"no KPI has a report for " + strconv.Quote(s) + " or any month before it"}}
}

// LastPeriod is the latest month whose briefing day, in cat, has passed by
// now.
func LastPeriod(cat *catalogue.Catalogue, now time.Time) time.Time {
	m := time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, time.UTC).AddDate(0, -1, 0)
	if now.Day() <= briefingDay(cat) {
		m = m.AddDate(0, -1, 0)
	}
	return m
}

// briefingAt is when the briefing on the month starting at p is judged: the
// end of its briefing day, or now if that is still ahead.
func briefingAt(cat *catalogue.Catalogue, p, now time.Time) time.Time {
	return minTime(p.AddDate(0, 1, briefingDay(cat)), now)
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

func reportPage(r *request) (*page, error) {
	period := LastPeriod(r.snap.Catalogue, r.now())
	if s := r.q.Get("period"); s != "" {
		var err error
		if period, err = BriefingPeriod(r.snap, s); err != nil {
			return nil, err
		}
	}
	l := r.l
	curSnap := r.snap.AsOf(briefingAt(r.snap.Catalogue, period, r.snap.Now))
	prevSnap := r.snap.AsOf(briefingAt(r.snap.Catalogue, period.AddDate(0, -1, 0), r.snap.Now))
	cur := &request{snap: curSnap, l: l, q: r.q, path: r.path, param: r.param}
	month := l.period(catalogue.Monthly, period)
	p := &page{
		Print: true,
		Title: l.t(msg{"Báo cáo tháng ", "Monthly briefing, "}) + month,
		Intro: upperFirst(r.whole()) + l.t(msg{": đánh giá theo số liệu các kỳ đã kết thúc đến hết ngày ", ": judged on the reports of periods ended by the end of "}) + l.date(curSnap.Now.Add(-time.Second)) +
			l.t(msg{"; so sánh với kỳ trước (", "; compared with the month before ("}) + l.date(prevSnap.Now.Add(-time.Second)) + ").",
	}
	curSum := make([]kpiSummary, len(curSnap.KPIs))
	prevSum := make([]kpiSummary, len(prevSnap.KPIs))
	for i := range curSnap.KPIs {
		curSum[i] = summarise(&curSnap.KPIs[i], curSnap.Now)
		prevSum[i] = summarise(&prevSnap.KPIs[i], prevSnap.Now)
	}

	// Where the KPIs stand, now and a month before.
	summary := &table{ID: "summary", Caption: l.t(msg{"Số chỉ tiêu theo tình trạng", "KPIs by status"}),
		Cols: numCols(r.cols(mStatus, msg{"Kỳ này", "This month"}, msg{"Kỳ trước", "Month before"}), 1, 2)}
	for _, st := range statusStyles {
		n, m := 0, 0
		for i := range curSum {
			if curSum[i].status == st.status {
				n++
			}
			if prevSum[i].status == st.status {
				m++
			}
		}
		summary.Rows = append(summary.Rows, row{Attrs: attrs("status", st.status, "now", strconv.Itoa(n)), Cells: []cell{statusCell(l, st.status), {Text: strconv.Itoa(n)}, {Text: strconv.Itoa(m)}}})
	}

	// Status changes, series by series, those that worsened first.
	changes := &table{ID: "changes", Caption: l.t(msg{"Thay đổi tình trạng so với kỳ trước", "Status changes since the month before"}), Empty: l.t(mNone),
		Cols: r.cols(mKPI, msg{"Đơn vị", "Unit"}, msg{"Kỳ trước", "Before"}, msg{"Kỳ này", "Now"})}
	type change struct {
		jk       *model.KPI
		s        *model.Judged
		from, to string
	}
	var chs []change
	for i := range curSnap.KPIs {
		before := map[string]string{}
		for _, s := range prevSnap.KPIs[i].Series {
			before[strings.Join(s.Labels, "\xff")] = s.Status()
		}
		jk := &curSnap.KPIs[i]
		for j := range jk.Series {
			s := &jk.Series[j]
			from, ok := before[strings.Join(s.Labels, "\xff")]
			if !ok {
				from = conventions.StatusNoData
			}
			if from != s.Status() {
				chs = append(chs, change{jk, s, from, s.Status()})
			}
		}
	}
	sort.SliceStable(chs, func(i, j int) bool {
		wi, wj := rank(chs[i].to) < rank(chs[i].from), rank(chs[j].to) < rank(chs[j].from)
		return wi && !wj
	})
	for _, c := range chs {
		name, href := cur.unitName(c.jk, c.s)
		changes.Rows = append(changes.Rows, row{Attrs: attrs("kpi", c.jk.KPI.ID, "from", c.from, "to", c.to), Cells: []cell{
			{Text: r.kpiName(c.jk.KPI), Href: r.url("/kpi/" + c.jk.KPI.ID), CSV: c.jk.KPI.ID}, {Text: name, Href: href, CSV: strings.Join(c.s.Labels, ",")},
			statusCell(l, c.from), statusCell(l, c.to),
		}})
	}

	// KPIs missed and at risk, with their gap and days left.
	lagging := &table{ID: "lagging", Caption: l.t(msg{"Chỉ tiêu không đạt và có nguy cơ", "KPIs missed and at risk"}), Cols: cur.kpiCols(), Empty: l.t(mNone)}
	for _, st := range []string{conventions.StatusMissed, conventions.StatusAtRisk} {
		for i := range curSum {
			if curSum[i].status == st {
				lagging.Rows = append(lagging.Rows, cur.kpiRow(&curSum[i]))
			}
		}
	}
	// On A4 the last report and the trend give way.
	lagging.dropCols(10, 11)

	laggards := cur.laggingUnits(curSum)
	_, tasks := cur.tasksTables(curSnap.TaskSum, curSnap.Tasks)
	tasks.ID = "tasks"
	p.Sections = []*section{
		{Heading: l.t(msg{"Tổng quan", "Overview"}), Tables: []*table{summary}},
		{Heading: l.t(msg{"Thay đổi", "Changes"}), Tables: []*table{changes}},
		{Heading: l.t(msg{"Cần chú ý", "Needing attention"}), Tables: []*table{lagging}},
		{Heading: l.t(msg{"Đơn vị chậm nhất", "Lagging most"}), Tables: laggards},
		{Heading: l.t(msg{"Nhiệm vụ quá hạn", "Overdue tasks"}), Tables: []*table{tasks}},
		{Heading: l.t(msg{"Chưa báo cáo", "Not reported"}), Tables: []*table{cur.unreportedTable()}},
	}
	return p, nil
}

// laggingUnits ranks the units of each level, then the owners, by the
// KPIs they have missed or are at risk on (and the owners' overdue tasks);
// a level with no figures has no table.
func (r *request) laggingUnits(sums []kpiSummary) []*table {
	l := r.l
	type tally struct {
		missed, atRisk int
		kpis           []string
	}
	count := func(t *tally, status, kpi string) {
		switch status {
		case conventions.StatusMissed:
			t.missed++
		case conventions.StatusAtRisk:
			t.atRisk++
		default:
			return
		}
		t.kpis = append(t.kpis, kpi)
	}
	const top = 10
	missed, atRisk := col{Label: l.t(styleOf(conventions.StatusMissed).word), Num: true}, col{Label: l.t(styleOf(conventions.StatusAtRisk).word), Num: true}
	var out []*table
	for _, lv := range r.snap.Catalogue.UnitSet().Levels {
		byUnit := map[string]*tally{}
		for i := range r.snap.KPIs {
			jk := &r.snap.KPIs[i]
			for _, f := range atLevel(jk, lv.Name) {
				if byUnit[f.unit] == nil {
					byUnit[f.unit] = &tally{}
				}
				count(byUnit[f.unit], f.Status(), r.kpiName(jk.KPI))
			}
		}
		if len(byUnit) == 0 {
			continue
		}
		var names []string
		for n, t := range byUnit {
			if t.missed+t.atRisk > 0 {
				names = append(names, n)
			}
		}
		sort.Slice(names, func(i, j int) bool {
			a, b := byUnit[names[i]], byUnit[names[j]]
			if a.missed+a.atRisk != b.missed+b.atRisk {
				return a.missed+a.atRisk > b.missed+b.atRisk
			}
			return names[i] < names[j]
		})
		t := &table{ID: "lagging_" + lv.Name, Caption: l.t(msg{"Đơn vị có nhiều chỉ tiêu không đạt, có nguy cơ nhất", "Units with the most KPIs missed or at risk"}), Empty: l.t(mNone),
			Cols: []col{{Label: r.levelName(lv)}, missed, atRisk, {Label: l.t(mKPI)}}}
		for _, n := range names[:min(top, len(names))] {
			c := byUnit[n]
			name, href := r.unitRef(lv.Name, n)
			t.Rows = append(t.Rows, row{Attrs: attrs(lv.Name, n), Cells: []cell{{Text: name, Href: href, CSV: n}, {Text: strconv.Itoa(c.missed)}, {Text: strconv.Itoa(c.atRisk)}, {Text: strings.Join(c.kpis, "; ")}}})
		}
		out = append(out, t)
	}
	byOwner := map[string]*tally{}
	for i := range sums {
		k := sums[i].jk.KPI
		if byOwner[k.Owner] == nil {
			byOwner[k.Owner] = &tally{}
		}
		count(byOwner[k.Owner], sums[i].status, r.kpiName(k))
	}
	overdue := map[string]int{}
	for _, c := range r.snap.TaskSum.Overdue {
		overdue[c.Owner] += c.Count
		if byOwner[c.Owner] == nil {
			byOwner[c.Owner] = &tally{}
		}
	}
	owners := make([]string, 0, len(byOwner))
	for o, t := range byOwner {
		if t.missed+t.atRisk+overdue[o] > 0 {
			owners = append(owners, o)
		}
	}
	score := func(o string) int { return byOwner[o].missed + byOwner[o].atRisk + overdue[o] }
	sort.Slice(owners, func(i, j int) bool {
		if score(owners[i]) != score(owners[j]) {
			return score(owners[i]) > score(owners[j])
		}
		return owners[i] < owners[j]
	})
	group := r.owners()
	t := &table{ID: "owners", Caption: l.t(msg{group + " chậm nhất (chỉ tiêu chủ trì và nhiệm vụ quá hạn)", group + " lagging most (KPIs they own and overdue tasks)"}), Empty: l.t(mNone),
		Cols: []col{{Label: l.t(mOwner)}, missed, atRisk, {Label: l.t(msg{"Nhiệm vụ quá hạn", "Overdue tasks"}), Num: true}, {Label: l.t(mKPI)}}}
	for _, o := range owners[:min(top, len(owners))] {
		c := byOwner[o]
		t.Rows = append(t.Rows, row{Attrs: attrs("owner", o), Cells: []cell{{Text: r.owner(o), CSV: o}, {Text: strconv.Itoa(c.missed)}, {Text: strconv.Itoa(c.atRisk)}, {Text: strconv.Itoa(overdue[o])}, {Text: strings.Join(c.kpis, "; ")}}})
	}
	return append(out, t)
}

// unreportedTable lists, unit by unit, the reports not in on each KPI's
// period last due by the briefing day: the model's reports, as /reporting
// lists them. The caption gives the due days of the KPIs listed, each from
// its own cadence; with more than one, each KPI names its own.
func (r *request) unreportedTable() *table {
	l := r.l
	type missing struct {
		name, href string
		reps       []*model.Report
	}
	var order []string
	by := map[string]*missing{}
	var dues []time.Time
	for i := range r.snap.Reports {
		rep := &r.snap.Reports[i]
		if rep.Received {
			continue
		}
		key := rep.Dimension + "=" + rep.Unit
		if rep.Dimension == "" {
			key = "owner=" + rep.Owner
		}
		if by[key] == nil {
			name, href := r.reporter(rep)
			by[key] = &missing{name: name, href: href}
			order = append(order, key)
		}
		by[key].reps = append(by[key].reps, rep)
		if d := dueDay(rep); !slices.ContainsFunc(dues, d.Equal) {
			dues = append(dues, d)
		}
	}
	sort.SliceStable(order, func(i, j int) bool { return len(by[order[i]].reps) > len(by[order[j]].reps) })
	slices.SortFunc(dues, time.Time.Compare)
	caption := l.t(msg{"Đơn vị chưa báo cáo kỳ đã đến hạn", "Units without a report for the period last due"})
	if len(dues) > 0 {
		days := make([]string, len(dues))
		for i, d := range dues {
			days[i] = l.date(d)
		}
		caption += l.t(msg{" (hạn ", " (due by "}) + strings.Join(days, ", ") + ")"
	}
	t := &table{ID: "unreported", Caption: caption, Empty: l.t(mNone), Cols: numCols(r.cols(msg{"Đơn vị", "Unit"}, msg{"Số chỉ tiêu", "KPIs"}, mKPI), 1)}
	for _, key := range order {
		m := by[key]
		names := make([]string, len(m.reps))
		for i, rep := range m.reps {
			names[i] = rep.KPI
			if k, ok := r.snap.Catalogue.KPI(rep.KPI); ok {
				names[i] = r.kpiName(k)
			}
			if len(dues) > 1 {
				names[i] += l.t(msg{" (hạn ", " (due "}) + l.date(dueDay(rep)) + ")"
			}
		}
		t.Rows = append(t.Rows, row{Attrs: attrs("unit", key), Cells: []cell{{Text: m.name, Href: m.href, CSV: key}, {Text: strconv.Itoa(len(names))}, {Text: strings.Join(names, "; ")}}})
	}
	return t
}
