// Package suggest finds the likely intended word for a misspelt one, for
// did-you-mean hints in error messages. It depends on nothing of kpiwatch, so
// units and catalogue can both use it.
package suggest

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
)

// Closest returns up to n of candidates close enough to word by edit
// distance to be likely typos of it, closest first; ties go in sorted order,
// so hints are stable. Case is ignored; word itself and "" are skipped.
func Closest(word string, candidates []string, n int) []string {
	type scored struct {
		c string
		d int
	}
	w := strings.ToLower(word)
	var near []scored
	for _, c := range candidates {
		if c == "" || c == word {
			continue
		}
		d := editDistance(w, strings.ToLower(c))
		// A third of the longer word's letters may differ: "ownr" for
		// "owner", "numerater" for "numerator", not "date" for "kind".
		if d <= max(1, max(len([]rune(word)), len([]rune(c)))/3) {
			near = append(near, scored{c, d})
		}
	}
	slices.SortFunc(near, func(a, b scored) int { return cmp.Or(cmp.Compare(a.d, b.d), strings.Compare(a.c, b.c)) })
	var out []string
	for _, s := range near {
		if len(out) == n {
			break
		}
		if !slices.Contains(out, s.c) {
			out = append(out, s.c)
		}
	}
	return out
}

// Hint is ` (did you mean "a", "b" or "c"?)` for names, "" for none.
func Hint(names []string) string {
	if len(names) == 0 {
		return ""
	}
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = fmt.Sprintf("%q", n)
	}
	last := q[len(q)-1]
	if len(q) == 1 {
		return " (did you mean " + last + "?)"
	}
	return " (did you mean " + strings.Join(q[:len(q)-1], ", ") + " or " + last + "?)"
}

// DidYouMean is Hint for the one candidate closest to word.
func DidYouMean(word string, candidates []string) string {
	return Hint(Closest(word, candidates, 1))
}

// editDistance is the Levenshtein distance between a and b, in runes.
func editDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(rb)]
}
