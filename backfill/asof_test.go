package backfill

import (
	"context"
	"os"
	"slices"
	"testing"
	"time"

	"github.com/go-kit/log"

	"github.com/kpiwatch/kpiwatch/bench/gen"
	"github.com/kpiwatch/kpiwatch/catalogue"
	"github.com/kpiwatch/kpiwatch/collectors"
	"github.com/kpiwatch/kpiwatch/exporter"
	"github.com/kpiwatch/kpiwatch/model"
	"github.com/kpiwatch/kpiwatch/push"
)

// TestSamplesAreTheModelAsOfEachInstant checks every sample a backfill
// writes against the model built from scratch as of its instant
// (model.Build on model.AsOf), as the exporter would have judged it then:
// on the fixture, whose reports come into force month by month and whose
// statuses go stale between them, and on a generated catalogue whose
// reports stand all day while its plans move by the hour.
func TestSamplesAreTheModelAsOfEachInstant(t *testing.T) {
	start := time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)
	dir := t.TempDir()
	genPath, err := gen.New(500).Write(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name, path string
		dir        string
		opts       Options
	}{
		{"fixture", "testdata/catalogue.yaml", "testdata", Options{End: time.Date(2025, 7, 1, 0, 0, 0, 0, time.UTC)}},
		{"generated", genPath, dir, Options{Start: start, End: start.Add(23 * time.Hour), Step: time.Hour}},
	} {
		t.Run(c.name, func(t *testing.T) {
			cat, err := catalogue.LoadFile(c.path, collectors.Check)
			if err != nil {
				t.Fatal(err)
			}
			c.opts.Labels = []push.Label{{Name: "job", Value: "kpiwatch"}}
			got, err := Build(context.Background(), cat, os.DirFS(c.dir), c.opts)
			if err != nil {
				t.Fatal(err)
			}
			history, _, err := read(context.Background(), cat, os.DirFS(c.dir), log.NewNopLogger())
			if err != nil {
				t.Fatal(err)
			}
			want := newBuilder(c.opts)
			for at := got.Start; !at.After(got.End); at = at.Add(got.Step) {
				want.forget() // every sample found by its labels, none by its slot
				want.judged(model.Build(cat, model.AsOf(cat, history, at), at))
			}
			wantResult := want.result()
			if len(got.Series) != len(wantResult.Series) || got.Samples != wantResult.Samples {
				t.Fatalf("%d series, %d samples; the model as of each instant has %d, %d",
					len(got.Series), got.Samples, len(wantResult.Series), wantResult.Samples)
			}
			if steps := int(got.End.Sub(got.Start)/got.Step) + 1; steps < 24 {
				t.Fatalf("%d sample times: too few to compare", steps)
			}
			for i, s := range got.Series {
				w := wantResult.Series[i]
				if s.Name != w.Name || s.Labels != w.Labels || !slices.Equal(s.Times, w.Times) || !slices.Equal(s.Values, w.Values) {
					t.Fatalf("%s{%s}: %v at %v; the model as of each instant: %s{%s}: %v at %v",
						s.Name, s.Labels, s.Values, s.Times, w.Name, w.Labels, w.Values, w.Times)
				}
			}
		})
	}
}

// TestLabelsAsTheExporterWritesThem checks the label text backfill writes
// against push.FormatLabels: escapes, and empty values left out.
func TestLabelsAsTheExporterWritesThem(t *testing.T) {
	pairs := []string{"kpi", "a", "province", "", "name", "say \"hi\"\\\nbye", "status", "on_track"}
	want := push.FormatLabels([]push.Label{{Name: "kpi", Value: "a"}, {Name: "name", Value: "say \"hi\"\\\nbye"}, {Name: "status", Value: "on_track"}})
	if got := string(exporter.AppendLabelPairs(nil, pairs)); got != want {
		t.Errorf("got %s, want %s", got, want)
	}
}
