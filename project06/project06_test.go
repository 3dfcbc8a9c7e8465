package project06_test

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/csv"
	"io/fs"
	"maps"
	"math"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/kpiwatch/kpiwatch/catalogue"
	"github.com/kpiwatch/kpiwatch/collectors"
	"github.com/kpiwatch/kpiwatch/conventions"
	"github.com/kpiwatch/kpiwatch/kpi"
	"github.com/kpiwatch/kpiwatch/project06"
	"github.com/kpiwatch/kpiwatch/project06/internal/sampledata"
	"github.com/kpiwatch/kpiwatch/units"
)

// now is the day the sample data is judged on: its monthly reports run to
// October 2026, due on 15 November.
var now = time.Date(2026, 11, 22, 0, 0, 0, 0, time.UTC)

func load(t *testing.T) *catalogue.Catalogue {
	t.Helper()
	cat, err := project06.Load()
	if err != nil {
		t.Fatalf("embedded catalogue: %v", err)
	}
	return cat
}

func TestCatalogueLoads(t *testing.T) {
	cat := load(t)
	if len(cat.KPIs) < 13 {
		t.Errorf("%d KPIs, want at least 13", len(cat.KPIs))
	}
	kinds := map[catalogue.KPIKind]int{}
	directions := map[catalogue.Direction]int{}
	for _, k := range cat.KPIs {
		kinds[k.Kind]++
		directions[k.Direction]++
		if k.NameVI == "" || k.Description == "" || k.Unit == "" || len(k.Facts) == 0 {
			t.Errorf("kpi %s: name_vi, description, unit and facts are all needed", k.ID)
		}
		if o, _ := cat.Owner(k.Owner); o.NameVI == "" {
			t.Errorf("kpi %s: owner %s has no Vietnamese name", k.ID, k.Owner)
		}
		for i, tg := range k.Targets {
			if tg.Decision == "" {
				t.Errorf("kpi %s: targets[%d] names no decision", k.ID, i)
			}
		}
	}
	for _, kind := range []catalogue.KPIKind{catalogue.KindCount, catalogue.KindRatio, catalogue.KindLevel, catalogue.KindMilestone} {
		if kinds[kind] == 0 {
			t.Errorf("no KPI of kind %s", kind)
		}
	}
	for _, d := range []catalogue.Direction{catalogue.HigherIsBetter, catalogue.LowerIsBetter} {
		if directions[d] == 0 {
			t.Errorf("no KPI with direction %s", d)
		}
	}
}

// collectSource reads one source from the embedded files. Any rejected row
// fails the test.
func collectSource(t *testing.T, cat *catalogue.Catalogue, src catalogue.Source) *collectors.Batch {
	t.Helper()
	c, errs := collectors.New(collectors.Env{Source: src, Dir: project06.FS})
	if errs != nil {
		t.Fatalf("source %s: %v", src.ID, errs)
	}
	if closer, ok := c.(interface{ Close() error }); ok {
		defer closer.Close()
	}
	b, err := c.Collect(context.Background(), collectors.NewMapper(cat, src.ID))
	if err != nil {
		t.Fatalf("source %s: %v", src.ID, err)
	}
	for _, e := range b.Rejected {
		t.Errorf("rejected: %v", e)
	}
	return b
}

// collect reads every source and returns the observations by KPI id.
func collect(t *testing.T, cat *catalogue.Catalogue) map[string][]collectors.Observation {
	t.Helper()
	byKPI := map[string][]collectors.Observation{}
	for _, src := range cat.Sources {
		for _, o := range collectSource(t, cat, src).Observations {
			id := cat.KPIs[o.KPI].ID
			byKPI[id] = append(byKPI[id], o)
		}
	}
	return byKPI
}

func TestEverySourceMapsCleanly(t *testing.T) {
	cat := load(t)
	byKPI := map[string][]collectors.Observation{}
	for _, src := range cat.Sources {
		t.Run(src.ID, func(t *testing.T) {
			b := collectSource(t, cat, src)
			if len(b.Observations) == 0 && len(b.Tasks) == 0 {
				t.Error("no observations and no tasks")
			}
			for _, o := range b.Observations {
				id := cat.KPIs[o.KPI].ID
				byKPI[id] = append(byKPI[id], o)
			}
		})
	}
	merger := time.Date(2025, 7, 1, 0, 0, 0, 0, time.UTC)
	for _, k := range cat.KPIs {
		if len(byKPI[k.ID]) == 0 {
			t.Errorf("kpi %s: no observations", k.ID)
		}
		if !k.HasDimension(catalogue.DimProvince) || k.Kind == catalogue.KindLevel {
			continue
		}
		// Counts and ratios come under the 63 former provinces before the
		// merger and under the 34 units after it.
		reported := map[time.Time]map[string]bool{}
		for _, o := range byKPI[k.ID] {
			if reported[o.Period] == nil {
				reported[o.Period] = map[string]bool{}
			}
			reported[o.Period][o.Unit] = true
		}
		before, after := len(reported[merger.AddDate(0, -1, 0)]), len(reported[merger])
		if before <= len(units.Default().Level("province").Current()) || after > len(units.Default().Level("province").Current()) {
			t.Errorf("kpi %s: %d units report in June 2025 and %d in July 2025, want former provinces (more than 34) then the 34 units", k.ID, before, after)
		}
	}
}

// rollUp sums a KPI's observations of each period over all units: counts
// and numerators as sums, ratios as the sum of numerators over the sum of
// denominators.
func rollUp(obs []collectors.Observation) map[time.Time]struct{ value, num float64 } {
	type acc struct{ value, num, den float64 }
	sums := map[time.Time]*acc{}
	for _, o := range obs {
		a := sums[o.Period]
		if a == nil {
			a = &acc{}
			sums[o.Period] = a
		}
		a.value += o.Value
		a.num += o.Num
		a.den += o.Den
	}
	out := map[time.Time]struct{ value, num float64 }{}
	for p, a := range sums {
		v := a.value
		if a.den > 0 {
			v = a.num / a.den
		}
		out[p] = struct{ value, num float64 }{v, a.num}
	}
	return out
}

// Tolerances within which the sample series meet the published figures.
const (
	ratioTolerance = 0.005 // absolute, on a 0..1 ratio
	countTolerance = 0.01  // relative
)

// factChecks say which KPI each row of facts.csv (a copy of the reference
// figures the sample rests on) is checked against, and how: the roll-up's
// value, its numerator (a count of the ratio's numerator), or a milestone
// done by then.
var factChecks = []struct {
	fact, asOf, kpi, measure string
}{
	{"vneid_accounts_activated", "2023-06-19", "vneid_level2_accounts", "value"},
	{"vneid_accounts_activated", "2024-12-31", "vneid_level2_accounts", "value"},
	{"vneid_level2_accounts_activated", "2025-09-24", "vneid_level2_accounts", "value"},
	{"essential_public_services_provided", "2022-11-28", "essential_public_services_online", "value"},
	{"essential_public_services_provided", "2024-11-06", "essential_public_services_online", "value"},
	{"essential_public_services_provided", "2025-02-13", "essential_public_services_online", "value"},
	{"social_gift_recipients_paid_by_bank", "2025-12-31", "social_benefit_paid_by_bank", "value"},
	{"full_process_online_service_rate_provinces", "2025-07-20", "full_process_online_service_rate", "value"},
	{"online_dossier_rate_localities", "2024-12-31", "online_dossier_rate", "value"},
	{"e_health_books_on_vneid", "2024-10-05", "e_health_books_on_vneid", "value"},
	{"e_health_books_completed", "2025-H2 (undated)", "e_health_books_on_vneid", "value"},
	{"e_health_records_created", "2024-10-05", "e_health_record_coverage", "numerator"},
	{"criminal_record_applications_vneid", "2024-11-06", "criminal_record_certificates_on_vneid_nationwide", "done"},
	{"digital_primary_transcripts", "2024-08-12", "digital_school_records", "numerator"},
	{"tasks_behind_schedule", "2025-07-20", "roadmap_tasks_overdue", "value"},
	{"admin_procedure_simplification_rate", "2025-07-20", "admin_procedure_simplification_rate", "value"},
	{"digital_signature_certs_issued_2024", "2024-12-31", "digital_signature_certificates", "value"},
	{"bank_cif_biometric_verified", "2025-10-10", "bank_cif_biometric_verified", "value"},
	{"fee_resolutions_outstanding", "2024-01-01", "fee_resolutions_outstanding", "value"},
	{"cashless_social_payment_recipients", "2024-02-09", "cashless_social_payment_recipients", "value"},
	{"network_security_reports_outstanding", "2024-01-15 (early 2024; undated)", "network_security_reports_outstanding", "value"},
	{"problems_resolved", "2025-11-05", "problems_resolved", "value"},
	{"hindering_resolutions", "2024-01-15 (early 2024; undated)", "hindering_resolutions_outstanding", "value"},
	{"government_tasks_behind_schedule", "2024-01-15 (start of 2024)", "government_assigned_tasks_overdue", "value"},
	{"roadmap_tasks_behind_schedule", "2024-01-15 (start of 2024)", "roadmap_tasks_overdue", "value"},
	{"tuyen_quang_roadmap_tasks_done", "2023-12-31", "tuyen_quang_roadmap_tasks_done", "value"},
	{"essential_services_53_outstanding", "2024-04-15 (April 2024)", "essential_services_53_outstanding", "value"},
}

// programmeAreas are the areas of the programme the embedded default must
// cover (issue 14 and the brief), each by the KPI ids or the task source
// that track it.
var programmeAreas = []struct {
	area    string
	kpis    []string
	sources []string
}{
	{"VNeID level-2 accounts", []string{"vneid_level2_accounts"}, nil},
	{"essential online public services (25, 53, 76)", []string{"essential_public_services_online", "essential_services_53_outstanding"}, nil},
	{"social benefits paid through an account", []string{"social_benefit_paid_by_bank"}, nil},
	{"full-process online services and online dossiers", []string{"full_process_online_service_rate", "online_dossier_rate"}, nil},
	{"e-health books and records", []string{"e_health_books_on_vneid", "e_health_record_coverage"}, nil},
	{"criminal-record certificates on VNeID", []string{"criminal_record_certificates_on_vneid_nationwide"}, nil},
	{"digital school records", []string{"digital_school_records"}, nil},
	{"administrative procedures simplified", []string{"admin_procedure_simplification_rate"}, nil},
	{"digital signatures", []string{"digital_signature_certificates"}, nil},
	{"bank records verified by chip ID", []string{"bank_cif_biometric_verified"}, nil},
	{"provincial digital-transformation score", []string{"provincial_digital_transformation_index"}, nil},
	{"fees for online services exempted by provincial resolution", []string{"fee_resolutions_outstanding"}, nil},
	{"cashless social-security payments in the eight provinces", []string{"cashless_social_payment_recipients"}, nil},
	{"network-security criteria reports", []string{"network_security_reports_outstanding"}, nil},
	{"telecom coverage of low-signal spots", []string{"low_signal_spots"}, nil},
	{"villages without electricity", []string{"villages_without_electricity"}, nil},
	{"problems removed", []string{"problems_resolved", "hindering_resolutions_outstanding"}, nil},
	{"ministries' data and digital-transformation strategies", []string{"ministry_data_strategies_published"}, nil},
	{"credit scoring with population data", []string{"credit_scoring_population_data"}, nil},
	{"junk SIM clean-up", []string{"junk_sim_cleanup"}, nil},
	{"driving-licence data clean-up", []string{"driving_licence_data_cleanup"}, nil},
	{"electronic identification codes of agencies", []string{"agency_electronic_identification_codes"}, nil},
	{"electronic authentication centre", []string{"electronic_authentication_centre"}, nil},
	{"roadmap tasks and tasks behind schedule", []string{"roadmap_tasks_overdue", "government_assigned_tasks_overdue"}, []string{"roadmap_tasks"}},
	{"a province's own roadmap (Tuyen Quang)", []string{"tuyen_quang_roadmap_tasks_done"}, nil},
}

// Every area of the programme is in the embedded default, and the README's
// KPI table lists each KPI with its source.
func TestEveryProgrammeAreaIsCovered(t *testing.T) {
	cat := load(t)
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	listed := map[string]bool{}
	for _, a := range programmeAreas {
		for _, id := range a.kpis {
			listed[id] = true
			k, ok := cat.KPI(id)
			if !ok {
				t.Errorf("%s: no KPI %s in the embedded catalogue", a.area, id)
				continue
			}
			if !strings.Contains(string(readme), "| `"+id+"` | `"+k.Source+"` |") {
				t.Errorf("%s: the README's KPI table has no row for %s with its source %s", a.area, id, k.Source)
			}
		}
		for _, src := range a.sources {
			if !slices.ContainsFunc(cat.Sources, func(s catalogue.Source) bool { return s.ID == src && s.Collector == "tasks" }) {
				t.Errorf("%s: no task source %s in the embedded catalogue", a.area, src)
			}
		}
	}
	for _, k := range cat.KPIs {
		if !listed[k.ID] {
			t.Errorf("KPI %s is in no programme area of this test", k.ID)
		}
	}
}

// asOfPeriods are the report periods a fact's as-of date falls in: one for
// a date, the six months of a half year for "2025-H2".
func asOfPeriods(t *testing.T, p catalogue.Period, asOf string) []time.Time {
	t.Helper()
	s := strings.Fields(asOf)[0]
	if d, err := time.Parse(time.DateOnly, s); err == nil {
		return []time.Time{kpi.PeriodStart(p, d)}
	}
	year, half, ok := strings.Cut(s, "-H")
	y, err := strconv.Atoi(year)
	if !ok || err != nil || (half != "1" && half != "2") {
		t.Fatalf("as_of %q is neither a date nor a half year (2025-H2)", asOf)
	}
	first := time.Date(y, time.January, 1, 0, 0, 0, 0, time.UTC)
	if half == "2" {
		first = first.AddDate(0, 6, 0)
	}
	var out []time.Time
	for m := range 6 {
		out = append(out, first.AddDate(0, m, 0))
	}
	return out
}

func TestSeriesAgreeWithFacts(t *testing.T) {
	f, err := os.Open("facts.csv")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	header := rows[0]
	col := func(name string) int { return slices.Index(header, name) }
	cat := load(t)
	byKPI := collect(t, cat)
	checked := map[int]bool{}
	for _, c := range factChecks {
		t.Run(c.fact+"@"+c.asOf, func(t *testing.T) {
			row := slices.IndexFunc(rows, func(r []string) bool { return r[col("kpi")] == c.fact && r[col("as_of")] == c.asOf })
			if row < 0 {
				t.Fatalf("no row %s as of %s in facts.csv", c.fact, c.asOf)
			}
			checked[row] = true
			want, err := strconv.ParseFloat(rows[row][col("value")], 64)
			if err != nil {
				t.Fatal(err)
			}
			k, ok := cat.KPI(c.kpi)
			if !ok {
				t.Fatalf("no kpi %s", c.kpi)
			}
			tolerance := want * countTolerance
			switch {
			case c.measure == "done":
				want, tolerance = 1, 0
			case strings.HasPrefix(rows[row][col("unit")], "percent"):
				want, tolerance = want/100, ratioTolerance
			}
			series := rollUp(byKPI[c.kpi])
			var got []float64
			for _, p := range asOfPeriods(t, k.Cadence.Period, c.asOf) {
				v, ok := series[p]
				if !ok {
					continue
				}
				g := v.value
				if c.measure == "numerator" {
					g = v.num
				}
				if math.Abs(g-want) <= tolerance {
					return
				}
				got = append(got, g)
			}
			t.Errorf("%s as of %s: series has %v, want %g ± %g", c.kpi, c.asOf, got, want, tolerance)
		})
	}
	for i := 1; i < len(rows); i++ {
		if !checked[i] {
			t.Errorf("facts.csv row %d (%s as of %s) is checked against no series", i+1, rows[i][col("kpi")], rows[i][col("as_of")])
		}
	}
}

// The sample exercises every collector: `make run` shows each at work.
func TestEveryCollectorIsUsed(t *testing.T) {
	cat := load(t)
	used := map[string]bool{}
	for _, src := range cat.Sources {
		used[src.Collector] = true
	}
	for _, name := range collectors.Names() {
		if !used[name] {
			t.Errorf("no source of the sample uses the %s collector", name)
		}
	}
}

// The roadmap matches the published figures: 61 tasks in 2024, 75 overdue
// across 9 ministries at the Prime Minister's review of 2025-07-20; fewer
// overdue today, most of them done late.
func TestRoadmapTasks(t *testing.T) {
	cat := load(t)
	var tasks []collectors.Task
	for _, src := range cat.Sources {
		tasks = append(tasks, collectSource(t, cat, src).Tasks...)
	}
	byYear := map[int]int{}
	for _, task := range tasks {
		byYear[task.Due.Year()]++
	}
	if byYear[2024] != 61 || byYear[2025] == 0 {
		t.Errorf("tasks due by year %v, want 61 in 2024 and some in 2025", byYear)
	}
	// On the day of the review, a task was overdue if it was due before and
	// done after, or not done yet (SummariseTasks judges today's statuses).
	review := time.Date(2025, 7, 20, 0, 0, 0, 0, time.UTC)
	owners := map[string]int{}
	for _, task := range tasks {
		if task.Due.Before(review) && task.Status != collectors.TaskCancelled && (task.Done.IsZero() || task.Done.After(review)) {
			owners[task.Owner]++
		}
	}
	if n := sum(slices.Collect(maps.Values(owners))); n != 75 || len(owners) != 9 {
		t.Errorf("%d tasks of %d owners overdue on %s, want 75 of 9: %v", n, len(owners), review.Format(time.DateOnly), owners)
	}
	today := collectors.SummariseTasks(tasks, now)
	var overdue, late []int
	for _, c := range today.Overdue {
		overdue = append(overdue, c.Count)
	}
	for _, c := range today.DoneLate {
		late = append(late, c.Count)
	}
	if n := sum(overdue); n == 0 || n >= 75 {
		t.Errorf("%d tasks overdue on %s, want some, fewer than 75", n, now.Format(time.DateOnly))
	}
	if sum(late) == 0 {
		t.Error("no task done late")
	}
}

func sum(counts []int) int {
	n := 0
	for _, c := range counts {
		n += c
	}
	return n
}

// A workbook is a zip archive: its entries must carry no time of writing,
// nor its document properties, for the bytes to depend on the data only.
func TestWorkbookCarriesNoTimeOfWriting(t *testing.T) {
	files, err := sampledata.Files(load(t))
	if err != nil {
		t.Fatal(err)
	}
	workbooks := 0
	for name, data := range files {
		if !strings.HasSuffix(name, ".xlsx") {
			continue
		}
		workbooks++
		z, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		for _, f := range z.File {
			if f.ModifiedDate != 0 || f.ModifiedTime != 0 || len(f.Extra) != 0 {
				t.Errorf("%s: entry %s carries a modification time (%s) or extra fields", name, f.Name, f.Modified)
			}
		}
		core, err := fs.ReadFile(z, "docProps/core.xml")
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		for _, tag := range []string{"created", "modified"} {
			if !strings.Contains(string(core), `<dcterms:`+tag+` xsi:type="dcterms:W3CDTF">2026-11-16T08:00:00Z</dcterms:`+tag+`>`) {
				t.Errorf("%s: docProps/core.xml has no fixed %s date:\n%s", name, tag, core)
			}
		}
	}
	if workbooks == 0 {
		t.Error("the sample has no workbook")
	}
}

func TestGeneratorIsDeterministic(t *testing.T) {
	cat := load(t)
	var runs [2]map[string][]byte
	for i := range runs {
		dir := t.TempDir()
		if err := sampledata.Write(cat, dir); err != nil {
			t.Fatal(err)
		}
		runs[i] = readTree(t, os.DirFS(dir))
	}
	committed := readTree(t, project06.FS)
	delete(committed, project06.CatalogueFile)
	for name, data := range runs[0] {
		if !bytes.Equal(data, runs[1][name]) {
			t.Errorf("%s differs between two runs of the generator", name)
		}
		if !bytes.Equal(data, committed[name]) {
			t.Errorf("%s is not what the generator writes: run go generate ./project06", name)
		}
	}
	for name := range committed {
		if _, ok := runs[0][name]; !ok {
			t.Errorf("%s is committed but not generated", name)
		}
	}
}

func readTree(t *testing.T, fsys fs.FS) map[string][]byte {
	t.Helper()
	files := map[string][]byte{}
	err := fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		files[filepath.ToSlash(p)], err = fs.ReadFile(fsys, p)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

// seriesStatus is the status of one series, as the exporter serves it.
type seriesStatus struct {
	kpi, unit, status string
}

// judgeForTest gives every series its status the way the exporter does in
// production, kept small for the test: the latest report of each series
// (rows of former provinces of one unit summed) and one about three
// periods earlier for the trend; each of the 34 provinces without any
// report of a per-province KPI is no_data.
func judgeForTest(cat *catalogue.Catalogue, byKPI map[string][]collectors.Observation, now time.Time) []seriesStatus {
	var out []seriesStatus
	for i := range cat.KPIs {
		k := &cat.KPIs[i]
		series := map[string][]collectors.Observation{}
		for _, o := range byKPI[k.ID] {
			key := strings.Join(o.Labels, ",")
			series[key] = append(series[key], o)
		}
		for key, obs := range series {
			unit := map[string]string{}
			for j, d := range k.Dimensions {
				unit[d] = obs[0].Labels[j]
			}
			values := map[time.Time]float64{}
			for p, v := range rollUp(obs) {
				values[p] = v.value
			}
			latest := slices.MaxFunc(slices.Collect(maps.Keys(values)), time.Time.Compare)
			o := kpi.Observation{Period: latest, Value: values[latest]}
			earlier := latest
			for range 3 {
				earlier = kpi.PeriodStart(k.Cadence.Period, earlier.Add(-time.Nanosecond))
			}
			if v, ok := values[earlier]; ok {
				o.EarlierPeriod, o.EarlierValue = earlier, v
			}
			j := kpi.Judge(k, kpi.PlanFor(k, kpi.UnitKey(unit), now), &o, now)
			out = append(out, seriesStatus{k.ID, key, j.Status})
		}
		if k.HasDimension(catalogue.DimProvince) {
			for _, p := range units.Default().Level("province").Current() {
				if _, ok := series[p.Name]; !ok {
					j := kpi.Judge(k, kpi.PlanFor(k, "province="+p.Name, now), nil, now)
					out = append(out, seriesStatus{k.ID, p.Name, j.Status})
				}
			}
		}
	}
	sort.Slice(out, func(i, j int) bool {
		return out[i].kpi < out[j].kpi || out[i].kpi == out[j].kpi && out[i].unit < out[j].unit
	})
	return out
}

func TestStatusMix(t *testing.T) {
	cat := load(t)
	statuses := judgeForTest(cat, collect(t, cat), now)
	count := map[string]map[string]int{"": {}}
	for _, s := range statuses {
		if count[s.kpi] == nil {
			count[s.kpi] = map[string]int{}
		}
		count[s.kpi][s.status]++
		count[""][s.status]++
	}
	for _, k := range cat.KPIs {
		t.Logf("%-50s %v", k.ID, count[k.ID])
	}
	for _, s := range conventions.Statuses {
		if count[""][s] == 0 {
			t.Errorf("no series is %s; the sample should show every status", s)
		}
	}
	// What the sample data is shaped to show, KPI by KPI.
	for _, w := range []struct {
		kpi, status string
		min, max    int
	}{
		{"vneid_level2_accounts", conventions.StatusAchieved, 1, 1},
		{"essential_public_services_online", conventions.StatusMissed, 1, 1},
		{"e_health_books_on_vneid", conventions.StatusMissed, 1, 1},
		{"criminal_record_certificates_on_vneid_nationwide", conventions.StatusAchieved, 1, 1},
		{"social_benefit_paid_by_bank", conventions.StatusNoData, 6, 6},
		{"social_benefit_paid_by_bank", conventions.StatusAchieved, 1, 34},
		{"social_benefit_paid_by_bank", conventions.StatusMissed, 1, 34},
		{"full_process_online_service_rate", conventions.StatusMissed, 17, 34},
		{"online_dossier_rate", conventions.StatusOnTrack, 1, 34},
		{"online_dossier_rate", conventions.StatusAtRisk, 1, 34},
		{"online_dossier_rate", conventions.StatusStale, 1, 1},
		{"e_health_record_coverage", conventions.StatusOnTrack, 1, 34},
		{"e_health_record_coverage", conventions.StatusAtRisk, 1, 34},
		{"e_health_record_coverage", conventions.StatusStale, 1, 1},
		{"roadmap_tasks_overdue", conventions.StatusAchieved, 1, 11},
		{"roadmap_tasks_overdue", conventions.StatusMissed, 1, 11},
	} {
		if n := count[w.kpi][w.status]; n < w.min || n > w.max {
			t.Errorf("%s: %d series %s, want %d..%d", w.kpi, n, w.status, w.min, w.max)
		}
	}
}
