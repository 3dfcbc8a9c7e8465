package collectors

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kpiwatch/kpiwatch/catalogue"
)

// localeSource is newTestSource with the catalogue-wide metadata.locale
// (none when empty).
func localeSource(t *testing.T, dir, locale, source string) (Collector, *Mapper) {
	t.Helper()
	text := strings.Replace(testCatalogue, "%s", "    "+strings.ReplaceAll(strings.TrimSpace(source), "\n", "\n    "), 1)
	if locale != "" {
		text = strings.Replace(text, "metadata: {name: collectors-test}", "metadata: {name: collectors-test, locale: "+locale+"}", 1)
	}
	cat, err := catalogue.Parse("catalogue.yaml", []byte(text), os.DirFS(dir), Check)
	if err != nil {
		t.Fatal(err)
	}
	c, errs := New(Env{Source: cat.Sources[0], Dir: os.DirFS(dir)})
	if errs != nil {
		t.Fatal(errs)
	}
	return c, NewMapper(cat, "src")
}

// readNumbers reads csv (kpi;province;period;value;num;den rows) through a
// CSV source with the catalogue-wide locale and the mapping's numbers:
// (either may be empty), as a refresh does.
func readNumbers(t *testing.T, locale, numbers, csv string) (*Mapper, *Batch) {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "r.csv"), []byte("kpi;province;period;value;num;den\n"+csv), 0o644); err != nil {
		t.Fatal(err)
	}
	c, m := localeSource(t, dir, locale, `collector: csv
config:
  path: r.csv
  delimiter: ";"
  mapping:
    kpi_column: kpi
    date: period
    value: value
    numerator: num
    denominator: den
    dimensions: {province: province}`+numbers)
	b, err := Collect(context.Background(), c, m)
	if err != nil {
		t.Fatal(err)
	}
	return m, b
}

// Excel number cells are read as the numbers they are, beside numbers
// written as text, whether the format comes from the locale or from the
// column.
func TestExcelTypedNumbersWithLocale(t *testing.T) {
	for _, locale := range []string{"vi", ""} {
		dir := t.TempDir()
		writeWorkbook(t, dir, "r.xlsx", map[string][][]any{"S": {
			{"Chỉ tiêu", "Tỉnh", "Tháng", "Giá trị"},
			{"vneid_accounts", "Hà Nội", "2025-10", "1.058.569"},
			{"vneid_accounts", "Huế", "2025-10", 171548},
			{"vneid_accounts", "Đà Nẵng", "2025-10", "171.548"},
			{"digital_index", "Hà Nội", "2025-10", 0.5957},
			{"digital_index", "Huế", "2025-10", "62,5%"},
		}}, []string{"S"})
		c, m := localeSource(t, dir, locale, "collector: excel\nconfig:\n  path: r.xlsx\n  mapping:\n    kpi_column: Chỉ tiêu\n    date: Tháng\n    value: Giá trị\n    dimensions: {province: Tỉnh}")
		b := collect(t, c, m)
		if len(b.Rejected) > 0 {
			t.Fatalf("locale %q: rejected: %s", locale, errorTexts(b.Rejected))
		}
		got := observed(m, b)
		for key, want := range map[string]float64{
			"vneid_accounts/Ha Noi/2025-10": 1058569, "vneid_accounts/Hue/2025-10": 171548, "vneid_accounts/Da Nang/2025-10": 171548,
			"digital_index/Ha Noi/2025-10": 0.5957, "digital_index/Hue/2025-10": 0.625,
		} {
			if got[key].Value != want {
				t.Errorf("locale %q: %s = %g, want %g", locale, key, got[key].Value, want)
			}
		}
	}
}

// The workbook: 171.548 reads as 171.548 or 171548; the column's
// 1.058.569 shows dots group thousands, so both are read the Vietnamese
// way, whichever row comes first, and no ratio exceeds 1.
func TestUndeclaredNumbersSettledByTheirColumn(t *testing.T) {
	m, b := readNumbers(t, "", "", `benefit_bank_ratio;Hà Nội;2025-10;;171.548;204.311
benefit_bank_ratio;Hồ Chí Minh;2025-10;;1.058.569;1.312.004
vneid_accounts;Hà Nội;2025-10;12,5;;
vneid_accounts;Huế;2025-10;171,548;;
`)
	if len(b.Rejected) > 0 {
		t.Fatalf("rejected: %s", errorTexts(b.Rejected))
	}
	got := observed(m, b)
	if o := got["benefit_bank_ratio/Ha Noi/2025-10"]; o.Num != 171548 || o.Den != 204311 || o.Value > 1 {
		t.Errorf("Ha Noi read as %v/%v = %v, want 171548/204311", o.Num, o.Den, o.Value)
	}
	if o := got["benefit_bank_ratio/Ho Chi Minh/2025-10"]; o.Num != 1058569 || o.Den != 1312004 {
		t.Errorf("Ho Chi Minh read as %v/%v", o.Num, o.Den)
	}
	// 12,5 shows a decimal comma in the value column: 171,548 is 171.548.
	if o := got["vneid_accounts/Hue/2025-10"]; o.Value != 171.548 {
		t.Errorf("Hue read as %v, want 171.548", o.Value)
	}
	if len(b.Observations) != 4 {
		t.Errorf("%d observations, want 4", len(b.Observations))
	}
}

func TestUndeclaredNumbersEnglishColumn(t *testing.T) {
	m, b := readNumbers(t, "", "", "vneid_accounts;Hà Nội;2025-10;171.548;;\nvneid_accounts;Huế;2025-10;1,058,569.5;;\n")
	if len(b.Rejected) > 0 {
		t.Fatalf("rejected: %s", errorTexts(b.Rejected))
	}
	got := observed(m, b)
	if got["vneid_accounts/Ha Noi/2025-10"].Value != 171.548 || got["vneid_accounts/Hue/2025-10"].Value != 1058569.5 {
		t.Errorf("read %v", got)
	}
}

// A value that reads two ways in a column that never shows which is
// rejected with the option to set, never guessed.
func TestAmbiguousNumberRejectedNamingTheOption(t *testing.T) {
	_, b := readNumbers(t, "", "", "vneid_accounts;Hà Nội;2025-10;171.548;;\nvneid_accounts;Huế;2025-10;42;;\n")
	if len(b.Observations) != 1 || len(b.Rejected) != 1 {
		t.Fatalf("%d observations, %d rejected; want 1 and 1", len(b.Observations), len(b.Rejected))
	}
	wantContains(t, b.Rejected[0].Error(), `r.csv: row 2, column "value"`, `"171.548" could be 171548 (locale vi) or 171.548 (locale en)`,
		"set metadata.locale (vi or en) in the catalogue, or numbers: in this source's mapping")
}

func TestColumnContradictingItself(t *testing.T) {
	_, b := readNumbers(t, "", "", "vneid_accounts;Hà Nội;2025-10;1.058.569;;\nvneid_accounts;Huế;2025-10;1,058,569;;\n")
	if len(b.Observations) != 1 || len(b.Rejected) != 1 {
		t.Fatalf("%d observations, %d rejected; want 1 and 1", len(b.Observations), len(b.Rejected))
	}
	wantContains(t, b.Rejected[0].Error(), `row 3, column "value": "1,058,569" reads only as en numbers, but row 2 of this column wrote "1.058.569", which reads only as vi`)
}

// A typed number (an Excel number cell, a database column) says nothing of
// how the file writes numbers, so it neither settles nor contradicts a
// column.
func TestTypedNumbersShowNoFormat(t *testing.T) {
	typed := FormatNumber(171548, NumberFormat{})
	_, b := readNumbers(t, "", "", "vneid_accounts;Hà Nội;2025-10;"+typed+";;\nvneid_accounts;Huế;2025-10;1.058.569;;\nvneid_accounts;Huế;2025-11;171.548;;\n")
	if len(b.Rejected) > 0 || len(b.Observations) != 3 {
		t.Fatalf("%d observations, rejected: %s", len(b.Observations), errorTexts(b.Rejected))
	}
	for _, o := range b.Observations {
		if o.Value != 171548 && o.Value != 1058569 {
			t.Errorf("read %v", o.Value)
		}
	}
}

func TestLocaleSetsTheFormatOnce(t *testing.T) {
	for _, c := range []struct {
		locale, numbers string
		want            float64
	}{
		{"vi", "", 171548},
		{"en", "", 171.548},
		// A source's own numbers: wins over the catalogue's locale.
		{"vi", "\n    numbers: {decimal: \".\"}", 171.548},
	} {
		m, b := readNumbers(t, c.locale, c.numbers, "vneid_accounts;Hà Nội;2025-10;171.548;;\n")
		if len(b.Rejected) > 0 {
			t.Fatalf("locale %s: rejected: %s", c.locale, errorTexts(b.Rejected))
		}
		if got := observed(m, b)["vneid_accounts/Ha Noi/2025-10"].Value; got != c.want {
			t.Errorf("locale %q numbers %q: read %v, want %v", c.locale, c.numbers, got, c.want)
		}
	}
	_, b := readNumbers(t, "vi", "", "vneid_accounts;Hà Nội;2025-10;1,058,569;;\n")
	if len(b.Rejected) != 1 {
		t.Errorf("with locale vi, 1,058,569 is not a number: %d rejected", len(b.Rejected))
	}
}
