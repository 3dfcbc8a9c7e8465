package collectors

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// rejectMergedTwice rejects the figures of a series for a period since a
// merger of units (Observation.Merged) reported under two names of units
// merged into one: Tuyên Quang 700 and Hà Giang 300 for October 2025. Is
// Tuyên Quang's figure the new province's, Hà Giang included, or the former
// one's? No sum can tell, so every such row is rejected, each naming the
// others. Before the merger the former units' figures are the parts of the
// successor's, and roll up.
func rejectMergedTwice(b *Batch) {
	type key struct {
		kpi    int
		period time.Time
		labels string
	}
	keyOf := func(o *Observation) key { return key{o.KPI, o.Period, strings.Join(o.Labels, "\xff")} }
	// The usual report since a merger names the unit as it is now: only a
	// series with a row under a former name since its merger can clash.
	since := map[key]*Merger{}
	for i := range b.Observations {
		if o := &b.Observations[i]; o.Merged != nil && !o.Period.Before(o.Merged.On) {
			since[keyOf(o)] = o.Merged
		}
	}
	if len(since) == 0 {
		return
	}
	groups := map[key][]int{}
	for i := range b.Observations {
		if o := &b.Observations[i]; o.Unit != "" {
			if k := keyOf(o); since[k] != nil {
				groups[k] = append(groups[k], i)
			}
		}
	}
	clash := map[int][]int{} // a rejected row -> the rows of its group
	for _, rows := range groups {
		if slices.ContainsFunc(rows[1:], func(i int) bool { return b.Observations[i].Unit != b.Observations[rows[0]].Unit }) {
			for _, j := range rows {
				clash[j] = rows
			}
		}
	}
	if len(clash) == 0 {
		return // one name a period: a repeated row is the roll-up's to reject
	}
	for i := range b.Observations {
		rows, ok := clash[i]
		if !ok {
			continue
		}
		o := &b.Observations[i]
		m := since[keyOf(o)]
		var others []string
		for _, j := range rows {
			if p := &b.Observations[j]; j != i {
				others = append(others, fmt.Sprintf("under %q at %s row %d", p.Unit, p.Loc.File, p.Loc.Row))
			}
		}
		b.Rejected = append(b.Rejected, &RowError{o.Loc, fmt.Errorf("%s is reported for %s under %q here and %s, names of one %s since %s: which figure is the %s's cannot be told, so none is used",
			m.Into, o.Period.Format("2006-01"), o.Unit, strings.Join(others, " and "), m.Level, m.On.Format(time.DateOnly), m.Level)})
	}
	kept := b.Observations[:0]
	for i, o := range b.Observations {
		if _, ok := clash[i]; !ok {
			kept = append(kept, o)
		}
	}
	b.Observations = kept
}
