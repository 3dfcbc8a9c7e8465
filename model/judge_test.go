package model

import (
	"testing"
	"time"

	"github.com/kpiwatch/kpiwatch/catalogue"
)

func TestSuspectChecks(t *testing.T) {
	month := func(m time.Month) time.Time { return time.Date(2026, m, 1, 0, 0, 0, 0, time.UTC) }
	count := func(cumulative bool, maxJump float64) *catalogue.KPI {
		return &catalogue.KPI{Kind: catalogue.KindCount, Cumulative: cumulative, Alerts: catalogue.Alerts{MaxJump: maxJump},
			Cadence: catalogue.Cadence{Period: catalogue.Monthly}}
	}
	ratio := &catalogue.KPI{Kind: catalogue.KindRatio, Cadence: catalogue.Cadence{Period: catalogue.Monthly}}
	series := func(points ...Point) *Series { return &Series{History: points} }
	cases := []struct {
		name string
		k    *catalogue.KPI
		s    *Series
		want uint8
	}{
		{"a cumulative count that rises", count(true, 0), series(Point{Period: month(8), Value: 10}, Point{Period: month(9), Value: 12}), 0},
		{"a cumulative count below an earlier report", count(true, 0), series(Point{Period: month(7), Value: 15}, Point{Period: month(8), Value: 10}, Point{Period: month(9), Value: 12}), 1 << 0},
		{"a count that falls, not cumulative", count(false, 0), series(Point{Period: month(8), Value: 15}, Point{Period: month(9), Value: 12}), 0},
		{"a numerator above its denominator", ratio, series(Point{Period: month(9), Value: 1.2, Num: 120, Den: 100}), 1 << 1},
		{"a numerator equal to its denominator", ratio, series(Point{Period: month(9), Value: 1, Num: 100, Den: 100}), 0},
		{"a jump beyond max_jump from the previous month", count(false, 0.5), series(Point{Period: month(8), Value: 100}, Point{Period: month(9), Value: 151}), 1 << 2},
		{"a change within max_jump", count(false, 0.5), series(Point{Period: month(8), Value: 100}, Point{Period: month(9), Value: 149}), 0},
		{"a jump over a gap of months is not a month's change", count(false, 0.5), series(Point{Period: month(6), Value: 100}, Point{Period: month(9), Value: 200}), 0},
		{"a single report", count(true, 0.5), series(Point{Period: month(9), Value: 100}), 0},
	}
	for _, c := range cases {
		if got := suspectChecks(c.k, c.s); got != c.want {
			t.Errorf("%s: checks %03b, want %03b", c.name, got, c.want)
		}
	}
}
