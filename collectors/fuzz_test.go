package collectors

import (
	"errors"
	"math"
	"slices"
	"testing"
	"time"

	"github.com/kpiwatch/kpiwatch/kpi"
	"github.com/kpiwatch/kpiwatch/units"
)

// Run for a while with: go test ./collectors -run '^$' -fuzz '^FuzzParseNumber$' -fuzztime 30s
// (one target per run); without -fuzz the seeds run as ordinary tests.

func FuzzParseNumber(f *testing.F) {
	for _, s := range []string{"1.058.569", "59,57%", "1,058,569.5", " 12 345,6 ", "-0,5", "1e6", "1,058569e+06", "NaN", "Inf", "1e400", "", "%", "1..2", "١٢٣", "\u00a01.000\u00a0"} {
		f.Add(s, true, 0.5957)
		f.Add(s, false, -1058569.0)
	}
	f.Fuzz(func(t *testing.T, s string, vietnamese bool, x float64) {
		nf := NumberFormat{}
		if vietnamese {
			nf = NumberFormat{Decimal: ","}
		}
		if v, err := ParseNumber(s, nf); err == nil {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				t.Fatalf("ParseNumber(%q) = %g", s, v)
			}
			if back, err := ParseNumber(FormatNumber(v, nf), nf); err != nil || back != v {
				t.Fatalf("%q: %g written as %q reads back as %g, %v", s, v, FormatNumber(v, nf), back, err)
			}
		}
		// Every number a database or a JSON document holds survives the
		// source's number format.
		if !math.IsNaN(x) && !math.IsInf(x, 0) {
			if back, err := ParseNumber(FormatNumber(x, nf), nf); err != nil || back != x {
				t.Fatalf("%g written as %q reads back as %g, %v", x, FormatNumber(x, nf), back, err)
			}
		}
	})
}

func FuzzParseDate(f *testing.F) {
	for _, s := range []string{"2025-10", "2025-10-31", "31/10/2025", "10/2025", "Tháng 10/2025", "T10/2025", "th 10 2025", "45961", "45961.75", "2025-10-31T00:00:00+07:00", "2025-10-31 08:30:00", "0", "2958465", "-1", "tháng", "31/02/2025", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := ParseDate(s, "")
		if err != nil {
			return
		}
		if d.Location() != time.UTC {
			t.Fatalf("ParseDate(%q) = %v, not in UTC", s, d)
		}
		if d.Equal(d.Truncate(24*time.Hour)) && d.Year() >= 1 && d.Year() <= 9999 {
			if again, err := ParseDate(d.Format(time.DateOnly), ""); err != nil || !again.Equal(d) {
				t.Fatalf("ParseDate(%q) = %v, whose own date reads as %v, %v", s, d, again, err)
			}
		}
	})
}

// FuzzBindingRow maps arbitrary rows: each is an observation that makes
// sense, a row skipped, or an error located at a column of the header.
func FuzzBindingRow(f *testing.F) {
	f.Add("vneid_accounts", "Hà Nội", "2025-10", "1.058.569", "", "")
	f.Add("benefit_bank_ratio", "TP. Hồ Chí Minh", "31/10/2025", "", "2.345.678", "3.000.000")
	f.Add("Tài khoản định danh điện tử mức 2", "Bình Dương", "45961", "12,5", "", "")
	f.Add("benefit_bank_ratio", "Huế", "10/2025", "", "5", "0")
	f.Add("digital_index", "Tổng cộng", "10/2025", "59,57%", "", "")
	f.Add("nope", "", "", "", "", "")
	f.Add("", "", "", "", "", "")
	c, m := newTestSource(f, f.TempDir(), `
collector: csv
config:
  path: report.csv
  mapping: {kpi_column: kpi, date: ky, value: value, numerator: num, denominator: den, dimensions: {province: tinh}, numbers: {decimal: ","}}
`)
	header := []string{"kpi", "tinh", "ky", "value", "num", "den"}
	b, err := m.Bind(c.(*csvCollector).cfg.Mapping, header, "report.csv")
	if err != nil {
		f.Fatal(err)
	}
	provinces := map[string]bool{}
	for _, p := range units.Default().Level("province").Current() {
		provinces[p.Name] = true
	}
	f.Fuzz(func(t *testing.T, kpiName, province, date, value, num, den string) {
		obs, skip, err := b.Row([]string{kpiName, province, date, value, num, den}, 7)
		if err != nil {
			var re *RowError
			if !errors.As(err, &re) || re.Loc.Row != 7 || re.Loc.Source != "src" || re.Loc.File != "report.csv" || !slices.Contains(header, re.Loc.Column) {
				t.Fatalf("error %q is not located at a column of row 7", err)
			}
			return
		}
		if skip {
			return
		}
		k := &m.cat.KPIs[obs.KPI]
		if len(obs.Labels) != 1 || !provinces[obs.Labels[0]] {
			t.Fatalf("labels %q: want one of the 34 provinces", obs.Labels)
		}
		if math.IsNaN(obs.Value) || math.IsInf(obs.Value, 0) {
			t.Fatalf("value %g", obs.Value)
		}
		if !kpi.PeriodStart(k.Cadence.Period, obs.Period).Equal(obs.Period) {
			t.Fatalf("period %v is not the start of a %s period", obs.Period, k.Cadence.Period)
		}
		if k.Kind == "ratio" && (obs.Den <= 0 || obs.Value != obs.Num/obs.Den) {
			t.Fatalf("ratio %g/%g = %g", obs.Num, obs.Den, obs.Value)
		}
	})
}
