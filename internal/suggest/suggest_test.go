package suggest

import (
	"slices"
	"testing"
)

func TestClosest(t *testing.T) {
	cands := []string{"phuoc vinh", "phuoc minh", "phuoc ninh", "phuoc vinh a", "tan ninh", "ben cau"}
	// Closest first, ties in sorted order, at most n, none far off.
	if got := Closest("phuoc vinhh", cands, 3); !slices.Equal(got, []string{"phuoc vinh", "phuoc minh", "phuoc ninh"}) {
		t.Errorf("Closest = %q", got)
	}
	if got := Closest("ha noi", cands, 3); got != nil {
		t.Errorf("Closest of a word like none = %q, want none", got)
	}
}

func TestHint(t *testing.T) {
	for _, c := range []struct {
		names []string
		want  string
	}{
		{nil, ""},
		{[]string{"a"}, ` (did you mean "a"?)`},
		{[]string{"a", "b"}, ` (did you mean "a" or "b"?)`},
		{[]string{"a", "b", "c"}, ` (did you mean "a", "b" or "c"?)`},
	} {
		if got := Hint(c.names); got != c.want {
			t.Errorf("Hint(%q) = %q, want %q", c.names, got, c.want)
		}
	}
	if got := DidYouMean("ownr", []string{"owner", "kind", "date"}); got != ` (did you mean "owner"?)` {
		t.Errorf("DidYouMean = %q", got)
	}
}
