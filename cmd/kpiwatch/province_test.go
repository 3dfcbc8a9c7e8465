package main

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/kpiwatch/kpiwatch/catalogue"
	"github.com/kpiwatch/kpiwatch/internal/htmlcheck"
	"github.com/kpiwatch/kpiwatch/internal/realserver"
	"github.com/kpiwatch/kpiwatch/model"
)

// commune is one row of testdata/tay-ninh/communes.csv.
type commune struct{ name, nameVI, mergedInto string }

func readCommunes(t *testing.T, file string) (current, former []commune) {
	t.Helper()
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	byCode := map[string]string{}
	for _, r := range rows[1:] {
		byCode[r[0]] = r[1]
	}
	for _, r := range rows[1:] {
		if r[5] == "" {
			current = append(current, commune{name: r[1], nameVI: r[2]})
		} else {
			former = append(former, commune{name: r[1], nameVI: r[2], mergedInto: byCode[r[5]]})
		}
	}
	return current, former
}

// TestProvincialWalkthrough is a provincial police department running
// kpiwatch for its own 95 communes with the built binary: its units file
// (the communes, three of them former ones merged in 2025), a CSV a month
// for one KPI, the health department's wide workbook for another, and the
// roadmap as the portal's JSON. In the last month due, one commune sent
// nothing and one row misspells its commune; one workbook row still names
// a former commune. validate rejects the misspelt row, naming its file and
// row and the commune meant; /reporting, the KPI's page and the briefing
// agree on the two communes not in, and speak of the province, never of
// the nation; the briefing fits A4.
func TestProvincialWalkthrough(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "kpiwatch")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	work := t.TempDir()
	for _, n := range []string{"units.yaml", "communes.csv", "kpis.yaml"} {
		data, err := os.ReadFile(filepath.Join("testdata", "tay-ninh", n))
		if err != nil {
			t.Fatal(err)
		}
		write(t, work, n, string(data))
	}
	current, former := readCommunes(t, filepath.Join(work, "communes.csv"))
	if len(current) != 95 || len(former) == 0 {
		t.Fatalf("test broken: %d communes in force and %d former, want 95 and some", len(current), len(former))
	}
	// Both KPIs are due on the 10th: the three months up to the last due.
	latest := model.DuePeriod(catalogue.Cadence{Period: catalogue.Monthly, DueDay: 10}, time.Now())
	months := []time.Time{latest.AddDate(0, -2, 0), latest.AddDate(0, -1, 0), latest}
	silent, misspelt := current[94], current[93]
	misspelling := []rune(misspelt.nameVI)
	misspelling = misspelling[:len(misspelling)-1] // "Xã Thuận Ph"
	renamed := current[slices.IndexFunc(current, func(c commune) bool { return c.name == former[0].mergedInto })]

	for i, m := range months {
		var b strings.Builder
		b.WriteString("Kỳ báo cáo;Xã, phường;Số tài khoản đã kích hoạt\n")
		for j, c := range current {
			name := c.nameVI
			switch {
			case m.Equal(latest) && c == silent:
				continue
			case m.Equal(latest) && c == misspelt:
				name = string(misspelling)
			}
			fmt.Fprintf(&b, "%s;%s;%s\n", m.Format("01/2006"), name, viNumber(4000+100*i+j))
		}
		if err := os.MkdirAll(filepath.Join(work, "data", "vneid"), 0o755); err != nil {
			t.Fatal(err)
		}
		write(t, filepath.Join(work, "data", "vneid"), m.Format("2006-01")+".csv", b.String())
	}

	// The health department's workbook: a row per commune, a column per
	// month of running totals; one row still under a former commune's name.
	x := excelize.NewFile()
	sheet := "Sổ sức khỏe"
	if err := x.SetSheetName("Sheet1", sheet); err != nil {
		t.Fatal(err)
	}
	header := []any{"Xã, phường"}
	for _, m := range months {
		header = append(header, fmt.Sprintf("Tháng %d/%d", m.Month(), m.Year()))
	}
	if err := x.SetSheetRow(sheet, "A1", &header); err != nil {
		t.Fatal(err)
	}
	for j, c := range current {
		row := []any{c.nameVI}
		if c == renamed {
			row[0] = former[0].nameVI
		}
		for i := range months {
			row = append(row, 1000+10*j+100*i)
		}
		if err := x.SetSheetRow(sheet, fmt.Sprintf("A%d", j+2), &row); err != nil {
			t.Fatal(err)
		}
	}
	if err := x.SaveAs(filepath.Join(work, "data", "so-suc-khoe.xlsx")); err != nil {
		t.Fatal(err)
	}

	// The roadmap, as the province's portal serves it: one task done, one
	// overdue.
	tasks, err := json.Marshal(map[string]any{"data": map[string]any{"items": []map[string]any{
		{"ma": "NV-01", "ten": "Làm sạch dữ liệu dân cư các xã", "don_vi": "CAT", "han": months[0].Format("2006-01-02"), "xong": true},
		{"ma": "NV-02", "ten": "Số hóa hồ sơ sức khỏe", "don_vi": "SYT", "han": latest.Format("2006-01-02"), "xong": false},
	}}})
	if err != nil {
		t.Fatal(err)
	}
	write(t, filepath.Join(work, "data"), "nhiem-vu.json", string(tasks))

	// validate reads every source once: the misspelt row alone is rejected,
	// located, with the commune meant.
	cmd := exec.Command(bin, "validate", "--config.file=kpis.yaml")
	cmd.Dir = work
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("validate: %v\n%s", err, out)
	}
	for _, want := range []string{
		"source vneid_monthly (csv): ok",
		fmt.Sprintf("rows: %d read, %d accepted, 0 skipped, 1 rejected", 3*95-1, 3*95-2),
		latest.Format("2006-01") + ".csv: row 95",
		fmt.Sprintf("unknown commune %q (did you mean %q", string(misspelling), misspelt.name),
		"source ehealth_workbook (excel): ok",
		"source roadmap (tasks): ok",
	} {
		if !strings.Contains(string(out), want) {
			t.Errorf("validate's output lacks %q", want)
		}
	}
	if t.Failed() {
		t.Fatalf("validate:\n%s", out)
	}

	base := serveBinary(t, bin, work, "--config.file=kpis.yaml")
	metrics := getBody(t, base+"/metrics") + getBody(t, base+"/metrics/units")
	if n := strings.Count(metrics, `kpi_unit_info{level="commune"`); n != 95 {
		t.Errorf("/metrics names %d communes, want the 95 in force", n)
	}
	for _, want := range []string{
		fmt.Sprintf(`kpi_value{kpi="ehealth_records",commune=%q}`, renamed.name),
		`kpi_tasks_overdue{owner="syt",block="government"} 1`,
	} {
		if !strings.Contains(metrics, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	if strings.Contains(metrics, fmt.Sprintf("commune=%q", former[0].name)) {
		t.Errorf("the former commune %s is served under its own name, not rolled into %s", former[0].name, renamed.name)
	}

	// The pages speak of the province and agree on who has not reported.
	want := []string{misspelt.name, silent.name}
	slices.Sort(want)
	notIn := func(path, table string) []string {
		doc, err := htmlcheck.Parse(getBody(t, base+path))
		if err != nil {
			t.Fatal(err)
		}
		var units []string
		for _, r := range htmlcheck.Rows(doc, table) {
			units = append(units, strings.TrimPrefix(r.Data["unit"], "commune="))
		}
		slices.Sort(units)
		return units
	}
	for _, c := range []struct{ path, table string }{
		{"/reporting", "not_reported"},
		{"/kpi/vneid_activated", "not_reported"},
		{"/report?period=" + latest.Format("2006-01"), "unreported"},
	} {
		if got := notIn(c.path, c.table); !slices.Equal(got, want) {
			t.Errorf("%s lists %v as not reported, want %v", c.path, got, want)
		}
	}
	for _, path := range []string{"/", "/kpi/vneid_activated", "/reporting", "/tasks", "/report?period=" + latest.Format("2006-01")} {
		body := getBody(t, base+path)
		if !strings.Contains(body, "tỉnh Tây Ninh") && !strings.Contains(body, "Tỉnh Tây Ninh") {
			t.Errorf("%s does not name the province", path)
		}
		for _, national := range []string{"toàn quốc", "Toàn quốc", "Bộ, ngành", "Khối Đảng"} {
			if strings.Contains(body, national) {
				t.Errorf("%s speaks national words: %q", path, national)
			}
		}
	}
	checkFitsA4(t, newBrowser(t), getBody(t, base+"/report?period="+latest.Format("2006-01")), "province-briefing")
	if code, _ := get(t, http.DefaultClient, base+"/unit/commune/"+strings.ReplaceAll(silent.name, " ", "%20")); code != http.StatusOK {
		t.Errorf("the page of %s: %d", silent.name, code)
	}
}

// serveBinary starts the built binary's `kpiwatch serve` with args in
// work, on a free loopback port, waits until every source is read, and
// stops it by PID when the test ends.
func serveBinary(t *testing.T, bin, work string, args ...string) string {
	t.Helper()
	addr := realserver.FreeAddr(t)
	cmd := exec.Command(bin, append([]string{"serve", "--web.listen-address=" + addr, "--log.level=warn"}, args...)...)
	cmd.Dir = work
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		if err := cmd.Wait(); err != nil {
			t.Errorf("serve: %v", err)
		}
	})
	base := "http://" + addr
	realserver.WaitFor(t, time.Minute, "serve ready", func() bool {
		resp, err := http.Get(base + "/-/ready")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})
	return base
}

func getBody(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d %v", url, resp.StatusCode, err)
	}
	return string(b)
}

// viNumber writes n as a Vietnamese report does: 4.123.
func viNumber(n int) string {
	s := fmt.Sprint(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "." + s[i:]
	}
	return s
}
