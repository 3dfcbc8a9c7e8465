package catalogue_test

import (
	"errors"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/kpiwatch/kpiwatch/catalogue"
	"github.com/kpiwatch/kpiwatch/collectors"
)

// valid is a small catalogue that passes; each case below breaks one thing.
const valid = `apiVersion: kpiwatch.io/v1
kind: Catalogue
metadata:
  name: test
owners:
  - id: mps
    name: Ministry of Public Security
    name_vi: Bộ Công an
    block: government
sources:
  - id: monthly
    collector: csv
    interval: 1h
    timeout: 30s
    config:
      path: data.csv
      mapping:
        kpi_column: kpi
        date: period
        value: value
        numerator: num
        denominator: den
        dimensions: {province: province}
kpis:
  - id: accounts
    name: Accounts
    name_vi: Tài khoản
    unit: accounts
    kind: count
    direction: higher_is_better
    owner: mps
    dimensions: [province]
    cadence: {period: monthly, due_day: 15, grace: 5d}
    source: monthly
    baseline: {date: 2022-01-01, value: 0}
    targets:
      - {by: 2024-12-31, value: 40000000, decision: "Project 06", scope: whole}
  - id: paid_by_bank
    name: Paid by bank
    kind: ratio
    direction: higher_is_better
    owner: mps
    dimensions: [province]
    cadence: {period: monthly, due_day: 15, grace: 5d}
    source: monthly
    baseline: {date: 2022-01-01, value: 0}
    targets:
      - {by: 2025-12-31, value: 1}
      - {by: 2025-12-31, value: 0.9, unit: {province: "TP. Hồ Chí Minh"}}
`

func parse(t *testing.T, src string) (*catalogue.Catalogue, error) {
	t.Helper()
	return catalogue.Parse("kpis.yaml", []byte(src), fstest.MapFS{}, collectors.Check)
}

func TestValidCatalogue(t *testing.T) {
	c, err := parse(t, valid)
	if err != nil {
		t.Fatal(err)
	}
	k, ok := c.KPI("accounts")
	if !ok || k.Block != "government" || k.Tolerance != catalogue.DefaultTolerance || k.Alerts.Severity != "warning" {
		t.Fatalf("defaults not applied: %+v", k)
	}
	if got := k.Targets[0].Effective.String(); got != "2022-01-01" {
		t.Errorf("a target without effective date takes effect at the baseline, got %s", got)
	}
	p, _ := c.KPI("paid_by_bank")
	if got := p.Targets[1].Unit["province"]; got != "Ho Chi Minh" {
		t.Errorf("a unit target's province is stored as the served label value, got %q", got)
	}
}

func TestUnitBaseline(t *testing.T) {
	c, err := parse(t, valid+"    unit_baselines:\n      - {unit: {province: Hồ Chí Minh}, date: 2023-01-01, value: 0.5}\n")
	if err != nil {
		t.Fatal(err)
	}
	k, _ := c.KPI("paid_by_bank")
	if b := k.UnitBaselines[0]; b.Unit["province"] != "Ho Chi Minh" || b.Value != 0.5 || b.Date.String() != "2023-01-01" {
		t.Errorf("unit baseline = %+v", b)
	}
}

func TestCatalogueErrors(t *testing.T) {
	cases := []struct {
		name     string
		old, new string
		want     []string // each must appear in the error text
	}{
		{"wrong apiVersion", "apiVersion: kpiwatch.io/v1", "apiVersion: v2", []string{"kpis.yaml:1: apiVersion: must be \"kpiwatch.io/v1\""}},
		{"unknown key", "    unit: accounts\n", "    unit: accounts\n    colour: red\n", []string{"kpis.yaml:29: kpis[0].colour: unknown field"}},
		{"bad kind", "kind: count", "kind: tally", []string{"kpis[0].kind: \"tally\" is not one of count, ratio, level, milestone"}},
		{"dangling owner", "    owner: mps\n    dimensions: [province]\n    cadence: {period: monthly, due_day: 15, grace: 5d}\n    source: monthly\n    baseline: {date: 2022-01-01, value: 0}\n    targets:\n      - {by: 2024", "    owner: moh\n    dimensions: [province]\n    cadence: {period: monthly, due_day: 15, grace: 5d}\n    source: monthly\n    baseline: {date: 2022-01-01, value: 0}\n    targets:\n      - {by: 2024", []string{"kpis[0].owner: \"moh\" is not an owner in owners"}},
		{"dangling source", "    source: monthly\n    baseline: {date: 2022-01-01, value: 0}\n    targets:\n      - {by: 2024", "    source: weekly\n    baseline: {date: 2022-01-01, value: 0}\n    targets:\n      - {by: 2024", []string{"kpis[0].source: \"weekly\" is not a source in sources"}},
		{"source and sources", "    source: monthly\n    baseline: {date: 2022-01-01, value: 0}\n    targets:\n      - {by: 2024", "    source: monthly\n    sources: [monthly, weekly, monthly]\n    baseline: {date: 2022-01-01, value: 0}\n    targets:\n      - {by: 2024", []string{"kpis[0].sources: set one of source and sources"}},
		{"sources dangling, twice or alone", "    source: monthly\n    baseline: {date: 2022-01-01, value: 0}\n    targets:\n      - {by: 2024", "    sources: [monthly, weekly, monthly]\n    baseline: {date: 2022-01-01, value: 0}\n    targets:\n      - {by: 2024", []string{
			`kpis[0].sources[1]: "weekly" is not a source in sources`, `kpis[0].sources[2]: "monthly" is listed twice`}},
		{"sources with one source", "    source: monthly\n    baseline: {date: 2022-01-01, value: 0}\n    targets:\n      - {by: 2024", "    sources: [monthly]\n    baseline: {date: 2022-01-01, value: 0}\n    targets:\n      - {by: 2024", []string{"kpis[0].sources: one source: write source: monthly"}},
		{"bad scope", "scope: whole", "scope: national", []string{"kpis[0].targets[0].scope: \"national\" is not one of each, whole"}},
		{"scope on a unit's own target", "unit: {province: \"TP. Hồ Chí Minh\"}}", "unit: {province: \"TP. Hồ Chí Minh\"}, scope: each}", []string{"kpis[1].targets[1].scope: a unit's own target holds for that unit"}},
		{"rollup on a count", "    kind: count\n", "    kind: count\n    rollup: median\n", []string{"kpis[0].rollup: only a level KPI says how its units roll up"}},
		{"bad rollup of a level", "    kind: ratio\n", "    kind: level\n    rollup: average\n", []string{"kpis[1].rollup: \"average\" is not one of mean, median, min, max"}},
		{"target not a date", "by: 2024-12-31", "by: 31/12/2024", []string{"kpis[0].targets[0].by: \"31/12/2024\" is not a date (want YYYY-MM-DD)"}},
		{"target before baseline", "by: 2024-12-31", "by: 2021-12-31", []string{"kpis[0].targets[0].by: 2021-12-31 is not after the baseline date 2022-01-01"}},
		{"negative max_value", "    unit: accounts\n", "    unit: accounts\n    max_value: -1\n", []string{"kpis[0].max_value: -1 is not a positive finite number"}},
		{"target above max_value", "    unit: accounts\n", "    unit: accounts\n    max_value: 1000\n", []string{"kpis[0].targets[0].value: 4e+07 is above max_value 1000"}},
		{"ratio target as percent", "{by: 2025-12-31, value: 1}", "{by: 2025-12-31, value: 100}", []string{"kpis[1].targets[0].value: 100 is not a ratio in 0..1"}},
		{"unknown province in a unit target", "TP. Hồ Chí Minh", "Sài Gòn Mới", []string{"kpis[1].targets[1].unit.province: unknown province \"Sài Gòn Mới\""}},
		{"unit target on a dimension the KPI lacks", "unit: {province:", "unit: {commune: x, province:", []string{"kpis[1].targets[1].unit.commune: \"commune\" is not a dimension of this KPI"}},
		{"duplicate id names both lines", "  - id: paid_by_bank", "  - id: accounts", []string{"kpis.yaml:38: kpis[1].id: duplicate id \"accounts\" (first at kpis[0].id, line 25)"}},
		{"duplicate key names both lines", "    unit: accounts\n", "    unit: accounts\n    unit: people\n", []string{"kpis.yaml:29: kpis[0].unit: duplicate field (first at kpis[0].unit, line 28)"}},
		{"misspelt key", "    direction: higher_is_better\n    owner: mps\n    dimensions", "    direction: higher_is_better\n    ownr: mps\n    dimensions", []string{"kpis[0].ownr: unknown field (did you mean \"owner\"?)"}},
		{"misspelt mapping key", "        numerator: num", "        numerater: num", []string{"sources[0].config.mapping.numerater: unknown field (did you mean \"numerator\"?)"}},
		{"misspelt owner", "    owner: mps\n    dimensions: [province]\n    cadence: {period: monthly, due_day: 15, grace: 5d}\n    source: monthly\n    baseline: {date: 2022-01-01, value: 0}\n    targets:\n      - {by: 2024", "    owner: mpss\n    dimensions: [province]\n    cadence: {period: monthly, due_day: 15, grace: 5d}\n    source: monthly\n    baseline: {date: 2022-01-01, value: 0}\n    targets:\n      - {by: 2024", []string{"kpis[0].owner: \"mpss\" is not an owner in owners (did you mean \"mps\"?)"}},
		{"misspelt source", "    source: monthly\n    baseline: {date: 2022-01-01, value: 0}\n    targets:\n      - {by: 2024", "    source: montly\n    baseline: {date: 2022-01-01, value: 0}\n    targets:\n      - {by: 2024", []string{"kpis[0].source: \"montly\" is not a source in sources (did you mean \"monthly\"?)"}},
		{"misspelt kind", "kind: count", "kind: cont", []string{"kpis[0].kind: \"cont\" is not one of count, ratio, level, milestone (did you mean \"count\"?)"}},
		{"unknown locale", "  name: test\n", "  name: test\n  locale: fr\n", []string{"metadata.locale: \"fr\" is not one of vi, en"}},
		{"rejected share outside 0..1", "    timeout: 30s\n", "    timeout: 30s\n    max_rejected_ratio: 50\n", []string{"sources[0].max_rejected_ratio: 50 is not a share between 0 and 1"}},
		{"bad id", "  - id: paid_by_bank", "  - id: Paid-By-Bank", []string{"kpis[1].id: \"Paid-By-Bank\" must be lower case"}},
		{"bad duration", "grace: 5d}\n    source: monthly\n    baseline: {date: 2022-01-01, value: 0}\n    targets:\n      - {by: 2024", "grace: five days}\n    source: monthly\n    baseline: {date: 2022-01-01, value: 0}\n    targets:\n      - {by: 2024", []string{"kpis[0].cadence.grace: \"five days\" is not a duration"}},
		{"due day outside the period", "due_day: 15, grace: 5d}\n    source: monthly\n    baseline: {date: 2022-01-01, value: 0}\n    targets:\n      - {by: 2024", "due_day: 40, grace: 5d}\n    source: monthly\n    baseline: {date: 2022-01-01, value: 0}\n    targets:\n      - {by: 2024", []string{"kpis[0].cadence.due_day: 40 is outside 0..28"}},
		{"timeout longer than interval", "timeout: 30s", "timeout: 2h", []string{"sources[0].timeout: 2h is longer than the interval 1h"}},
		{"unknown collector", "collector: csv", "collector: fax", []string{"sources[0].collector: \"fax\" is not a collector"}},
		{"collector config unknown key", "      path: data.csv\n", "      path: data.csv\n      sheet: 1\n", []string{"sources[0].config.sheet: unknown field"}},
		{"list where a mapping belongs", "metadata:\n  name: test", "metadata:\n  - test", []string{"metadata: must be a mapping"}},
		{"alert labels that are not label names, or are kpiwatch's own", "    source: monthly\n    baseline: {date: 2022-01-01, value: 0}\n    targets:\n      - {by: 2024",
			"    source: monthly\n    alerts: {labels: {team-name: a, severity: page, ok_team: \"\"}}\n    baseline: {date: 2022-01-01, value: 0}\n    targets:\n      - {by: 2024", []string{
				`kpis[0].alerts.labels.team-name: "team-name" is not a label name`, `kpis[0].alerts.labels.severity: "severity" is set by kpiwatch itself`,
				"kpis[0].alerts.labels.ok_team: empty value"}},
		{"bad YAML", "kind: Catalogue", "kind: [Catalogue", []string{"kpis.yaml:"}},
		{"unit baseline for a unit without targets", "      - {by: 2025-12-31, value: 0.9, unit: {province: \"TP. Hồ Chí Minh\"}}\n", "      - {by: 2025-12-31, value: 0.9, unit: {province: \"TP. Hồ Chí Minh\"}}\n    unit_baselines:\n      - {unit: {province: Huế}, date: 2022-01-01, value: 0.5}\n      - {unit: {province: TP HCM}, value: 0.5}\n", []string{
			"kpis[1].unit_baselines[0].unit: province=Hue has no targets of its own", "kpis[1].unit_baselines[1].date: required"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if !strings.Contains(valid, c.old) {
				t.Fatalf("test broken: %q not in the valid catalogue", c.old)
			}
			_, err := parse(t, strings.Replace(valid, c.old, c.new, 1))
			if err == nil {
				t.Fatal("accepted")
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error does not contain %q:\n%v", w, err)
				}
			}
		})
	}
}

func TestNoSuggestionForAFarOffWord(t *testing.T) {
	_, err := parse(t, strings.Replace(valid, "    unit: accounts\n", "    colour: red\n    unit: accounts\n", 1))
	if err == nil || !strings.Contains(err.Error(), "kpis[0].colour: unknown field") || strings.Contains(err.Error(), "did you mean") {
		t.Errorf("a key like no field gets no suggestion: %v", err)
	}
}

func TestWarnings(t *testing.T) {
	cases := []struct {
		name     string
		old, new string
		want     string // "" for no warning
	}{
		{"none in the valid catalogue", "", "", ""},
		{"lower-is-better target above its baseline", "    direction: higher_is_better\n    owner: mps\n    dimensions: [province]\n    cadence: {period: monthly, due_day: 15, grace: 5d}\n    source: monthly\n    baseline: {date: 2022-01-01, value: 0}\n    targets:\n      - {by: 2024-12-31, value: 40000000",
			"    direction: lower_is_better\n    owner: mps\n    dimensions: [province]\n    cadence: {period: monthly, due_day: 15, grace: 5d}\n    source: monthly\n    baseline: {date: 2022-01-01, value: 100}\n    targets:\n      - {by: 2024-12-31, value: 150",
			"kpis.yaml:37: kpis[0].targets[0].value: 150 is above the baseline 100, but accounts is lower_is_better"},
		{"lower-is-better target below its baseline is fine", "    direction: higher_is_better\n    owner: mps\n    dimensions: [province]\n    cadence: {period: monthly, due_day: 15, grace: 5d}\n    source: monthly\n    baseline: {date: 2022-01-01, value: 0}\n    targets:\n      - {by: 2024-12-31, value: 40000000",
			"    direction: lower_is_better\n    owner: mps\n    dimensions: [province]\n    cadence: {period: monthly, due_day: 15, grace: 5d}\n    source: monthly\n    baseline: {date: 2022-01-01, value: 100}\n    targets:\n      - {by: 2024-12-31, value: 0", ""},
		{"higher-is-better target below its baseline", "{by: 2024-12-31, value: 40000000", "{by: 2024-12-31, value: -5",
			"kpis[0].targets[0].value: -5 is below the baseline 0, but accounts is higher_is_better"},
		{"a unit's target against its own baseline", "      - {by: 2025-12-31, value: 0.9, unit: {province: \"TP. Hồ Chí Minh\"}}\n",
			"      - {by: 2025-12-31, value: 0.9, unit: {province: \"TP. Hồ Chí Minh\"}}\n    unit_baselines:\n      - {unit: {province: Hồ Chí Minh}, date: 2023-01-01, value: 0.95}\n",
			"kpis[1].targets[1].value: 0.9 is below the baseline 0.95"},
		{"a count by province whose target gives no scope", `decision: "Project 06", scope: whole}`, `decision: "Project 06"}`,
			"kpis.yaml:37: kpis[0].targets[0].scope: accounts is a count broken down by province: say whether 40000000 holds for each unit (scope: each) or for the sum of all (scope: whole, the default for a count)"},
		{"unit target on a former province", "TP. Hồ Chí Minh", "Hà Giang",
			"kpis[1].targets[1].unit.province: \"Hà Giang\" is a former province, merged into Tuyen Quang (Tỉnh Tuyên Quang) on 2025-07-01"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cat, err := parse(t, strings.Replace(valid, c.old, c.new, 1))
			if err != nil {
				t.Fatalf("a warning does not refuse the catalogue: %v", err)
			}
			got := cat.Warnings.Error()
			if c.want == "" && len(cat.Warnings) > 0 || !strings.Contains(got, c.want) {
				t.Errorf("warnings:\n%s\nwant %q", got, c.want)
			}
		})
	}
}

func TestMaxRejectedRatio(t *testing.T) {
	cat, err := parse(t, valid)
	if err != nil {
		t.Fatal(err)
	}
	src := cat.Sources[0]
	for _, c := range []struct {
		accepted, rejected int
		want               string
	}{
		{10, 0, ""}, {5, 5, ""}, {4, 6, "6 of 10 rows rejected, more than max_rejected_ratio 0.5"},
		{0, 3, "no row accepted: all 3 rejected"}, {0, 0, "no row accepted: the source holds no data rows"},
	} {
		_, err := src.CheckRefresh(c.accepted, c.rejected)
		if (c.want == "") != (err == nil) || err != nil && err.Error() != c.want {
			t.Errorf("CheckRefresh(%d, %d) = %v, want %q", c.accepted, c.rejected, err, c.want)
		}
	}
	strict, err := parse(t, strings.Replace(valid, "    timeout: 30s\n", "    timeout: 30s\n    max_rejected_ratio: 0\n", 1))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := strict.Sources[0].CheckRefresh(99, 1); err == nil {
		t.Error("max_rejected_ratio: 0 refuses a refresh with a rejected row (0 is not taken for unset)")
	}
}

func TestEveryProblemIsReportedAtOnce(t *testing.T) {
	broken := strings.NewReplacer("kind: count", "kind: tally", "owner: mps\n    dimensions", "owner: nobody\n    dimensions", "by: 2024-12-31", "by: soon").Replace(valid)
	_, err := parse(t, broken)
	var errs catalogue.Errors
	if !errors.As(err, &errs) {
		t.Fatalf("want catalogue.Errors, got %v", err)
	}
	// The owner is broken in both KPIs.
	if len(errs) != 4 {
		t.Fatalf("want 4 problems (kind, 2 owners, date) in one report, got %d:\n%v", len(errs), err)
	}
	for _, want := range []string{"kpis[0].kind", "kpis[0].owner", "kpis[0].targets[0].by"} {
		found := false
		for _, e := range errs {
			if e.Path == want {
				found = true
				if e.Line == 0 {
					t.Errorf("%s has no line", e.Path)
				}
			}
		}
		if !found {
			t.Errorf("no problem reported at %s:\n%v", want, err)
		}
	}
}
