package collectors

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
)

// A portal's CSV download link, behind a bearer token read from a file:
// read as the file would be; a redirect elsewhere and an oversized answer
// fail the refresh, naming the URL and never the token.
func TestCSVFromURL(t *testing.T) {
	report := "Tỉnh/thành phố;Kỳ báo cáo;Số tài khoản\nHà Nội;10/2025;1.058.569\nTỉnh Quảng Nam;10/2025;200.000\nCả nước;10/2025;1.258.569\n"
	srv, requests, _ := portal(t, report, false)
	dir := t.TempDir()
	writeFile(t, dir, "token", portalToken)
	source := func(url, extra string) string {
		return fmt.Sprintf(`
collector: csv
timeout: 1m
config:
  url: %s
  headers: {X-Client: kpiwatch}
  http_config: {authorization: {credentials_file: token}}
  delimiter: ";"
%s
  mapping: {kpi: vneid_accounts, date: Kỳ báo cáo, value: Số tài khoản, dimensions: {province: Tỉnh/thành phố}, numbers: {decimal: ","}}
`, url, extra)
	}
	c, m := newTestSource(t, dir, source(srv.URL+"/export/vneid.csv?ky=2025-10", ""))
	b := collect(t, c, m)
	got := observed(m, b)
	if got["vneid_accounts/Ha Noi/2025-10"].Value != 1058569 || got["vneid_accounts/Da Nang/2025-10"].Value != 200000 || len(b.Observations) != 2 || requests.Load() != 1 {
		t.Errorf("got %v, rejected %v, %d requests", got, b.Rejected, requests.Load())
	}

	c, m = newTestSource(t, dir, source(srv.URL, "  max_bytes: 100"))
	_, err := c.Collect(context.Background(), m)
	wantContains(t, fmt.Sprint(err), "source src: GET "+srv.URL+": response of", "larger than max_bytes 100")

	var elsewhere atomic.Int32
	other := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { elsewhere.Add(1) }))
	t.Cleanup(other.Close)
	redirecting := httptest.NewServer(http.RedirectHandler(other.URL+"/steal", http.StatusFound))
	t.Cleanup(redirecting.Close)
	c, m = newTestSource(t, dir, source(redirecting.URL, ""))
	_, err = c.Collect(context.Background(), m)
	wantContains(t, fmt.Sprint(err), "redirected to "+other.URL+"/steal: only the configured URL is fetched")
	if elsewhere.Load() != 0 || strings.Contains(fmt.Sprint(err), portalToken) {
		t.Errorf("the redirect was followed, or the token shown: %v", err)
	}
}

// A province's workbook behind a download link with basic auth, the
// password from the environment: a wide table read as from disk; a wrong
// password is an HTTP error that does not show it.
func TestExcelFromURL(t *testing.T) {
	dir := t.TempDir()
	writeWorkbook(t, dir, "tk.xlsx", map[string][][]any{"Báo cáo": {
		{"BÁO CÁO TÀI KHOẢN ĐỊNH DANH"},
		{"Tỉnh, thành phố", "Năm 2025", nil},
		{nil, "Quý II", "Quý III"},
		{"Bình Dương", "1.000", 1500},
		{"Tổng cộng", "1.000", 1500},
	}}, []string{"Báo cáo"}, [2]string{"B2", "C2"})
	workbook, err := os.ReadFile(filepath.Join(dir, "tk.xlsx"))
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if u, p, ok := r.BasicAuth(); !ok || u != "c06" || p != "mật-khẩu-2025" {
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		_, _ = w.Write(workbook)
	}))
	t.Cleanup(srv.Close)
	source := fmt.Sprintf(`
collector: excel
config:
  url: %s/tai-ve/tk.xlsx
  http_config: {basic_auth: {username: c06, password_ref: KPIWATCH_TEST_PORTAL_PASSWORD}}
  sheet: {header_row: 2, header_rows: 2}
  wide:
    dimensions: {province: "Tỉnh, thành phố"}
    numbers: {decimal: ","}
    kpis: [{kpi: vneid_accounts}]
`, srv.URL)
	t.Setenv("KPIWATCH_TEST_PORTAL_PASSWORD", "mật-khẩu-2025")
	c, m := newCatalogueSource(t, cumulativeCatalogue, dir, source)
	b := collect(t, c, m)
	got := observed(m, b)
	if len(got) != 2 || got["vneid_accounts/Ho Chi Minh/2025-06"].Value != 1000 || got["vneid_accounts/Ho Chi Minh/2025-09"].Value != 1500 {
		t.Errorf("got %v, rejected %v", got, b.Rejected)
	}
	t.Setenv("KPIWATCH_TEST_PORTAL_PASSWORD", "sai-mật-khẩu")
	_, err = c.Collect(context.Background(), m)
	wantContains(t, fmt.Sprint(err), "source src: GET "+srv.URL+"/tai-ve/tk.xlsx: HTTP status 401 Unauthorized")
	if strings.Contains(fmt.Sprint(err), "sai-mật-khẩu") {
		t.Errorf("the password is in the error: %v", err)
	}
}

func TestURLConfigErrors(t *testing.T) {
	got := configErrors(t, t.TempDir(), `
collector: csv
config:
  url: https://c06:secret@portal.example/x.csv
  path: x.csv
  file_name: '(?P<tinh>.+)\.csv'
  mapping: {kpi: vneid_accounts, date: d, value: v}
`)
	wantContains(t, got, "config.path: set one of url and path, not both")
	got = configErrors(t, t.TempDir(), `
collector: excel
config:
  url: https://c06:secret@portal.example/x.xlsx
  file_name: '(?P<tinh>.+)\.xlsx'
  mapping: {kpi: vneid_accounts, date: d, value: v}
`)
	wantContains(t, got, "config.url: credentials do not belong in the URL", "config.file_name: only for a path")
	got = configErrors(t, t.TempDir(), `
collector: csv
config:
  path: x.csv
  http_config: {authorization: {credentials_ref: TOKEN}}
  mapping: {kpi: vneid_accounts, date: d, value: v}
`)
	wantContains(t, got, "config.http_config: only for a url, not a path")
}
