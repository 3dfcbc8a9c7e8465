package model

import (
	"testing"
	"time"

	"github.com/kpiwatch/kpiwatch/catalogue"
)

func TestDuePeriod(t *testing.T) {
	for _, c := range []struct {
		cadence catalogue.Cadence
		now     time.Time
		want    time.Time
	}{
		{catalogue.Cadence{Period: catalogue.Monthly, DueDay: 15}, time.Date(2026, 1, 15, 23, 59, 0, 0, time.UTC), time.Date(2025, 11, 1, 0, 0, 0, 0, time.UTC)},
		{catalogue.Cadence{Period: catalogue.Monthly, DueDay: 15}, time.Date(2026, 1, 16, 0, 0, 0, 0, time.UTC), time.Date(2025, 12, 1, 0, 0, 0, 0, time.UTC)},
		{catalogue.Cadence{Period: catalogue.Weekly, DueDay: 2}, time.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC), time.Date(2026, 11, 16, 0, 0, 0, 0, time.UTC)},
		{catalogue.Cadence{Period: catalogue.Quarterly, DueDay: 15}, time.Date(2026, 11, 22, 0, 0, 0, 0, time.UTC), time.Date(2026, 7, 1, 0, 0, 0, 0, time.UTC)},
	} {
		if got := DuePeriod(c.cadence, c.now); !got.Equal(c.want) {
			t.Errorf("%s at %s: %s, want %s", c.cadence.Period, c.now, got, c.want)
		}
	}
}
