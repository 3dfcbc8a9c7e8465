package backfill_test

import (
	"context"
	"os"
	"syscall"
	"testing"
	"time"

	"github.com/kpiwatch/kpiwatch/backfill"
	"github.com/kpiwatch/kpiwatch/bench/gen"
	"github.com/kpiwatch/kpiwatch/catalogue"
	"github.com/kpiwatch/kpiwatch/collectors"
)

// BenchmarkBuildDay backfills one day at a 1-minute step (1,440 sample
// times) for 10,000 observed series of the bench catalogue: what the stack
// benchmark backfills before Prometheus starts. The reports of October 2026
// are in force all day, while the plan and the judgement move with the
// instant.
func BenchmarkBuildDay(b *testing.B) {
	dir := b.TempDir()
	path, err := gen.New(10000).Write(dir)
	if err != nil {
		b.Fatal(err)
	}
	cat, err := catalogue.LoadFile(path, collectors.Check)
	if err != nil {
		b.Fatal(err)
	}
	start := time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)
	opts := backfill.Options{Start: start, End: start.Add(24*time.Hour - time.Minute), Step: time.Minute, Labels: jobLabels}
	b.ReportAllocs()
	cpu := cpuTime(b)
	for b.Loop() {
		r, err := backfill.Build(context.Background(), cat, os.DirFS(dir), opts)
		if err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(float64(r.Samples), "samples/op")
	}
	b.ReportMetric(float64(cpuTime(b)-cpu)/float64(b.N), "cpu-ns/op")
}

// cpuTime is the CPU time the process has used, user and system: on a
// shared machine it says more about the cost than the wall clock does.
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
