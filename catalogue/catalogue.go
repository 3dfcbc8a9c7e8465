// Package catalogue defines the declarative KPI catalogue that drives the
// exporter, the alert rules and the dashboards, and loads it strictly: every
// unknown key, bad value and dangling reference is reported at once with its
// field path and line.
package catalogue

import (
	"errors"
	"fmt"
	"slices"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/kpiwatch/kpiwatch/conventions"
	"github.com/kpiwatch/kpiwatch/units"
)

// APIVersion and Kind head every catalogue file.
const (
	APIVersion = "kpiwatch.io/v1"
	Kind       = "Catalogue"
)

// Catalogue is the whole file.
type Catalogue struct {
	APIVersion string   `yaml:"apiVersion"`
	Kind       string   `yaml:"kind"`
	Metadata   Metadata `yaml:"metadata"`
	Owners     []Owner  `yaml:"owners"`
	Sources    []Source `yaml:"sources"`
	KPIs       []KPI    `yaml:"kpis"`
	// Dimensions declares breakdowns beyond the built-in ones.
	Dimensions []DeclaredDimension `yaml:"dimensions"`
	// Blocks are the groups owners belong to; DefaultBlocks when unset.
	Blocks []Block `yaml:"blocks"`

	// Units are the units the catalogue reports on: metadata.units, or
	// units.Default(); set by the loader, never nil after it.
	Units *units.Set `yaml:"-"`

	// Dir is where relative paths in sources resolve; set by the loader.
	Dir string `yaml:"-"`
	// Warnings are settings that are valid but probably not meant (a
	// lower-is-better target above its baseline), located like errors; set
	// by the loader.
	Warnings Errors `yaml:"-"`
	file     string
	lines    map[string]int
}

// Metadata names the catalogue.
type Metadata struct {
	Name    string `yaml:"name"`
	Title   string `yaml:"title"`
	TitleVI string `yaml:"title_vi"`
	// Links are shown in alert annotations.
	DashboardURL string `yaml:"dashboard_url"`
	RunbookURL   string `yaml:"runbook_url"`
	// Locale is how the catalogue's sources write numbers where a mapping
	// declares no numbers: format: vi (1.058.569 and 12,5) or en (1,058,569
	// and 12.5). Without either, a number that reads two ways (171.548) is
	// settled by its column's other values, or rejected.
	Locale string `yaml:"locale"`
	// Units is the path, relative to the catalogue, of the units file
	// (docs/units.md); the embedded provinces without one.
	Units string `yaml:"units"`
	// OwnersVI and OwnersEN name the owners as a group: "Bộ, ngành" and
	// "Ministries and agencies" by default, "Sở, ngành" for a province.
	OwnersVI string `yaml:"owners_vi"`
	OwnersEN string `yaml:"owners_en"`
}

// Default names of the owners as a group.
const (
	DefaultOwnersVI = "Bộ, ngành"
	DefaultOwnersEN = "Ministries and agencies"
)

// Locales a catalogue may declare.
const (
	LocaleVI = "vi"
	LocaleEN = "en"
)

// Owner is a responsible agency: a ministry, a province's people's committee,
// a block's office. Alerts route by its id.
type Owner struct {
	ID      string   `yaml:"id"`
	Name    string   `yaml:"name"`
	NameVI  string   `yaml:"name_vi"`
	Block   string   `yaml:"block"`
	Aliases []string `yaml:"aliases"`
}

// Source is one place observations come from, read by the collector named in
// Collector with the settings in Config (decoded strictly by that collector).
type Source struct {
	ID        string   `yaml:"id"`
	Collector string   `yaml:"collector"`
	Interval  Duration `yaml:"interval"`
	Timeout   Duration `yaml:"timeout"`
	MaxSeries int      `yaml:"max_series"`
	// MaxRejectedRatio is the share of the rows read that a refresh may
	// reject and still replace the last good data (default
	// DefaultMaxRejectedRatio; 0 accepts no rejected row).
	MaxRejectedRatio *float64  `yaml:"max_rejected_ratio"`
	KeepFor          Duration  `yaml:"keep_last_good_for"`
	Config           yaml.Node `yaml:"config"`
}

// CheckRefresh applies the catalogue's rule to what one refresh of the
// source yielded: a refresh that accepts no row, or rejects more than
// MaxRejectedRatio of the rows it read, is a failed one. It returns the
// reason (a conventions.Failure* value) and the error to report, or "" and nil.
func (s Source) CheckRefresh(accepted, rejected int) (string, error) {
	limit := DefaultMaxRejectedRatio
	if s.MaxRejectedRatio != nil {
		limit = *s.MaxRejectedRatio
	}
	switch read := accepted + rejected; {
	case accepted == 0 && rejected == 0:
		return conventions.FailureNoRows, errors.New("no row accepted: the source holds no data rows")
	case accepted == 0:
		return conventions.FailureNoRows, fmt.Errorf("no row accepted: all %d rejected", rejected)
	case float64(rejected) > limit*float64(read):
		return conventions.FailureRejected, fmt.Errorf("%d of %d rows rejected, more than max_rejected_ratio %g", rejected, read, limit)
	}
	return "", nil
}

// Block is a group of owners: a national block, a province's own.
type Block struct {
	ID     string `yaml:"id"`
	NameVI string `yaml:"name_vi"`
	NameEN string `yaml:"name_en"`
}

// The national blocks' ids.
const (
	BlockParty            = "party"
	BlockGovernment       = "government"
	BlockNationalAssembly = "national_assembly"
	BlockFatherlandFront  = "fatherland_front"
)

// DefaultBlocks are the four national blocks, a catalogue's blocks when it
// lists none.
var DefaultBlocks = []Block{
	{BlockParty, "Khối Đảng", "Party"},
	{BlockGovernment, "Khối Chính phủ", "Government"},
	{BlockNationalAssembly, "Khối Quốc hội", "National Assembly"},
	{BlockFatherlandFront, "Khối Mặt trận Tổ quốc", "Fatherland Front"},
}

func blockIDs(bs []Block) []string {
	ids := make([]string, len(bs))
	for i, b := range bs {
		ids[i] = b.ID
	}
	return ids
}

// Kind of a KPI.
type KPIKind string

// KPI kinds.
const (
	KindCount     KPIKind = "count"
	KindRatio     KPIKind = "ratio"
	KindLevel     KPIKind = "level"
	KindMilestone KPIKind = "milestone"
)

// Direction of a KPI.
type Direction string

// Directions.
const (
	HigherIsBetter Direction = "higher_is_better"
	LowerIsBetter  Direction = "lower_is_better"
)

// Dimension names a KPI may be broken down by.
const (
	DimProvince = "province"
	DimMinistry = "ministry"
	DimCommune  = "commune"
	DimBlock    = "block"
)

// Dimensions lists the built-in dimensions: ministry values are matched
// against the owners, block values against the blocks, and a dimension the
// catalogue's units list (province by default) against that list; the
// others are kept as reported.
var Dimensions = []string{DimProvince, DimMinistry, DimCommune, DimBlock}

// KPI is one key performance indicator.
type KPI struct {
	ID          string    `yaml:"id"`
	Name        string    `yaml:"name"`
	NameVI      string    `yaml:"name_vi"`
	Description string    `yaml:"description"`
	Unit        string    `yaml:"unit"`
	Kind        KPIKind   `yaml:"kind"`
	Direction   Direction `yaml:"direction"`
	// Cumulative counts never fall; a fall is flagged as suspect data.
	Cumulative bool     `yaml:"cumulative"`
	Owner      string   `yaml:"owner"`
	Block      string   `yaml:"block"`
	Dimensions []string `yaml:"dimensions"`
	Cadence    Cadence  `yaml:"cadence"`
	Source     string   `yaml:"source"`
	// Sources, instead of Source, are several sources of the KPI (last
	// year's workbook, this year's CSV) in order of precedence: for a
	// period two of them give, the one listed later is served and the
	// other's figure is a warning naming both places (see SourceIDs).
	Sources []string `yaml:"sources"`
	// Tolerance is how far behind plan a series may be, as a fraction of the
	// distance from baseline to target, before it is at risk.
	Tolerance float64 `yaml:"tolerance"`
	// MaxValue bounds every figure a report of the KPI may give (a value,
	// or a ratio's numerator and denominator): a larger one is a misread
	// and rejected. Default DefaultMaxValue.
	MaxValue float64  `yaml:"max_value"`
	Baseline Baseline `yaml:"baseline"`
	Targets  []Target `yaml:"targets"`
	// UnitBaselines are the baselines of units with targets of their own
	// whose starting point is not the KPI's (a ministry's own backlog).
	UnitBaselines []UnitBaseline `yaml:"unit_baselines"`
	Alerts        Alerts         `yaml:"alerts"`
	// Rollup is how a level KPI's units roll up into a province, a block or
	// the whole: one of Rollups, RollupMean by default.
	Rollup string `yaml:"rollup"`
	// Facts are the published figures the KPI and its sample data rest on.
	Facts []string `yaml:"facts"`
}

// Cadence is how often a KPI is reported and when a report is due.
type Cadence struct {
	Period Period `yaml:"period"`
	// DueDay is the day of the following period by which a report is due
	// (the 15th for monthly reports).
	DueDay int      `yaml:"due_day"`
	Grace  Duration `yaml:"grace"`
}

// Period of a cadence.
type Period string

// Periods.
const (
	Weekly    Period = "weekly"
	Monthly   Period = "monthly"
	Quarterly Period = "quarterly"
	Yearly    Period = "yearly"
)

// Baseline is the value a KPI starts from.
type Baseline struct {
	Date  Date    `yaml:"date"`
	Value float64 `yaml:"value"`
}

// UnitBaseline is the baseline of one unit's own plan.
type UnitBaseline struct {
	Unit  map[string]string `yaml:"unit"`
	Date  Date              `yaml:"date"`
	Value float64           `yaml:"value"`
}

// Target is a dated milestone, set by a decision that takes effect on a
// date. A later target for the same day revises the earlier one from its
// effective date on; one that moves a deadline names the day it replaces.
// Earlier targets stay in the catalogue, so history is never rewritten.
type Target struct {
	By        Date    `yaml:"by"`
	Value     float64 `yaml:"value"`
	Effective Date    `yaml:"effective"`
	Decision  string  `yaml:"decision"`
	Replaces  Date    `yaml:"replaces"`
	// Unit, when set, makes this a unit's own target (e.g. {province: Ha Noi}).
	Unit map[string]string `yaml:"unit"`
	// Scope says which figures a target without Unit holds for: each unit
	// and every roll-up of them (ScopeEach), or only the whole (ScopeWhole).
	// Empty takes the kind's default (see KPI.ScopeOf).
	Scope Scope `yaml:"scope"`
}

// Scope of a target.
type Scope string

// Scopes.
const (
	// ScopeEach holds for every unit (each commune at 80%, each commune 500
	// dossiers a month) and, but for a count, for every roll-up of units.
	ScopeEach Scope = "each"
	// ScopeWhole holds for the deployment's whole only (40 million
	// accounts nationwide).
	ScopeWhole Scope = "whole"
)

// SourceIDs are the sources the KPI is read from, in order of precedence.
// A later source wins a period that an earlier one gives too: an office
// lists its sources oldest first, and the newer channel carries the
// corrections, so its figure is the one to serve. Rejecting the period
// instead would hold the KPI hostage to a file no one will edit again (last
// year's workbook), and the warning names both places for whoever checks.
func (k *KPI) SourceIDs() []string {
	if len(k.Sources) > 0 {
		return k.Sources
	}
	return []string{k.Source}
}

// ReadFrom reports whether source is one of the KPI's sources, without
// the slice SourceIDs builds: it is asked for every row read.
func (k *KPI) ReadFrom(source string) bool {
	if len(k.Sources) > 0 {
		return slices.Contains(k.Sources, source)
	}
	return k.Source == source
}

// MainSource is the source whose figures win: the only one, or the last
// listed. It is the source label of the KPI's info series.
func (k *KPI) MainSource() string {
	ids := k.SourceIDs()
	return ids[len(ids)-1]
}

// ScopeOf is the scope target t holds for: its own, or by default each
// unit for a ratio, level or milestone, which hold for a unit and the
// whole alike, and the whole for a count, which almost never does.
func (k *KPI) ScopeOf(t Target) Scope {
	switch {
	case t.Scope != "":
		return t.Scope
	case k.Kind == KindCount:
		return ScopeWhole
	}
	return ScopeEach
}

// Roll-up of a level KPI's units: a score cannot be summed.
const (
	RollupMean   = "mean"
	RollupMedian = "median"
	RollupMin    = "min"
	RollupMax    = "max"
)

// Rollups lists the valid roll-ups of a level KPI.
var Rollups = []string{RollupMean, RollupMedian, RollupMin, RollupMax}

// Alerts are per-KPI overrides of the generated alert rules.
type Alerts struct {
	Severity string `yaml:"severity"`
	// Disabled names alert tiers not generated for this KPI.
	Disabled []string `yaml:"disabled"`
	// For is how long a KPI must be behind plan before it alerts.
	For Duration `yaml:"for"`
	// MaxJump is the largest plausible change between two reports, as a
	// fraction of the previous value.
	MaxJump float64 `yaml:"max_jump"`
	// Labels are added to every alert of the KPI, for routing (a team, a
	// programme, a channel) beyond the owner and the block.
	Labels map[string]string `yaml:"labels"`
}

// Date is a calendar day, written YYYY-MM-DD, held as midnight UTC.
type Date struct{ time.Time }

// Duration is a Prometheus-style duration (30s, 5m, 1h, 5d, 1w).
type Duration time.Duration
