package collectors

import (
	"context"
	"io/fs"
	"os"
	"strings"
	"testing"

	"github.com/kpiwatch/kpiwatch/catalogue"
)

// testCatalogue has two owners and four KPIs by province, all read from
// the one source "src" that each test defines.
const testCatalogue = `apiVersion: kpiwatch.io/v1
kind: Catalogue
metadata: {name: collectors-test}
owners:
  - {id: mps, name: Ministry of Public Security, name_vi: Bộ Công an, block: government, aliases: [BCA]}
  - {id: moh, name: Ministry of Health, name_vi: Bộ Y tế, block: government, aliases: [BYT]}
sources:
  - id: src
%s
kpis:
  - id: vneid_accounts
    name: VNeID level-2 accounts
    name_vi: Tài khoản định danh điện tử mức 2
    kind: count
    direction: higher_is_better
    owner: mps
    dimensions: [province]
    cadence: {period: monthly, due_day: 15}
    source: src
    baseline: {date: 2024-01-01, value: 0}
    targets: [{by: 2025-12-31, value: 1000000}]
  - id: benefit_bank_ratio
    name: Benefit recipients paid through a bank account
    kind: ratio
    direction: higher_is_better
    owner: mps
    dimensions: [province]
    cadence: {period: monthly, due_day: 15}
    source: src
    baseline: {date: 2024-01-01, value: 0.2}
    targets: [{by: 2025-12-31, value: 1}]
  - id: digital_index
    name: Provincial digital transformation index
    name_vi: Chỉ số chuyển đổi số
    kind: level
    direction: higher_is_better
    owner: mps
    dimensions: [province]
    cadence: {period: monthly, due_day: 15}
    source: src
    baseline: {date: 2024-01-01, value: 0.3}
    targets: [{by: 2025-12-31, value: 0.8}]
  - id: ehealth_records
    name: E-health records
    kind: count
    direction: higher_is_better
    owner: moh
    dimensions: [province]
    cadence: {period: monthly, due_day: 15}
    source: src
    baseline: {date: 2024-01-01, value: 0}
    targets: [{by: 2025-12-31, value: 1000000}]
`

// newTestSource loads the test catalogue with source (the YAML of the
// source "src" after its id, unindented) through the real loader, and
// builds its collector; relative paths resolve in dir.
func newTestSource(t testing.TB, dir, source string) (Collector, *Mapper) {
	t.Helper()
	return newTestSourceFS(t, os.DirFS(dir), dir, source)
}

// newTestSourceFS is newTestSource with relative paths resolving in fsys,
// and files that libraries read by path (http_config's) in root.
func newTestSourceFS(t testing.TB, fsys fs.FS, root, source string) (Collector, *Mapper) {
	t.Helper()
	src := "    " + strings.ReplaceAll(strings.TrimSpace(source), "\n", "\n    ")
	cat, err := catalogue.Parse("catalogue.yaml", []byte(strings.Replace(testCatalogue, "%s", src, 1)), fsys, Check)
	if err != nil {
		t.Fatalf("catalogue: %v", err)
	}
	c, errs := New(Env{Source: cat.Sources[0], Dir: fsys, Root: root})
	if errs != nil {
		t.Fatal(errs)
	}
	if closer, ok := c.(interface{ Close() error }); ok {
		t.Cleanup(func() { _ = closer.Close() })
	}
	return c, NewMapper(cat, "src")
}

// configErrors loads the test catalogue with source and returns its errors.
func configErrors(t testing.TB, dir, source string) string {
	t.Helper()
	src := "    " + strings.ReplaceAll(strings.TrimSpace(source), "\n", "\n    ")
	_, err := catalogue.Parse("catalogue.yaml", []byte(strings.Replace(testCatalogue, "%s", src, 1)), os.DirFS(dir), Check)
	if err == nil {
		t.Fatal("catalogue loaded, want errors")
	}
	return err.Error()
}

func collect(t testing.TB, c Collector, m *Mapper) *Batch {
	t.Helper()
	b, err := Collect(context.Background(), c, m)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// observed indexes observations by KPI id, province and period (YYYY-MM).
func observed(m *Mapper, b *Batch) map[string]Observation {
	out := map[string]Observation{}
	for _, o := range b.Observations {
		out[m.cat.KPIs[o.KPI].ID+"/"+strings.Join(o.Labels, ",")+"/"+o.Period.Format("2006-01")] = o
	}
	return out
}

func errorTexts(errs []error) string {
	var s []string
	for _, e := range errs {
		s = append(s, e.Error())
	}
	return strings.Join(s, "\n")
}

func wantContains(t testing.TB, got string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(got, w) {
			t.Errorf("want %q in:\n%s", w, got)
		}
	}
}
