package catalogue

import (
	"fmt"
	"slices"
	"strings"
)

// DidYouMean is ` (did you mean "x"?)` for the candidate closest to word by
// edit distance, when one is close enough to be a likely typo, and "" when
// none is. Ties go to the first in sorted order, so the hint is stable.
func DidYouMean(word string, candidates []string) string {
	best, bestDist := "", 0
	for _, c := range slices.Sorted(slices.Values(candidates)) {
		if c == "" || c == word {
			continue
		}
		d := editDistance(strings.ToLower(word), strings.ToLower(c))
		if best == "" || d < bestDist {
			best, bestDist = c, d
		}
	}
	// A third of the longer word's letters may differ: "ownr" for "owner",
	// "numerater" for "numerator", not "date" for "kind".
	if best == "" || bestDist > max(1, max(len([]rune(word)), len([]rune(best)))/3) {
		return ""
	}
	return fmt.Sprintf(" (did you mean %q?)", best)
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
