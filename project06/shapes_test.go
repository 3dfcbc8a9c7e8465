package project06_test

import (
	"context"
	"testing"
	"time"

	"github.com/kpiwatch/kpiwatch/collectors"
	"github.com/kpiwatch/kpiwatch/project06"
)

// The provincial DTI arrives as a folder of province workbooks, each a wide
// table (quarters across, under the years): every file is read, every
// province has every quarter, the plan column is not read.
func TestSampleReadsAFolderOfWideProvinceWorkbooks(t *testing.T) {
	cat := load(t)
	src, ok := cat.Source("most_provincial_dti")
	if !ok {
		t.Fatal("no source most_provincial_dti")
	}
	c, errs := collectors.New(collectors.Env{Source: src, Dir: project06.FS})
	if errs != nil {
		t.Fatal(errs)
	}
	b, err := c.Collect(context.Background(), collectors.NewMapper(cat, src.ID))
	if err != nil || len(b.Rejected) > 0 {
		t.Fatalf("%v %v", err, b.Rejected)
	}
	if read, rejected, _ := c.(collectors.FileCounter).Files(); read != 34 || rejected != 0 {
		t.Errorf("files read %d, rejected %d; want 34 and 0", read, rejected)
	}
	quarters := map[string]map[time.Time]float64{}
	for _, o := range b.Observations {
		if quarters[o.Labels[0]] == nil {
			quarters[o.Labels[0]] = map[time.Time]float64{}
		}
		quarters[o.Labels[0]][o.Period] = o.Value
	}
	if len(quarters) != 34 {
		t.Errorf("%d provinces, want 34", len(quarters))
	}
	for p, q := range quarters {
		if len(q) != 5 {
			t.Errorf("%s: %d quarters, want 5 (2025-Q3 to 2026-Q3)", p, len(q))
		}
		if v := q[time.Date(2026, 7, 1, 0, 0, 0, 0, time.UTC)]; v <= 0.6 || v > 1 || v == 0.8 {
			t.Errorf("%s: 2026-Q3 score %v is not a score (or is the plan)", p, v)
		}
	}
}
