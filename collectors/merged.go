package collectors

import (
	"fmt"
	"strings"
	"time"

	"github.com/kpiwatch/kpiwatch/units"
)

// rejectMergedTwice rejects the figures of a series for a period since the
// 2025 merger (units.MergedOn) reported under two names of units merged
// into one province: Tuyên Quang 700 and Hà Giang 300 for October 2025. Is
// Tuyên Quang's figure the new province's, Hà Giang included, or the former
// one's? No sum can tell, so every such row is rejected, each naming the
// others. Before the merger the former units' figures are the parts of the
// province's, and roll up.
func rejectMergedTwice(b *Batch) {
	// The usual report since the merger names each province as it is now:
	// only a row under another former unit's name can clash.
	current := map[string]string{} // a unit's name -> its province's
	province := func(unit string) string {
		p, ok := current[unit]
		if !ok {
			q, _ := units.Match(unit)
			p = q.Name
			current[unit] = p
		}
		return p
	}
	clashing := map[string]bool{} // provinces with a row under another name
	for _, o := range b.Observations {
		if o.Unit != "" && !o.Period.Before(units.MergedOn) && province(o.Unit) != o.Unit {
			clashing[province(o.Unit)] = true
		}
	}
	if len(clashing) == 0 {
		return
	}
	type key struct {
		kpi    int
		period time.Time
		labels string
	}
	groups := map[key][]int{}
	for i, o := range b.Observations {
		if o.Unit != "" && !o.Period.Before(units.MergedOn) && clashing[province(o.Unit)] {
			k := key{o.KPI, o.Period, strings.Join(o.Labels, "\xff")}
			groups[k] = append(groups[k], i)
		}
	}
	clash := map[int][]int{} // a rejected row -> the rows of its group
	for _, rows := range groups {
		for _, i := range rows[1:] {
			if b.Observations[i].Unit != b.Observations[rows[0]].Unit {
				for _, j := range rows {
					clash[j] = rows
				}
				break
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
		var others []string
		for _, j := range rows {
			if p := &b.Observations[j]; j != i {
				others = append(others, fmt.Sprintf("under %q at %s row %d", p.Unit, p.Loc.File, p.Loc.Row))
			}
		}
		b.Rejected = append(b.Rejected, &RowError{o.Loc, fmt.Errorf("%s is reported for %s under %q here and %s, names of one province since %s: which figure is the province's cannot be told, so none is used",
			province(o.Unit), o.Period.Format("2006-01"), o.Unit, strings.Join(others, " and "), units.MergedOn.Format("2006-01-02"))})
	}
	kept := b.Observations[:0]
	for i, o := range b.Observations {
		if _, ok := clash[i]; !ok {
			kept = append(kept, o)
		}
	}
	b.Observations = kept
}
