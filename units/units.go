// Package units knows the units a deployment reports on, level by level
// (provinces, communes, ...), as data: a units file and its CSVs, or the
// embedded default of Vietnam's 34 provinces in force since 2025-07-01 and
// the units merged into them. It matches names as reports spell them, with
// a short did-you-mean for a misspelling, and maps every former unit to the
// unit in force it rolls up into. docs/units.md is the contract.
package units

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode"

	"golang.org/x/text/unicode/norm"

	"github.com/kpiwatch/kpiwatch/internal/suggest"
)

// Set is the units a deployment reports on.
type Set struct {
	Whole  Whole
	Levels []*Level
}

// Whole is what all of the set's units together are called.
type Whole struct {
	Name   string // ASCII, for logs and label-safe text
	NameVI string
	NameEN string
}

// Level is one dimension whose values are a list of units.
type Level struct {
	Name   string // the dimension (label) its units are served under
	NameVI string // what a column of them is called
	NameEN string
	Parent string // the level above, "" for none
	// Units are all of the level's units, former ones included, by code.
	Units []Unit

	byName map[string]int // Name -> index in Units
	byKey  map[string]int // a spelling's key (see keys) -> index in Units
	keys   []string       // the full keys, the candidates of did-you-mean
}

// Unit is one unit of a level.
type Unit struct {
	Code    string // the statistics office code
	Name    string // the label value it is served under
	NameVI  string // its official name
	Aliases []string
	Parent  string // the Name of its unit in the parent level, "" without one
	// MergedInto is the Name of the unit of the same level it was merged
	// into, "" while it is in force; MergedOn is the day that took effect.
	MergedInto string
	MergedOn   time.Time
}

// Current reports whether u is in force (was merged into no other unit).
func (u Unit) Current() bool { return u.MergedInto == "" }

// Level is the level named name, or nil when the set lists no units for
// that dimension (its values are then free text).
func (s *Set) Level(name string) *Level {
	for _, l := range s.Levels {
		if l.Name == name {
			return l
		}
	}
	return nil
}

// Current returns the units in force, by code.
func (l *Level) Current() []Unit {
	var out []Unit
	for _, u := range l.Units {
		if u.Current() {
			out = append(out, u)
		}
	}
	return out
}

// Unit returns the unit served as name (its Name, exactly).
func (l *Level) Unit(name string) (Unit, bool) {
	i, ok := l.byName[name]
	if !ok {
		return Unit{}, false
	}
	return l.Units[i], true
}

// ErrUnknown is wrapped by Match's error for a name the level does not know.
var ErrUnknown = errors.New("unknown unit")

// UnknownError is Match's error: the level, the name as given, and the
// closest names the level knows (at most MaxSuggestions).
type UnknownError struct {
	Level       string
	Name        string
	Suggestions []string
}

// MaxSuggestions bounds a did-you-mean: a misspelt commune among thousands
// gets a hint, never the list.
const MaxSuggestions = 3

func (e *UnknownError) Error() string {
	return fmt.Sprintf("unknown %s %q%s", e.Level, e.Name, suggest.Hint(e.Suggestions))
}

// Is makes errors.Is(err, ErrUnknown) true.
func (e *UnknownError) Is(target error) bool { return target == ErrUnknown }

// Match finds the unit in force a reported name belongs to: a former unit's
// name matches the unit it was merged into. named is the Name of the unit
// (former or current) the spelling is for, the same however it is spelled:
// reports of two former units roll up, two spellings of one are the same
// report twice. Case, diacritics, đ, punctuation, administrative prefixes
// and aliases are tolerated. An unknown name is an *UnknownError.
func (l *Level) Match(name string) (current Unit, named string, err error) {
	n := Normalise(name)
	i, ok := l.byKey[n]
	if !ok {
		i, ok = l.byKey[stripUnitPrefix(n)]
	}
	if !ok {
		return Unit{}, "", &UnknownError{Level: l.Name, Name: name, Suggestions: l.suggest(n)}
	}
	return l.Units[l.successor(i)], l.Units[i].Name, nil
}

// suggest is the Names of the units whose spellings are closest to key.
func (l *Level) suggest(key string) []string {
	var out []string
	for _, k := range suggest.Closest(key, l.keys, len(l.keys)) {
		if n := l.Units[l.byKey[k]].Name; !slices.Contains(out, n) {
			out = append(out, n)
			if len(out) == MaxSuggestions {
				break
			}
		}
	}
	return out
}

// successor is the index of the unit in force that unit i is, or was
// merged (perhaps more than once) into. index guarantees the chain ends.
func (l *Level) successor(i int) int {
	for l.Units[i].MergedInto != "" {
		i = l.byName[l.Units[i].MergedInto]
	}
	return i
}

// index builds the level's lookups. Two units spelt alike would make a
// report's unit a guess, so that is an error naming both.
func (l *Level) index() error {
	l.byName = map[string]int{}
	l.byKey = map[string]int{}
	l.keys = nil
	for i, u := range l.Units {
		if j, dup := l.byName[u.Name]; dup {
			return fmt.Errorf("%s: two units named %q (codes %s and %s)", l.Name, u.Name, l.Units[j].Code, u.Code)
		}
		l.byName[u.Name] = i
		for _, s := range append([]string{u.Name, u.NameVI}, u.Aliases...) {
			k := Normalise(s)
			if k == "" {
				continue
			}
			if j, dup := l.byKey[k]; dup && j != i {
				return fmt.Errorf("%s: %q of %s is spelt like %s", l.Name, s, u.Name, l.Units[j].Name)
			} else if !dup {
				l.byKey[k] = i
				l.keys = append(l.keys, k)
			}
		}
	}
	// Without its prefix a spelling ("Xã Phước Vinh") is found as written
	// without it ("Phước Vinh"), unless two units would share it.
	ambiguous := map[string]bool{}
	stripped := map[string]int{}
	for _, k := range l.keys {
		s, i := stripUnitPrefix(k), l.byKey[k]
		if _, full := l.byKey[s]; full || s == k {
			continue
		}
		if j, seen := stripped[s]; seen && j != i {
			ambiguous[s] = true
		}
		stripped[s] = i
	}
	for s, i := range stripped {
		if !ambiguous[s] {
			l.byKey[s] = i
		}
	}
	for i, u := range l.Units {
		seen := map[int]bool{}
		for j := i; l.Units[j].MergedInto != ""; {
			if seen[j] {
				return fmt.Errorf("%s: %s is merged, in a cycle, into itself", l.Name, u.Name)
			}
			seen[j] = true
			next, ok := l.byName[l.Units[j].MergedInto]
			if !ok {
				return fmt.Errorf("%s: %s is merged into %q, which is not a unit of the level", l.Name, l.Units[j].Name, l.Units[j].MergedInto)
			}
			j = next
		}
	}
	return nil
}

// prefixes are stripped from normalised names by Normalise, longest first.
var prefixes = []string{"thanh pho ", "tinh ", "tp ", "city of ", "province of "}
var suffixes = []string{" city", " province"}

// unitPrefixes are the communal levels' prefixes. Normalise keeps them, as
// they begin ordinary words too ("Xã hội", society); Match tries a name
// with and without one.
var unitPrefixes = []string{"thi tran ", "dac khu ", "phuong ", "xa "}

func stripUnitPrefix(key string) string {
	for _, p := range unitPrefixes {
		if s := strings.TrimPrefix(key, p); s != key && s != "" {
			return s
		}
	}
	return key
}

// Normalise folds a name to the key it is matched by: lower case, no
// diacritics (đ becomes d), no provincial prefix, single spaces.
func Normalise(name string) string {
	var b strings.Builder
	lastSpace := true
	for _, r := range norm.NFD.String(strings.ToLower(name)) {
		switch {
		case unicode.Is(unicode.Mn, r):
			continue
		case r == 'đ':
			r = 'd'
		case unicode.IsLetter(r) || unicode.IsDigit(r):
		default:
			r = ' '
		}
		if r == ' ' {
			if lastSpace {
				continue
			}
			lastSpace = true
		} else {
			lastSpace = false
		}
		b.WriteRune(r)
	}
	s := strings.TrimSpace(b.String())
	for _, p := range prefixes {
		if strings.HasPrefix(s, p) {
			s = strings.TrimPrefix(s, p)
			break
		}
	}
	for _, p := range suffixes {
		s = strings.TrimSuffix(s, p)
	}
	return s
}
