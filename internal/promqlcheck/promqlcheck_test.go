package promqlcheck

import (
	"slices"
	"testing"
	"time"
)

func TestMetricNames(t *testing.T) {
	for _, tc := range []struct {
		expr string
		want []string
	}{
		{`sum by (kpi) (kpi_numerator{kpi="a"}) / sum by (kpi) (kpi_denominator{kpi="a"})`, []string{"kpi_denominator", "kpi_numerator"}},
		{`deriv(kpi_value[90d]) and on (kpi) kpi_value offset 1d`, []string{"kpi_value"}},
		{`{__name__="kpi:kpi_value:rollup", kpi="a"} > 1`, []string{"kpi:kpi_value:rollup"}},
		{`time() - 3`, []string{}},
	} {
		got, err := MetricNames(tc.expr)
		if err != nil {
			t.Fatalf("%s: %v", tc.expr, err)
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("%s: got %v, want %v", tc.expr, got, tc.want)
		}
	}
}

func TestMetricNamesRejects(t *testing.T) {
	for _, expr := range []string{`sum(`, `{__name__=~"kpi_.*"}`, `{kpi="a"}`} {
		if names, err := MetricNames(expr); err == nil {
			t.Errorf("%s: want an error, got %v", expr, names)
		}
	}
}

func TestUnknown(t *testing.T) {
	got, err := Unknown(`kpi_value / kpi_valu`, map[string]bool{"kpi_value": true})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got, []string{"kpi_valu"}) {
		t.Errorf("got %v, want [kpi_valu]", got)
	}
}

func TestLookback(t *testing.T) {
	for expr, want := range map[string]time.Duration{
		`kpi_value`:                                   0,
		`last_over_time(kpi_value[10m])`:              10 * time.Minute,
		`deriv(kpi_value[90d]) and changes(x[1h])`:    90 * 24 * time.Hour,
		`kpi_value offset 31d`:                        31 * 24 * time.Hour,
		`max_over_time(rate(x[5m])[1h:1m] offset 1h)`: 2 * time.Hour,
	} {
		if got, err := Lookback(expr); err != nil || got != want {
			t.Errorf("Lookback(%s) = %v, %v; want %v", expr, got, err, want)
		}
	}
}
