package catalogue

import (
	"fmt"
	"io/fs"
	"maps"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/kpiwatch/kpiwatch/internal/suggest"
	"github.com/kpiwatch/kpiwatch/units"
)

// Defaults applied where the catalogue is silent.
const (
	DefaultInterval  = Duration(time.Hour)
	DefaultTimeout   = Duration(30 * time.Second)
	DefaultTolerance = 0.1
	// DefaultMaxValue is the largest figure a report may give, where a
	// KPI sets no max_value: a million times Viet Nam's population, a
	// thousand times the largest yearly count of transactions anyone
	// reports. 1e308 is a misread, never a figure.
	DefaultMaxValue = 1e15
	// DefaultMaxRejectedRatio fails a refresh that rejects more than half
	// of its rows: a garbled file, not a few bad cells.
	DefaultMaxRejectedRatio = 0.5
	DefaultSeverity         = "warning"
)

// Alert tiers that a KPI may switch off.
const (
	TierBehindPlan    = "behind_plan"
	TierForecastMiss  = "forecast_miss"
	TierTargetMissed  = "target_missed"
	TierReportOverdue = "report_overdue"
	TierDataSuspect   = "data_suspect"
)

// Tiers lists the alert tiers.
var Tiers = []string{TierBehindPlan, TierForecastMiss, TierTargetMissed, TierReportOverdue, TierDataSuspect}

// Severities lists the valid alert severities.
var Severities = []string{"info", "warning", "critical"}

var idPattern = regexp.MustCompile(`^[a-z][a-z0-9_]*$`)

// labelPattern is a Prometheus label name.
var labelPattern = regexp.MustCompile(`^[a-zA-Z_][a-zA-Z0-9_]*$`)

func (c *Catalogue) applyDefaults() {
	if c.Metadata.OwnersVI == "" {
		c.Metadata.OwnersVI = DefaultOwnersVI
	}
	if c.Metadata.OwnersEN == "" {
		c.Metadata.OwnersEN = DefaultOwnersEN
	}
	for i := range c.Sources {
		s := &c.Sources[i]
		if s.Interval == 0 {
			s.Interval = DefaultInterval
		}
		if s.Timeout == 0 {
			s.Timeout = DefaultTimeout
		}
	}
	for i := range c.KPIs {
		k := &c.KPIs[i]
		if k.Tolerance == 0 {
			k.Tolerance = DefaultTolerance
		}
		if k.MaxValue == 0 {
			k.MaxValue = DefaultMaxValue
		}
		if k.Block == "" {
			if o, ok := c.Owner(k.Owner); ok {
				k.Block = o.Block
			}
		}
		if k.Alerts.Severity == "" {
			k.Alerts.Severity = DefaultSeverity
		}
		if k.Rollup == "" && k.Kind == KindLevel {
			k.Rollup = RollupMean
		}
		for j := range k.Targets {
			if k.Targets[j].Effective.IsZero() {
				k.Targets[j].Effective = k.Baseline.Date
			}
		}
	}
}

// validator collects errors, which refuse a catalogue, and warnings, which
// do not.
type validator struct {
	errs, warns []FieldError
}

func (v *validator) add(path, format string, args ...any) {
	v.errs = append(v.errs, FieldError{Path: path, Msg: fmt.Sprintf(format, args...)})
}

func (v *validator) warn(path, format string, args ...any) {
	v.warns = append(v.warns, FieldError{Path: path, Msg: fmt.Sprintf(format, args...)})
}

// id checks an id; seen maps the ids met so far to their paths, so that a
// duplicate names where the first one is.
func (v *validator) id(path, id string, seen map[string]string) {
	first, dup := seen[id]
	switch {
	case id == "":
		v.add(path, "required")
	case !idPattern.MatchString(id):
		v.add(path, "%q must be lower case letters, digits and _ and start with a letter", id)
	case dup:
		v.errs = append(v.errs, FieldError{Path: path, Msg: fmt.Sprintf("duplicate id %q", id), First: first})
	}
	if !dup {
		seen[id] = path
	}
}

// ref checks a reference to an id among ids, suggesting the closest.
func (v *validator) ref(path, id, what string, ids []string) {
	if !slices.Contains(ids, id) {
		v.add(path, "%q is not %s%s", id, what, suggest.DidYouMean(id, ids))
	}
}

func (v *validator) oneOf(path, value string, allowed []string) {
	if !slices.Contains(allowed, value) {
		v.add(path, "%q is not one of %s%s", value, strings.Join(allowed, ", "), suggest.DidYouMean(value, allowed))
	}
}

func (c *Catalogue) validate(dir fs.FS, check SourceChecker) *validator {
	v := &validator{}
	if c.APIVersion != APIVersion {
		v.add("apiVersion", "must be %q, got %q", APIVersion, c.APIVersion)
	}
	if c.Kind != Kind {
		v.add("kind", "must be %q, got %q", Kind, c.Kind)
	}
	if c.Metadata.Name == "" {
		v.add("metadata.name", "required")
	}
	if c.Metadata.Locale != "" {
		v.oneOf("metadata.locale", c.Metadata.Locale, []string{LocaleVI, LocaleEN})
	}
	c.loadUnits(v, dir)
	c.validateBlocks(v)
	v.declaredDimensions(c.Dimensions)
	seen := map[string]string{}
	for i, o := range c.Owners {
		p := fmt.Sprintf("owners[%d]", i)
		v.id(p+".id", o.ID, seen)
		if o.Name == "" {
			v.add(p+".name", "required")
		}
		v.oneOf(p+".block", o.Block, c.BlockIDs())
	}
	seen = map[string]string{}
	for i, s := range c.Sources {
		p := fmt.Sprintf("sources[%d]", i)
		v.id(p+".id", s.ID, seen)
		if s.Timeout > s.Interval {
			v.add(p+".timeout", "%s is longer than the interval %s", s.Timeout, s.Interval)
		}
		if s.MaxSeries < 0 {
			v.add(p+".max_series", "must not be negative")
		}
		if r := s.MaxRejectedRatio; r != nil && !(*r >= 0 && *r <= 1) {
			v.add(p+".max_rejected_ratio", "%g is not a share between 0 and 1", *r)
		}
		if check != nil {
			for _, e := range check(s, dir) {
				e.Path = joinPath(p, e.Path)
				v.errs = append(v.errs, e)
			}
		}
	}
	seen = map[string]string{}
	for i := range c.KPIs {
		c.validateKPI(v, fmt.Sprintf("kpis[%d]", i), &c.KPIs[i], seen)
	}
	return v
}

func (c *Catalogue) validateKPI(v *validator, p string, k *KPI, seen map[string]string) {
	v.id(p+".id", k.ID, seen)
	if k.Name == "" {
		v.add(p+".name", "required")
	}
	v.oneOf(p+".kind", string(k.Kind), []string{string(KindCount), string(KindRatio), string(KindLevel), string(KindMilestone)})
	v.oneOf(p+".direction", string(k.Direction), []string{string(HigherIsBetter), string(LowerIsBetter)})
	v.ref(p+".owner", k.Owner, "an owner in owners", c.OwnerIDs())
	if k.Block != "" { // empty only when the owner is unknown, reported above
		v.oneOf(p+".block", k.Block, c.BlockIDs())
	}
	switch {
	case k.Source != "" && len(k.Sources) > 0:
		v.add(p+".sources", "set one of source and sources, not both")
	case len(k.Sources) == 1:
		v.add(p+".sources", "one source: write source: %s", k.Sources[0])
	case len(k.Sources) > 1:
		for j, s := range k.Sources {
			v.ref(fmt.Sprintf("%s.sources[%d]", p, j), s, "a source in sources", c.SourceIDs())
			if slices.Index(k.Sources, s) < j {
				v.add(fmt.Sprintf("%s.sources[%d]", p, j), "%q is listed twice", s)
			}
		}
	default:
		v.ref(p+".source", k.Source, "a source in sources", c.SourceIDs())
	}
	if k.Cumulative && k.Kind != KindCount {
		v.add(p+".cumulative", "only a count can be cumulative")
	}
	dims := map[string]bool{}
	for j, d := range k.Dimensions {
		dp := fmt.Sprintf("%s.dimensions[%d]", p, j)
		if !c.IsDimension(d) {
			v.add(dp, "%q is not one of %s (or a dimension declared under dimensions)", d, strings.Join(c.DimensionNames(), ", "))
		}
		if dims[d] {
			v.add(dp, "duplicate dimension %q", d)
		}
		dims[d] = true
	}
	v.oneOf(p+".cadence.period", string(k.Cadence.Period), []string{string(Weekly), string(Monthly), string(Quarterly), string(Yearly)})
	if maxDay := k.Cadence.Period.days(); k.Cadence.DueDay < 0 || k.Cadence.DueDay > maxDay {
		v.add(p+".cadence.due_day", "%d is outside 0..%d for a %s cadence", k.Cadence.DueDay, maxDay, k.Cadence.Period)
	}
	if k.Tolerance < 0 || k.Tolerance > 1 {
		v.add(p+".tolerance", "%g is outside 0..1", k.Tolerance)
	}
	switch {
	case k.Kind == KindLevel:
		v.oneOf(p+".rollup", k.Rollup, Rollups)
	case k.Rollup != "":
		v.add(p+".rollup", "only a level KPI says how its units roll up (a %s rolls up by its kind)", k.Kind)
	}
	if !(k.MaxValue > 0) || math.IsInf(k.MaxValue, 0) {
		v.add(p+".max_value", "%g is not a positive finite number", k.MaxValue)
	}
	for j, t := range k.Targets {
		if math.Abs(t.Value) > k.MaxValue {
			v.add(fmt.Sprintf("%s.targets[%d].value", p, j), "%g is above max_value %g", t.Value, k.MaxValue)
		}
	}
	if k.Baseline.Date.IsZero() {
		v.add(p+".baseline.date", "required")
	}
	v.oneOf(p+".alerts.severity", k.Alerts.Severity, Severities)
	for j, t := range k.Alerts.Disabled {
		v.oneOf(fmt.Sprintf("%s.alerts.disabled[%d]", p, j), t, Tiers)
	}
	for _, name := range slices.Sorted(maps.Keys(k.Alerts.Labels)) {
		lp := p + ".alerts.labels." + name
		switch {
		case !labelPattern.MatchString(name) || strings.HasPrefix(name, "__"):
			v.add(lp, "%q is not a label name (want [a-zA-Z_][a-zA-Z0-9_]*, not starting with __)", name)
		case slices.Contains(reservedLabels, name) || c.IsDimension(name):
			v.add(lp, "%q is set by kpiwatch itself", name)
		case k.Alerts.Labels[name] == "":
			v.add(lp, "empty value")
		}
	}
	if !slices.ContainsFunc(k.Targets, func(t Target) bool { return len(t.Unit) == 0 }) {
		v.add(p+".targets", "at least one target for the whole KPI (without unit) is required")
	}
	type key struct {
		unit string
		eff  time.Time
		by   time.Time
	}
	byDates := map[key]bool{}
	for j, t := range k.Targets {
		tp := fmt.Sprintf("%s.targets[%d]", p, j)
		if t.By.IsZero() {
			v.add(tp+".by", "required")
		} else if !t.By.After(k.Baseline.Date.Time) {
			v.add(tp+".by", "%s is not after the baseline date %s", t.By, k.Baseline.Date)
		}
		if !t.By.IsZero() && t.Effective.After(t.By.Time) {
			v.add(tp+".effective", "%s is after the target date %s", t.Effective, t.By)
		}
		if !t.Replaces.IsZero() && !slices.ContainsFunc(k.Targets, func(o Target) bool {
			return o.By.Equal(t.Replaces.Time) && o.Effective.Before(t.Effective.Time) && UnitKeyOf(o.Unit) == UnitKeyOf(t.Unit)
		}) {
			v.add(tp+".replaces", "no earlier target of the same unit is due on %s", t.Replaces)
		}
		switch k.Kind {
		case KindRatio:
			if t.Value < 0 || t.Value > 1 {
				v.add(tp+".value", "%g is not a ratio in 0..1 (write 100%% as 1)", t.Value)
			}
		case KindMilestone:
			if t.Value != 1 {
				v.add(tp+".value", "a milestone's target is 1 (done), got %g", t.Value)
			}
		}
		c.unit(v, tp+".unit", t.Unit, dims)
		v.scope(tp, k, t)
		c.direction(v, tp+".value", k, t)
		kk := key{UnitKeyOf(t.Unit), t.Effective.Time, t.By.Time}
		if byDates[kk] {
			v.add(tp+".by", "a second target for %s in the same revision", t.By)
		}
		byDates[kk] = true
	}
	ownTargets := map[string]bool{}
	for _, t := range k.Targets {
		ownTargets[UnitKeyOf(t.Unit)] = true
	}
	seenUnits := map[string]bool{}
	for j, b := range k.UnitBaselines {
		bp := fmt.Sprintf("%s.unit_baselines[%d]", p, j)
		if len(b.Unit) == 0 {
			v.add(bp+".unit", "required: the KPI's own baseline is baseline")
			continue
		}
		c.unit(v, bp+".unit", b.Unit, dims)
		switch key := UnitKeyOf(b.Unit); {
		case seenUnits[key]:
			v.add(bp+".unit", "a second baseline for %s", key)
		case !ownTargets[key]:
			v.add(bp+".unit", "%s has no targets of its own to start from this baseline", key)
		default:
			seenUnits[key] = true
		}
		if b.Date.IsZero() {
			v.add(bp+".date", "required")
		}
	}
}

// unit checks a unit selector against the KPI's dimensions and stores the
// value of each dimension with a list of units as the name the exporter
// serves. A former unit is moved to the unit it was merged into, with a
// warning: its target then holds for the whole merged unit.
func (c *Catalogue) unit(v *validator, path string, unit map[string]string, dims map[string]bool) {
	for _, d := range slices.Sorted(maps.Keys(unit)) {
		if !dims[d] {
			v.add(path+"."+d, "%q is not a dimension of this KPI%s", d, suggest.DidYouMean(d, slices.Collect(maps.Keys(dims))))
			continue
		}
		l := c.UnitLevel(d)
		if l == nil {
			continue
		}
		cur, named, err := l.Match(unit[d])
		if err != nil {
			v.add(path+"."+d, "%v", err)
			continue
		}
		if named != cur.Name {
			was, _ := l.Unit(named)
			v.warn(path+"."+d, "%q is a former %s, merged into %s (%s) on %s: this applies to all of %s; name %s to say so",
				unit[d], d, cur.Name, cur.NameVI, was.MergedOn.Format(time.DateOnly), cur.Name, cur.Name)
		}
		unit[d] = cur.Name
	}
}

// scope checks a target's scope: one of Scopes, on a target of the whole
// KPI (a unit's own target holds for that unit). A count broken down by
// units whose target gives no scope is warned of: it is judged for the
// whole only, which is what 40 million accounts nationwide means but not
// 500 dossiers a commune.
func (v *validator) scope(path string, k *KPI, t Target) {
	switch {
	case t.Scope != "" && len(t.Unit) > 0:
		v.add(path+".scope", "a unit's own target holds for that unit: drop scope or unit")
	case t.Scope != "":
		v.oneOf(path+".scope", string(t.Scope), []string{string(ScopeEach), string(ScopeWhole)})
	case len(t.Unit) == 0 && k.Kind == KindCount && len(k.Dimensions) > 0:
		v.warn(path+".scope", "%s is a count broken down by %s: say whether %s holds for each unit (scope: each) or for the sum of all (scope: whole, the default for a count)",
			k.ID, strings.Join(k.Dimensions, ", "), strconv.FormatFloat(t.Value, 'f', -1, 64))
	}
}

// direction warns of a target on the wrong side of its baseline for the
// KPI's direction: a lower-is-better target above where it starts is met on
// day one, or the direction is wrong.
func (c *Catalogue) direction(v *validator, path string, k *KPI, t Target) {
	base := k.Baseline.Value
	for _, b := range k.UnitBaselines {
		if len(t.Unit) > 0 && c.matchedKey(b.Unit) == c.matchedKey(t.Unit) {
			base = b.Value
		}
	}
	switch {
	case k.Direction == LowerIsBetter && t.Value > base:
		v.warn(path, "%g is above the baseline %g, but %s is lower_is_better: is the direction or the value wrong?", t.Value, base, k.ID)
	case k.Direction == HigherIsBetter && t.Value < base:
		v.warn(path, "%g is below the baseline %g, but %s is higher_is_better: is the direction or the value wrong?", t.Value, base, k.ID)
	}
}

// matchedKey is UnitKeyOf with each listed unit as its served name,
// however it is spelled.
func (c *Catalogue) matchedKey(unit map[string]string) string {
	unit = maps.Clone(unit)
	for d, name := range unit {
		if l := c.UnitLevel(d); l != nil {
			if u, _, err := l.Match(name); err == nil {
				unit[d] = u.Name
			}
		}
	}
	return UnitKeyOf(unit)
}

// days is the longest a period's due day may be.
func (p Period) days() int {
	switch p {
	case Weekly:
		return 7
	case Monthly:
		return 28
	case Quarterly:
		return 90
	case Yearly:
		return 365
	}
	return 0
}

// UnitKeyOf is a target's unit selector as "dim=value,...", sorted by
// dimension; "" for a KPI-wide target.
func UnitKeyOf(unit map[string]string) string {
	parts := make([]string, 0, len(unit))
	for _, d := range slices.Sorted(maps.Keys(unit)) {
		parts = append(parts, d+"="+unit[d])
	}
	return strings.Join(parts, ",")
}

// OwnerIDs lists the owners' ids.
func (c *Catalogue) OwnerIDs() []string {
	ids := make([]string, len(c.Owners))
	for i, o := range c.Owners {
		ids[i] = o.ID
	}
	return ids
}

// SourceIDs lists the sources' ids.
func (c *Catalogue) SourceIDs() []string {
	ids := make([]string, len(c.Sources))
	for i, s := range c.Sources {
		ids[i] = s.ID
	}
	return ids
}

// KPIIDs lists the KPIs' ids.
func (c *Catalogue) KPIIDs() []string {
	ids := make([]string, len(c.KPIs))
	for i, k := range c.KPIs {
		ids[i] = k.ID
	}
	return ids
}

// blocks are c.Blocks, or DefaultBlocks where the catalogue lists none.
func (c *Catalogue) blocks() []Block {
	if len(c.Blocks) == 0 {
		return DefaultBlocks
	}
	return c.Blocks
}

// BlockIDs lists the blocks' ids.
func (c *Catalogue) BlockIDs() []string { return blockIDs(c.blocks()) }

// Block finds a block by id.
func (c *Catalogue) Block(id string) (Block, bool) {
	bs := c.blocks()
	i := slices.IndexFunc(bs, func(b Block) bool { return b.ID == id })
	if i < 0 {
		return Block{}, false
	}
	return bs[i], true
}

// UnitSet is c.Units, or for a catalogue built in code rather than
// loaded, units.Default().
func (c *Catalogue) UnitSet() *units.Set {
	if c.Units == nil {
		return units.Default()
	}
	return c.Units
}

// UnitLevel is the list of units dimension d's values are matched
// against, nil for free text.
func (c *Catalogue) UnitLevel(d string) *units.Level { return c.UnitSet().Level(d) }

// Owner finds an owner by id.
func (c *Catalogue) Owner(id string) (Owner, bool) {
	for _, o := range c.Owners {
		if o.ID == id {
			return o, true
		}
	}
	return Owner{}, false
}

// Source finds a source by id.
func (c *Catalogue) Source(id string) (Source, bool) {
	for _, s := range c.Sources {
		if s.ID == id {
			return s, true
		}
	}
	return Source{}, false
}

// KPI finds a KPI by id.
func (c *Catalogue) KPI(id string) (*KPI, bool) {
	for i := range c.KPIs {
		if c.KPIs[i].ID == id {
			return &c.KPIs[i], true
		}
	}
	return nil, false
}

// HasDimension reports whether the KPI is broken down by d.
func (k *KPI) HasDimension(d string) bool { return slices.Contains(k.Dimensions, d) }

// Disabled reports whether an alert tier is switched off for the KPI.
func (k *KPI) Disabled(tier string) bool { return slices.Contains(k.Alerts.Disabled, tier) }
