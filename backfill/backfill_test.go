package backfill_test

import (
	"bytes"
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/kpiwatch/kpiwatch/backfill"
	"github.com/kpiwatch/kpiwatch/catalogue"
	"github.com/kpiwatch/kpiwatch/collectors"
	"github.com/kpiwatch/kpiwatch/conventions"
	"github.com/kpiwatch/kpiwatch/push"
)

// The fixture (testdata/reports.csv): monthly reports of paid/recipients.
// Ha Giang and Tuyen Quang report apart and roll up into Tuyen Quang; Ha Noi
// skips March and April. The target of 0.6 is raised to 0.9 from 2025-04-01.
var (
	jobLabels = []push.Label{{Name: "job", Value: "kpiwatch"}, {Name: "instance", Value: "exporter:10606"}}
	end       = day("2025-07-01")
)

func day(s string) time.Time {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		panic(err)
	}
	return t
}

func build(t *testing.T, opts backfill.Options) *backfill.Result {
	t.Helper()
	cat, err := catalogue.LoadFile("testdata/catalogue.yaml", collectors.Check)
	if err != nil {
		t.Fatal(err)
	}
	if opts.End.IsZero() {
		opts.End = end
	}
	opts.Labels = jobLabels
	r, err := backfill.Build(context.Background(), cat, os.DirFS("testdata"), opts)
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Rejected) > 0 {
		t.Fatalf("rows rejected: %v", r.Rejected)
	}
	return r
}

// valueAt is the sample of the series name{labels...} at t; ok is false
// when there is none.
func valueAt(r *backfill.Result, name string, t time.Time, labels ...string) (float64, bool) {
	for _, s := range r.Series {
		if s.Name != name || !hasLabels(s.Labels, labels) {
			continue
		}
		for i, ts := range s.Times {
			if ts == t.UnixMilli() {
				return s.Values[i], true
			}
		}
	}
	return 0, false
}

func hasLabels(set string, labels []string) bool {
	for _, l := range labels {
		if !strings.Contains(set, l) {
			return false
		}
	}
	return true
}

func TestValuesFollowTheReportInForce(t *testing.T) {
	r := build(t, backfill.Options{})
	if want := day("2025-02-01"); !r.Start.Equal(want) {
		t.Errorf("starts %s, want %s: the end of the first reported period", r.Start, want)
	}
	tq, hn := `province="Tuyen Quang"`, `province="Ha Noi"`
	for _, c := range []struct {
		name   string
		at     string
		labels []string
		want   float64
	}{
		// January's reports of the two former provinces, rolled up: 40/200.
		{conventions.KPIValue, "2025-02-01", []string{tq}, 0.2},
		{conventions.RollupNumerator, "2025-02-01", []string{tq}, 40},
		{conventions.RollupDenominator, "2025-02-01", []string{tq}, 200},
		{conventions.KPIValue, "2025-02-28", []string{tq}, 0.2},
		{conventions.KPIValue, "2025-03-01", []string{tq}, 0.3},
		{conventions.KPIValue, "2025-04-01", []string{tq}, 0.35},
		// Ha Noi's February report stays in force through its missing months.
		{conventions.KPIValue, "2025-05-20", []string{hn}, 0.55},
		{conventions.KPIReportPeriod, "2025-05-20", []string{hn}, float64(day("2025-02-01").Unix())},
		{conventions.KPIValue, "2025-06-01", []string{hn}, 0.7},
		// The plan in force: the revision counts from its effective date.
		{conventions.KPITarget, "2025-03-31", []string{`kpi="paid_by_bank"`}, 0.6},
		{conventions.KPITarget, "2025-04-01", []string{`kpi="paid_by_bank"`}, 0.9},
		// By 2025-05-20 Ha Noi's last report (February) is past its next
		// report's due date (April 15) and grace (5 days): stale.
		{conventions.KPIStatus, "2025-05-20", []string{hn, `status="stale"`}, 1},
		{conventions.KPIInfo, "2025-02-01", []string{`kpi="paid_by_bank"`, `kind="ratio"`}, 1},
	} {
		got, ok := valueAt(r, c.name, day(c.at), c.labels...)
		if !ok || got != c.want {
			t.Errorf("%s%v at %s = %v (found %v), want %v", c.name, c.labels, c.at, got, ok, c.want)
		}
	}
	if _, ok := valueAt(r, conventions.KPIValue, day("2025-05-31").Add(-time.Second), tq); ok {
		t.Error("a sample off the daily grid")
	}
	for _, s := range r.Series {
		if !hasLabels(s.Labels, []string{`job="kpiwatch"`, `instance="exporter:10606"`}) {
			t.Errorf("%s{%s} lacks the extra labels", s.Name, s.Labels)
		}
		if s.Name == conventions.KPIValue && s.Times[0] < day("2025-02-01").UnixMilli() {
			t.Errorf("%s{%s} has a value before its first report took effect", s.Name, s.Labels)
		}
	}
}

func TestOneStatusAtATime(t *testing.T) {
	r := build(t, backfill.Options{})
	statuses := map[string]map[int64]int{} // by series, then time
	for _, s := range r.Series {
		if s.Name != conventions.KPIStatus {
			continue
		}
		key := s.Labels[:strings.Index(s.Labels, `,status=`)]
		if statuses[key] == nil {
			statuses[key] = map[int64]int{}
		}
		for _, ts := range s.Times {
			statuses[key][ts]++
		}
	}
	if len(statuses) != 2 {
		t.Fatalf("status of %d series, want 2 (Ha Noi, Tuyen Quang)", len(statuses))
	}
	for key, byTime := range statuses {
		for ts, n := range byTime {
			if n != 1 {
				t.Errorf("%s has %d statuses at %s", key, n, time.UnixMilli(ts).UTC())
			}
		}
	}
}

func TestRerunWritesTheSameBytes(t *testing.T) {
	var first, second bytes.Buffer
	if err := backfill.WriteOpenMetrics(&first, build(t, backfill.Options{})); err != nil {
		t.Fatal(err)
	}
	if err := backfill.WriteOpenMetrics(&second, build(t, backfill.Options{})); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(first.Bytes(), second.Bytes()) {
		t.Error("two runs over the same sources wrote different OpenMetrics")
	}
	// A later end only adds samples; those both runs have are the same.
	longer := build(t, backfill.Options{End: end.AddDate(0, 1, 0)})
	shorter := build(t, backfill.Options{})
	for _, s := range shorter.Series {
		for i, ts := range s.Times {
			if v, ok := valueAt(longer, s.Name, time.UnixMilli(ts), s.Labels); !ok || v != s.Values[i] {
				t.Fatalf("%s{%s} at %d: %v in the longer run, %v in the shorter", s.Name, s.Labels, ts, v, s.Values[i])
			}
		}
	}
}

func TestStartAndStep(t *testing.T) {
	r := build(t, backfill.Options{Start: day("2025-03-02").Add(time.Hour), Step: 7 * 24 * time.Hour})
	// Steps are counted from Go's zero time, a Monday: weeks start on Mondays.
	if want := day("2025-03-03"); !r.Start.Equal(want) {
		t.Errorf("starts %s, want %s", r.Start, want)
	}
	for _, s := range r.Series {
		for _, ts := range s.Times {
			if (ts-r.Start.UnixMilli())%(7*24*3600*1000) != 0 {
				t.Fatalf("%s{%s} has a sample off the weekly grid at %s", s.Name, s.Labels, time.UnixMilli(ts).UTC())
			}
		}
	}
	cat, err := catalogue.LoadFile("testdata/catalogue.yaml", collectors.Check)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := backfill.Build(context.Background(), cat, os.DirFS("testdata"), backfill.Options{End: day("2025-01-15")}); err == nil {
		t.Error("a range before the first report was accepted")
	}
}
