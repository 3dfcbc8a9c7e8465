package collectors

import (
	"context"
	"encoding/pem"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
)

const portalToken = "s3cr3t-portal-token"

// portalDoc is a statistics endpoint's answer: rows nested in the document,
// numbers as JSON numbers and as Vietnamese text.
const portalDoc = `{"status": "ok", "data": {"updated": "2025-11-01", "items": [
	{"tinh": "Hà Nội", "ky": "2025-10", "so_tai_khoan": 1058569},
	{"tinh": "TP. Hồ Chí Minh", "ky": "10/2025", "so_tai_khoan": "2.345.678"},
	{"tinh": "Toàn quốc", "ky": "10/2025", "so_tai_khoan": 3404247},
	{"tinh": "Huế", "ky": "10/2025", "so_tai_khoan": null}
]}}`

// portal serves doc to requests that bear the token, counting requests and
// new connections.
func portal(t *testing.T, doc string, tls bool) (srv *httptest.Server, requests, conns *atomic.Int32) {
	requests, conns = new(atomic.Int32), new(atomic.Int32)
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		if r.Header.Get("Authorization") != "Bearer "+portalToken || r.Header.Get("X-Client") != "kpiwatch" {
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Content-Length", strconv.Itoa(len(doc)))
		fmt.Fprint(w, doc)
	})
	srv = httptest.NewUnstartedServer(h)
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the refused TLS handshake is the point
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	if tls {
		srv.StartTLS()
	} else {
		srv.Start()
	}
	t.Cleanup(srv.Close)
	return srv, requests, conns
}

func jsonSource(url, extra string) string {
	return fmt.Sprintf(`
collector: json
interval: 5m
timeout: 1m
config:
  url: %s
  headers: {X-Client: kpiwatch}
  query: .data.items
  http_config: {authorization: {credentials_file: token}}
%s
  mapping: {kpi: vneid_accounts, date: ky, value: so_tai_khoan, dimensions: {province: tinh}, numbers: {decimal: ","}}
`, url, extra)
}

func TestJSONBearerFromFileAndKeepAlive(t *testing.T) {
	srv, requests, conns := portal(t, portalDoc, false)
	dir := t.TempDir()
	writeFile(t, dir, "token", portalToken+"\n")
	c, m := newTestSource(t, dir, jsonSource(srv.URL+"/api/v1/stats", ""))
	for refresh := 1; refresh <= 3; refresh++ {
		b := collect(t, c, m)
		got := observed(m, b)
		if got["vneid_accounts/Ha Noi/2025-10"].Value != 1058569 || got["vneid_accounts/Ho Chi Minh/2025-10"].Value != 2345678 || len(b.Observations) != 2 {
			t.Fatalf("observations %+v", b.Observations)
		}
		wantContains(t, errorTexts(b.Rejected), `source src: `+srv.URL+`/api/v1/stats: row 4, column "so_tai_khoan": empty number`)
	}
	if requests.Load() != 3 || conns.Load() != 1 {
		t.Errorf("%d requests over %d connections, want 3 over 1 (keep-alive across refreshes)", requests.Load(), conns.Load())
	}
}

func TestJSONSecretsNeverInErrors(t *testing.T) {
	srv, _, _ := portal(t, portalDoc, false)
	dir := t.TempDir()
	writeFile(t, dir, "token", "wrong-"+portalToken)
	c, m := newTestSource(t, dir, jsonSource(srv.URL, ""))
	_, err := c.Collect(context.Background(), m)
	if err == nil || !strings.Contains(err.Error(), "HTTP status 401 Unauthorized") || strings.Contains(err.Error(), portalToken) {
		t.Errorf("error %v: want the status and no token", err)
	}
	c, m = newTestSource(t, dir, strings.Replace(jsonSource(srv.URL, ""), "authorization: {credentials_file: token}", "basic_auth: {username: c06, password_ref: KPIWATCH_TEST_UNSET}", 1))
	_, err = c.Collect(context.Background(), m)
	if want := "source src: GET " + srv.URL + ": unable to read basic auth password: environment variable KPIWATCH_TEST_UNSET is not set"; fmt.Sprint(err) != want {
		t.Errorf("got  %v\nwant %s", err, want)
	}
}

// A POST with a body and basic auth whose password comes from the
// environment, as some statistics endpoints want.
func TestJSONPostWithBasicAuthFromEnv(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		user, pass, ok := r.BasicAuth()
		body, _ := io.ReadAll(r.Body)
		if r.Method != http.MethodPost || !ok || user != "c06" || pass != portalToken || string(body) != `{"ky": "2025-10"}` || r.Header.Get("Content-Type") != "application/json" {
			http.Error(w, "bad request", http.StatusBadRequest)
			return
		}
		fmt.Fprint(w, `[{"tinh": "Hà Nội", "ky": "2025-10", "so_tai_khoan": 7}]`)
	}))
	t.Cleanup(srv.Close)
	t.Setenv("KPIWATCH_TEST_PORTAL_PASSWORD", portalToken)
	c, m := newTestSource(t, t.TempDir(), fmt.Sprintf(`
collector: json
config:
  url: %s
  method: post
  body: '{"ky": "2025-10"}'
  http_config: {basic_auth: {username: c06, password_ref: KPIWATCH_TEST_PORTAL_PASSWORD}}
  mapping: {kpi: vneid_accounts, date: ky, value: so_tai_khoan, dimensions: {province: tinh}}
`, srv.URL))
	b := collect(t, c, m)
	if len(b.Observations) != 1 || b.Observations[0].Value != 7 {
		t.Errorf("observations %+v, rejected %v", b.Observations, b.Rejected)
	}
}

func TestJSONTLSWithCAFile(t *testing.T) {
	srv, requests, _ := portal(t, portalDoc, true)
	dir := t.TempDir()
	writeFile(t, dir, "token", portalToken)
	writeFile(t, dir, "ca.pem", string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})))
	c, m := newTestSource(t, dir, withCA(jsonSource(srv.URL, ""), "ca.pem"))
	if b := collect(t, c, m); len(b.Observations) != 2 {
		t.Errorf("over TLS: %d observations, want 2", len(b.Observations))
	}
	c, m = newTestSource(t, dir, jsonSource(srv.URL, ""))
	_, err := c.Collect(context.Background(), m)
	wantContains(t, fmt.Sprint(err), "certificate signed by unknown authority")
	if requests.Load() != 1 {
		t.Errorf("%d requests reached the server, want 1 (none without trusting its CA)", requests.Load())
	}
	// A CA file is read as Prometheus reads it, when fetching: one that
	// holds no certificate fails the refresh, named.
	c, m = newTestSource(t, dir, withCA(jsonSource(srv.URL, ""), "token"))
	_, err = c.Collect(context.Background(), m)
	wantContains(t, fmt.Sprint(err), "source src: GET "+srv.URL+": http_config: ", filepath.Join(dir, "token"))
}

// withCA makes a source trust the CA in file, beside its credentials.
func withCA(source, file string) string {
	return strings.Replace(source, "http_config: {", "http_config: {tls_config: {ca_file: "+file+"}, ", 1)
}

func TestJSONSizeLimit(t *testing.T) {
	big := `{"data": {"items": [` + strings.Repeat(`{"tinh": "Hà Nội", "ky": "2025-10", "so_tai_khoan": 1},`, 100) + `{}]}}`
	srv, _, _ := portal(t, big, false)
	chunked := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		for range 100 {
			fmt.Fprint(w, strings.Repeat(" ", 100))
			w.(http.Flusher).Flush() // no Content-Length: the limit must hold while reading
		}
	}))
	t.Cleanup(chunked.Close)
	dir := t.TempDir()
	writeFile(t, dir, "token", portalToken)
	for url, want := range map[string]string{
		srv.URL:     fmt.Sprintf("response of %d bytes is larger than max_bytes 1000", len(big)),
		chunked.URL: "response is larger than max_bytes 1000",
	} {
		c, m := newTestSource(t, dir, jsonSource(url, "  max_bytes: 1000"))
		_, err := c.Collect(context.Background(), m)
		if w := "source src: GET " + url + ": " + want; fmt.Sprint(err) != w {
			t.Errorf("got  %v\nwant %s", err, w)
		}
	}
}

func TestJSONTimeout(t *testing.T) {
	release := make(chan struct{})
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	t.Cleanup(slow.Close)
	t.Cleanup(func() { close(release) })
	dir := t.TempDir()
	writeFile(t, dir, "token", portalToken)
	c, m := newTestSource(t, dir, strings.Replace(jsonSource(slow.URL, ""), "timeout: 1m", "timeout: 300ms", 1))
	// The server answers only once the test ends: Collect returns only if it
	// gives up at its timeout.
	_, err := c.Collect(context.Background(), m)
	wantContains(t, fmt.Sprint(err), "source src: GET "+slow.URL+": timed out after 300ms")
}

func TestJSONRedirectElsewhereRefused(t *testing.T) {
	var elsewhere atomic.Int32
	other := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { elsewhere.Add(1) }))
	t.Cleanup(other.Close)
	redirecting := httptest.NewServer(http.RedirectHandler(other.URL+"/steal", http.StatusFound))
	t.Cleanup(redirecting.Close)
	dir := t.TempDir()
	writeFile(t, dir, "token", portalToken)
	c, m := newTestSource(t, dir, jsonSource(redirecting.URL, ""))
	_, err := c.Collect(context.Background(), m)
	wantContains(t, fmt.Sprint(err), "redirected to "+other.URL+"/steal: only the configured URL is fetched")
	if elsewhere.Load() != 0 {
		t.Error("the redirect was followed")
	}
}

func TestJSONWrongShape(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "token", portalToken)
	for doc, want := range map[string]string{
		`{"data": {"items": {"tinh": "Hà Nội"}}}`:                                                  `row 1, column "ky": result[0] has no key "ky" (it has ["tinh"])`, // an object, not a list: one row
		`{"data": {"items": [{"tinh": "Hà Nội", "ky": "2025-10", "so_tai_khoan": 1}, "Huế"]}}`:     `query ".data.items": result[0][1] is a string ("Huế"), want an object with keys ["ky" "so_tai_khoan" "tinh"]`,
		`{"data": {"items": [{"tinh": "Hà Nội", "ky": "2025-10", "so_tai_khoan": {"value": 1}}]}}`: `query ".data.items": result[0][0].so_tai_khoan is an object, want a string, number, boolean or null`,
		`{"data": {"items": 42}}`: `query ".data.items": result[0] is a number, want an object`,
		`{"data": "maintenance"}`: `query ".data.items": expected an object but got: string ("maintenance")`,
		`<html>down</html>`:       `not a JSON document: invalid character '<'`,
	} {
		srv, _, _ := portal(t, doc, false)
		c, m := newTestSource(t, dir, jsonSource(srv.URL, ""))
		b, err := c.Collect(context.Background(), m)
		got := fmt.Sprint(err)
		if err == nil {
			got = errorTexts(b.Rejected)
		}
		wantContains(t, got, want)
	}
}

func TestJSONConfigErrors(t *testing.T) {
	got := configErrors(t, t.TempDir(), `
collector: json
config:
  url: https://user:pw@portal.example/api
  method: DELETE
  query: .data[
  http_config: {authorization: {credentials_file: t, credentials_ref: T}, tls_config: {ca_fil: x}}
  mapping: {kpi: vneid_accounts, date: d, value: v}
`)
	wantContains(t, got,
		"config.url: credentials do not belong in the URL",
		`config.method: "DELETE" is not GET or POST`,
		"config.query: not a jq expression",
		"config.http_config: ",
		"field ca_fil not found")
	if strings.Contains(got, "pw@") {
		t.Errorf("the URL's password is in the errors:\n%s", got)
	}
}

// A document a portal publishes as a file is read like one it serves:
// the same query, rows and size limit, its path in every error.
func TestJSONFromFile(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "thong-ke.json", portalDoc)
	source := func(path, extra string) string {
		return fmt.Sprintf(`
collector: json
config:
  path: %s
  query: .data.items
%s
  mapping: {kpi: vneid_accounts, date: ky, value: so_tai_khoan, dimensions: {province: tinh}, numbers: {decimal: ","}}
`, path, extra)
	}
	c, m := newTestSource(t, dir, source("thong-ke.json", ""))
	b := collect(t, c, m)
	got := observed(m, b)
	if got["vneid_accounts/Ha Noi/2025-10"].Value != 1058569 || got["vneid_accounts/Ho Chi Minh/2025-10"].Value != 2345678 || len(b.Observations) != 2 {
		t.Errorf("observations %+v", b.Observations)
	}
	wantContains(t, errorTexts(b.Rejected), `source src: thong-ke.json: row 4, column "so_tai_khoan": empty number`)

	c, m = newTestSource(t, dir, source(filepath.Join(dir, "thong-ke.json"), "  max_bytes: 100"))
	_, err := c.Collect(context.Background(), m)
	if want := "source src: " + filepath.Join(dir, "thong-ke.json") + ": more than 100 bytes: over the limit"; fmt.Sprint(err) != want {
		t.Errorf("got  %v\nwant %s", err, want)
	}
	c, m = newTestSource(t, dir, source("missing.json", ""))
	_, err = c.Collect(context.Background(), m)
	wantContains(t, fmt.Sprint(err), "source src: missing.json: stat missing.json: ")

	problems := configErrors(t, dir, source("thong-ke.json", "  url: https://portal.example/api\n  http_config: {authorization: {credentials_file: token}}"))
	wantContains(t, problems, "config.path: set one of url and path, not both")
	problems = configErrors(t, dir, source("thong-ke.json", "  method: POST\n  headers: {X-Client: kpiwatch}\n  http_config: {authorization: {credentials_file: token}}"))
	wantContains(t, problems, "config.method: only for a url, not a path", "config.headers: only for a url, not a path", "config.http_config: only for a url, not a path")
	problems = configErrors(t, dir, `
collector: json
config:
  mapping: {kpi: vneid_accounts, date: ky, value: so_tai_khoan}
`)
	wantContains(t, problems, "config.url: required (or path, for a file)")
}

// TestJSONDuplicateKeys: an object that has a key twice is refused whole,
// naming the key, the object's path (as jq writes it) and where the second
// one stands, rather than served with the last value, as encoding/json
// would; the same key in different objects is no duplicate.
func TestJSONDuplicateKeys(t *testing.T) {
	for doc, want := range map[string]string{
		"{\"data\": {\"items\": [\n  {\"tinh\": \"Hà Nội\", \"ky\": \"2025-10\", \"so_tai_khoan\": 1},\n  {\"tinh\": \"Huế\", \"ky\": \"2025-10\",\n   \"so_tai_khoan\": 1, \"so_tai_khoan\": 900}\n]}}": `.data.items[1] has the key "so_tai_khoan" twice (the second at line 4, column 23)`,
		`{"data": {"items": []}, "data": {"items": []}}`:                                            `the document has the key "data" twice (the second at line 1, column 25)`,
		`{"data": {"items": [{"tinh": "Huế", "t\u1ec9nh": 1, "ti\u0300nh": 2, "tinh": "Hà Nội"}]}}`: `.data.items[0] has the key "tinh" twice (the second at line 1, column 70)`,
		`{"data": {"items": [{"a b": {"x\"y": 1, "x\"y": 2}}]}}`:                                    `.data.items[0]["a b"] has the key "x\"y" twice (the second at line 1, column 41)`,
		`{"data": {"value": 1, "\u0076alue": 2}}`:                                                   `.data has the key "value" twice (the second at line 1, column 23)`,
		strings.Repeat("[", 20000) + strings.Repeat("]", 20000):                                     `exceeded max depth`,
		`{"data": {"items": [{"tinh": "Huế"`:                                                        `not a JSON document: unexpected EOF`,
	} {
		dir := t.TempDir()
		writeFile(t, dir, "d.json", doc)
		c, m := newTestSource(t, dir, `
collector: json
config:
  path: d.json
  query: .data.items
  mapping: {kpi: vneid_accounts, date: ky, value: so_tai_khoan, dimensions: {province: tinh}}
`)
		_, err := c.Collect(context.Background(), m)
		wantContains(t, fmt.Sprint(err), "source src: d.json: not a JSON document: ", want)
	}
	dir := t.TempDir()
	writeFile(t, dir, "d.json", `{"data": {"items": [{"tinh": "Hà Nội", "ky": "2025-10", "so_tai_khoan": 1}, {"tinh": "Huế", "ky": "2025-10", "so_tai_khoan": 2}]}}`)
	c, m := newTestSource(t, dir, "collector: json\nconfig:\n  path: d.json\n  query: .data.items\n  mapping: {kpi: vneid_accounts, date: ky, value: so_tai_khoan, dimensions: {province: tinh}}")
	if b := collect(t, c, m); len(b.Observations) != 2 {
		t.Errorf("the same keys in two objects: %+v, %v", b.Observations, b.Rejected)
	}
}
