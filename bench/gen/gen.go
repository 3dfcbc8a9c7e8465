// Package gen writes a national-scale KPI catalogue and the CSV report that
// feeds it, for benchmarks: 100 KPIs over as many synthetic communes as it
// takes to reach the requested number of series (10,000 communes for a
// million), each commune in one of the 34 provinces. The output depends only
// on the series count, so every run measures the same bytes.
package gen

import (
	"bufio"
	"cmp"
	"fmt"
	"io"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/kpiwatch/kpiwatch/internal/genfile"
	"github.com/kpiwatch/kpiwatch/units"
)

// KPIs is how many KPIs the catalogue has, whatever its size: per-KPI costs
// stay fixed while the series grow with the communes.
const KPIs = 100

// Owner is the one owner of every KPI: the alerts' route.
const Owner = "mps"

// Period is the month every row reports on.
const Period = "2026-10"

// Files a generated catalogue consists of.
const (
	CatalogueFile = "kpis.yaml"
	DataFile      = "communes.csv"
)

// Commune is one synthetic commune.
type Commune struct {
	Province units.Unit
	Name     string // as a report writes it, with its Xã or Phường prefix
}

// KPI is one generated KPI.
type KPI struct {
	ID   string
	Kind string // ratio, count or level
}

// Catalogue is a generated catalogue's content.
type Catalogue struct {
	KPIs     []KPI
	Communes []Commune
	// MissedBy, when set, is the date the first KPI's target was due
	// instead of the end of 2026 (see Miss).
	MissedBy time.Time
}

// Miss returns the catalogue with the first KPI's target due the day before
// now: its deadline has passed and no commune meets it (a ratio of at most
// 100% against a target of 1, all but a few short of it), so the exporter
// judges it missed, nationally, in every province and nearly every commune.
// It is the state a benchmark waits to see delivered as an alert.
func (c Catalogue) Miss(now time.Time) Catalogue {
	c.MissedBy = now.UTC().AddDate(0, 0, -1)
	return c
}

// Missed is the KPI whose target Miss puts in the past.
func (c Catalogue) Missed() string { return c.KPIs[0].ID }

// New lays out a catalogue with series observed series (rounded down to a
// multiple of KPIs, at least one commune).
func New(series int) Catalogue {
	n := max(series/KPIs, 1)
	c := Catalogue{Communes: communes(n)}
	for i := range KPIs {
		c.KPIs = append(c.KPIs, KPI{ID: fmt.Sprintf("commune_kpi_%03d", i+1), Kind: [...]string{"ratio", "ratio", "count", "count", "level"}[i%5]})
	}
	return c
}

// Series is how many series the catalogue's data reports.
func (c Catalogue) Series() int { return len(c.KPIs) * len(c.Communes) }

// Syllables of synthetic commune names: common Sino-Vietnamese place-name
// elements, so names look like the real ones (Tân Phú, An Bình, Phước Long).
var (
	firsts  = strings.Fields("An Bình Cẩm Đại Đông Gia Hòa Hưng Hương Kim Long Minh Mỹ Nam Ngọc Nghĩa Phú Phúc Phước Quang Quảng Tân Tây Thạch Thanh Thành Thái Thịnh Thuận Tiên Trung Vĩnh Xuân Yên Hải Lạc Đức Hiệp Lộc")
	seconds = strings.Fields("An Bình Châu Điền Định Đông Giang Hà Hải Hòa Hưng Khánh Lâm Lập Lợi Long Lộc Lương Mỹ Nghĩa Ninh Phong Phú Phước Quý Sơn Tài Tân Thạnh Thắng Thịnh Thọ Thủy Tiến Trạch Trung Tường Vinh Xuân Yên")
)

// distinctNames is how many names the syllables make with either prefix.
var distinctNames = 2 * len(firsts) * len(seconds)

// communes spreads n communes over the 34 provinces, with names unique
// within each province, ordered as a report would list them: by province
// code, then name.
func communes(n int) []Commune {
	rng := rand.New(rand.NewPCG(6, 2025))
	ps := units.Default().Level("province").Current()
	perProvince := make([]map[string]bool, len(ps))
	out := make([]Commune, 0, n)
	for i := range n {
		pi := i % len(ps)
		if perProvince[pi] == nil {
			perProvince[pi] = map[string]bool{}
		}
		var name string
		for {
			prefix := "Xã "
			if rng.IntN(4) == 0 {
				prefix = "Phường "
			}
			name = prefix + firsts[rng.IntN(len(firsts))] + " " + seconds[rng.IntN(len(seconds))]
			if len(perProvince[pi]) >= distinctNames/2 {
				name += " " + strconv.Itoa(len(perProvince[pi])) // names run short: number them
			}
			if !perProvince[pi][name] {
				break
			}
		}
		perProvince[pi][name] = true
		out = append(out, Commune{Province: ps[pi], Name: name})
	}
	slices.SortFunc(out, func(a, b Commune) int {
		return cmp.Or(cmp.Compare(a.Province.Code, b.Province.Code), cmp.Compare(a.Name, b.Name))
	})
	return out
}

// Write writes the catalogue and its CSV into dir and returns the
// catalogue's path.
func (c Catalogue) Write(dir string) (string, error) {
	if err := genfile.WriteBytes(filepath.Join(dir, CatalogueFile), 0o644, []byte(c.yaml())); err != nil {
		return "", err
	}
	if err := c.writeCSV(filepath.Join(dir, DataFile)); err != nil {
		return "", err
	}
	return filepath.Join(dir, CatalogueFile), nil
}

func (c Catalogue) yaml() string {
	var b strings.Builder
	b.WriteString(`apiVersion: kpiwatch.io/v1
kind: Catalogue
metadata: {name: bench, title: Generated commune-level KPIs for benchmarks}
owners:
  - {id: ` + Owner + `, name: Ministry of Public Security, name_vi: Bộ Công an, block: government}
sources:
  - id: communes
    collector: csv
    interval: 1h
    timeout: 5m
    config:
      path: ` + DataFile + `
      mapping:
        kpi_column: kpi
        date: period
        value: value
        numerator: num
        denominator: den
        dimensions: {province: province, commune: commune}
kpis:
`)
	for i, k := range c.KPIs {
		target := map[string]string{"ratio": "1", "count": "2000", "level": "100"}[k.Kind]
		by := "2026-12-31"
		if i == 0 && !c.MissedBy.IsZero() {
			by = c.MissedBy.Format(time.DateOnly)
		}
		fmt.Fprintf(&b, `  - id: %s
    name: Commune KPI %d
    name_vi: Chỉ tiêu cấp xã %d
    unit: %s
    kind: %s
    direction: higher_is_better
    owner: %s
    dimensions: [province, commune]
    cadence: {period: monthly, due_day: 15, grace: 5d}
    source: communes
    baseline: {date: 2025-01-01, value: 0}
    targets: [{by: %s, value: %s, scope: each, decision: "Illustrative target for benchmarks (each commune)"}]
`, k.ID, i+1, i+1, map[string]string{"ratio": "ratio", "count": "records", "level": "score"}[k.Kind], k.Kind, Owner, by, target)
	}
	return b.String()
}

// writeCSV writes one row per KPI and commune, KPI by KPI, as a ministry's
// export lists them; provinces are spelled as in official documents.
func (c Catalogue) writeCSV(path string) error {
	return genfile.WriteFile(path, 0o644, func(f io.Writer) error { return c.csv(f) })
}

func (c Catalogue) csv(f io.Writer) error {
	w := bufio.NewWriterSize(f, 1<<20)
	rng := rand.New(rand.NewPCG(6, 2026))
	_, _ = w.WriteString("province,commune,kpi,period,value,num,den\n")
	var line []byte
	for _, k := range c.KPIs {
		for _, cm := range c.Communes {
			line = append(line[:0], cm.Province.NameVI...)
			line = append(line, ',')
			line = append(line, cm.Name...)
			line = append(line, ',')
			line = append(line, k.ID...)
			line = append(line, ","+Period+","...)
			switch k.Kind {
			case "ratio":
				den := 100 + rng.IntN(5000)
				line = append(line, ',')
				line = strconv.AppendInt(line, int64(den*(50+rng.IntN(51))/100), 10)
				line = append(line, ',')
				line = strconv.AppendInt(line, int64(den), 10)
			case "count":
				line = strconv.AppendInt(line, int64(rng.IntN(2500)), 10)
				line = append(line, ",,"...)
			default:
				line = strconv.AppendFloat(line, float64(rng.IntN(10000))/100, 'f', -1, 64)
				line = append(line, ",,"...)
			}
			line = append(line, '\n')
			if _, err := w.Write(line); err != nil {
				return err
			}
		}
	}
	return w.Flush()
}
