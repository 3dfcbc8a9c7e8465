package catalogue

import (
	"fmt"
	"io/fs"
	"path"
	"regexp"
	"slices"
	"strings"

	"github.com/kpiwatch/kpiwatch/conventions"
	"github.com/kpiwatch/kpiwatch/units"
)

// DeclaredDimension is a breakdown beyond province, ministry, commune and
// block that a catalogue declares for its KPIs to use: service type,
// gender, age band, channel. Its name is the label its values are served
// under; a KPI lists it in its dimensions like a built-in one.
type DeclaredDimension struct {
	Name   string `yaml:"name"`
	NameEN string `yaml:"name_en"`
	NameVI string `yaml:"name_vi"`
	// Values are the values a report may give, each as served (a report's
	// spelling is matched case and diacritics aside); FreeText instead
	// takes any value, bounded by the source's max_series.
	Values   []string `yaml:"values"`
	FreeText bool     `yaml:"free_text"`
}

// labelName is a Prometheus label name that kpiwatch does not serve for
// anything else.
var labelName = regexp.MustCompile(`^[a-z][a-z0-9_]*$`)

// reservedLabels are the labels the exporter, the rules and Alertmanager
// use: a declared dimension cannot take one.
var reservedLabels = []string{
	conventions.LabelKPI, conventions.LabelStatus, conventions.LabelOwner, conventions.LabelBlock, conventions.LabelSource,
	conventions.LabelCollector, conventions.LabelProvince, conventions.LabelMinistry, conventions.LabelCommune,
	conventions.LabelTask, conventions.LabelName, conventions.LabelNameVI, conventions.LabelUnit, conventions.LabelKind,
	conventions.LabelDirection, conventions.LabelCadence, conventions.LabelCode, conventions.LabelDecision,
	conventions.LabelResult, conventions.LabelVersion, conventions.LabelRevision, conventions.LabelGoVersion,
	conventions.LabelSeverity, conventions.LabelAlertName, conventions.LabelCatalogue, conventions.LabelTaskStatus,
	conventions.LabelReason, conventions.LabelCheck, conventions.LabelLevel, conventions.LabelParent, conventions.LabelUnits, "job", "instance", "le", "quantile",
}

// MaxDeclaredValue bounds a free-text dimension's value, in bytes.
const MaxDeclaredValue = 128

// Dimension returns the declared dimension called name.
func (c *Catalogue) Dimension(name string) (DeclaredDimension, bool) {
	for _, d := range c.Dimensions {
		if d.Name == name {
			return d, true
		}
	}
	return DeclaredDimension{}, false
}

// IsDimension reports whether name is a built-in dimension, a level of the
// catalogue's units or a declared dimension.
func (c *Catalogue) IsDimension(name string) bool {
	_, declared := c.Dimension(name)
	return declared || slices.Contains(Dimensions, name) || c.UnitLevel(name) != nil
}

// DimensionNames lists the built-in dimensions, the other levels of the
// catalogue's units, then the declared dimensions.
func (c *Catalogue) DimensionNames() []string {
	names := slices.Clone(Dimensions)
	for _, l := range c.UnitSet().Levels {
		if !slices.Contains(names, l.Name) {
			names = append(names, l.Name)
		}
	}
	for _, d := range c.Dimensions {
		names = append(names, d.Name)
	}
	return names
}

// loadUnits sets c.Units: the units file metadata.units names, read from
// dir, or the default.
func (c *Catalogue) loadUnits(v *validator, dir fs.FS) {
	c.Units = units.Default()
	if c.Metadata.Units == "" {
		return
	}
	name := path.Clean(c.Metadata.Units)
	switch {
	case !fs.ValidPath(name):
		v.add("metadata.units", "%q is not a path inside the catalogue's folder", c.Metadata.Units)
		return
	case dir == nil:
		v.add("metadata.units", "the catalogue has no folder to read %q from", c.Metadata.Units)
		return
	}
	s, err := units.LoadFS(dir, name)
	if err != nil {
		v.add("metadata.units", "%v", err)
		return
	}
	c.Units = s
	for _, l := range s.Levels {
		switch _, declared := c.Dimension(l.Name); {
		case l.Name == DimProvince || l.Name == DimCommune:
		case !labelName.MatchString(l.Name):
			v.add("metadata.units", "level %q must be lower case letters, digits and _ and start with a letter (it is a label name)", l.Name)
		case slices.Contains(reservedLabels, l.Name) || strings.HasPrefix(l.Name, "__"):
			v.add("metadata.units", "level %q is a label kpiwatch already serves", l.Name)
		case declared:
			v.add("metadata.units", "level %q is also declared under dimensions: its values are the units file's list", l.Name)
		}
	}
}

func (c *Catalogue) validateBlocks(v *validator) {
	seen := map[string]string{}
	for i, b := range c.Blocks {
		p := fmt.Sprintf("blocks[%d]", i)
		v.id(p+".id", b.ID, seen)
		if b.NameVI == "" || b.NameEN == "" {
			v.add(p, "name_vi and name_en are both needed: pages, boards and alerts show them")
		}
	}
}

// Value matches a reported value against a declared dimension: the allowed
// value it spells, or for free text the value itself, trimmed.
func (d DeclaredDimension) Value(raw string) (string, error) {
	v := strings.Join(strings.Fields(raw), " ")
	switch {
	case v == "":
		return "", fmt.Errorf("empty %s", d.Name)
	case d.FreeText && len(v) > MaxDeclaredValue:
		return "", fmt.Errorf("%s %.40q... is longer than %d bytes", d.Name, v, MaxDeclaredValue)
	case d.FreeText:
		return v, nil
	}
	for _, a := range d.Values {
		if units.Normalise(a) == units.Normalise(v) {
			return a, nil
		}
	}
	return "", fmt.Errorf("unknown %s %q (allowed: %s)", d.Name, raw, strings.Join(d.Values, ", "))
}

func (v *validator) declaredDimensions(dims []DeclaredDimension) {
	seen := map[string]bool{}
	for i, d := range dims {
		p := fmt.Sprintf("dimensions[%d]", i)
		switch {
		case !labelName.MatchString(d.Name):
			v.add(p+".name", "%q must be lower case letters, digits and _ and start with a letter (it is a label name)", d.Name)
		case slices.Contains(reservedLabels, d.Name) || strings.HasPrefix(d.Name, "__"):
			v.add(p+".name", "%q is a label kpiwatch already serves", d.Name)
		case seen[d.Name]:
			v.add(p+".name", "duplicate dimension %q", d.Name)
		}
		seen[d.Name] = true
		if d.NameEN == "" || d.NameVI == "" {
			v.add(p, "name_en and name_vi are both needed: boards and pages show them")
		}
		if d.FreeText == (len(d.Values) > 0) {
			v.add(p+".values", "set the allowed values, or free_text: true, not both")
		}
		folded := map[string]bool{}
		for j, a := range d.Values {
			switch f := units.Normalise(a); {
			case f == "":
				v.add(fmt.Sprintf("%s.values[%d]", p, j), "empty")
			case folded[f]:
				v.add(fmt.Sprintf("%s.values[%d]", p, j), "%q repeats a value (case and diacritics aside)", a)
			default:
				folded[f] = true
			}
		}
	}
}
