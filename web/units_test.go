package web

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/kpiwatch/kpiwatch/catalogue"
	"github.com/kpiwatch/kpiwatch/conventions"
	"github.com/kpiwatch/kpiwatch/exporter"
	"github.com/kpiwatch/kpiwatch/internal/htmlcheck"
	"github.com/kpiwatch/kpiwatch/units/unitstest"
)

// A provincial department's deployment: its own blocks and owners' words,
// and the units file of unitstest (tỉnh Tây Ninh and its communes). Dac
// Hoa's last report is for August, so by 20 November its reports on
// September and October are overdue; the commune KPI is due the 10th.
func provincial() fstest.MapFS {
	fsys := unitstest.Files()
	fsys["catalogue.yaml"] = &fstest.MapFile{Data: []byte(`apiVersion: kpiwatch.io/v1
kind: Catalogue
metadata: {name: tay-ninh, title_vi: Chuyển đổi số tỉnh Tây Ninh, units: units.yaml, owners_vi: "Sở, ngành", owners_en: Departments}
blocks:
  - {id: departments, name_vi: Khối sở, name_en: Departments}
owners:
  - {id: snv, name: Department of Home Affairs, name_vi: Sở Nội vụ, block: departments}
sources:
  - id: communes
    collector: csv
    interval: 1h
    config:
      path: communes-data.csv
      mapping:
        kpi: commune_online
        date: period
        numerator: num
        denominator: den
        dimensions: {commune: xa}
kpis:
  - id: commune_online
    name: Dossiers filed online
    name_vi: Tỷ lệ hồ sơ trực tuyến
    kind: ratio
    direction: higher_is_better
    owner: snv
    block: departments
    dimensions: [commune]
    cadence: {period: monthly, due_day: 10, grace: 2d}
    source: communes
    baseline: {date: 2025-01-01, value: 0.5}
    targets:
      - {by: 2026-12-31, value: 0.9}
`)}
	fsys["communes-data.csv"] = &fstest.MapFile{Data: []byte(`xa,period,num,den
Phuoc Vinh,2026-08,80,100
Phuoc Vinh,2026-09,84,100
Phuoc Vinh,2026-10,88,100
Phuoc Minh,2026-08,60,100
Phuoc Minh,2026-09,62,100
Phuoc Minh,2026-10,64,100
Tan Ninh,2026-08,70,100
Tan Ninh,2026-09,72,100
Tan Ninh,2026-10,74,100
Ben Cau,2026-08,75,100
Ben Cau,2026-09,76,100
Ben Cau,2026-10,77,100
Dac Hoa,2026-08,70,100
`)}
	return fsys
}

func provincialHandler(t *testing.T) (*Handler, *exporter.Exporter) {
	t.Helper()
	fsys := provincial()
	cat, err := catalogue.Parse("catalogue.yaml", fsys["catalogue.yaml"].Data, fsys, nil)
	if err != nil {
		t.Fatal(err)
	}
	e, err := exporter.New(cat, fsys, exporter.Options{Now: func() time.Time { return judgedAt }})
	if err != nil {
		t.Fatal(err)
	}
	e.RefreshAll(context.Background())
	return New(e.Snapshot, Options{}), e
}

// TestDeploymentWords: a deployment's pages speak of its own whole, blocks
// and owners, never of the nation's, and show no table of a level it has no
// units of.
func TestDeploymentWords(t *testing.T) {
	h, _ := provincialHandler(t)
	for _, c := range []struct{ lang, whole string }{{"vi", "tỉnh Tây Ninh"}, {"en", "Tay Ninh province"}} {
		// Every page says nothing national; those about the whole name it.
		for target, aboutWhole := range map[string]bool{"/": true, "/reporting": true, "/report?period=2026-10": true, "/kpi/commune_online": true, "/unit/commune/Phuoc%20Vinh": false, "/tasks": false} {
			sep := "?"
			if strings.Contains(target, "?") {
				sep = "&"
			}
			code, body := get(t, h, target+sep+"lang="+c.lang)
			if code != http.StatusOK {
				t.Fatalf("%s (%s): %d", target, c.lang, code)
			}
			doc := parse(t, body)
			for _, p := range htmlcheck.Accessibility(doc, c.lang) {
				t.Errorf("%s (%s): %s", target, c.lang, p)
			}
			text := strings.ToLower(htmlcheck.Text(doc))
			if aboutWhole && !strings.Contains(text, strings.ToLower(c.whole)) {
				t.Errorf("%s (%s) does not name the whole %q", target, c.lang, c.whole)
			}
			for _, national := range []string{"toàn quốc", "nationwide", "national", "bộ, ngành", "ministries", "tỉnh, thành phố", "province", "khối đảng", "party"} {
				if strings.Contains(strings.ReplaceAll(text, strings.ToLower(c.whole), ""), national) {
					t.Errorf("%s (%s) says %q", target, c.lang, national)
				}
			}
		}
	}
	_, body := get(t, h, "/")
	if strings.Contains(body, `<table id="by_province">`) || !strings.Contains(body, `<table id="by_commune">`) {
		t.Error("the scorecard ranks provinces, or not the communes the deployment lists")
	}
	if !strings.Contains(body, `<option value="departments">Khối sở</option>`) {
		t.Error("the block filter does not offer the catalogue's own block")
	}
	if _, body := get(t, h, "/report?period=2026-10"); !strings.Contains(body, "Sở, ngành chậm nhất") || !strings.Contains(body, `<table id="lagging_commune">`) {
		t.Error("the briefing does not rank the communes and the owners in the catalogue's words")
	}
}

// TestOverdueAgrees: /reporting, the KPI's page and the briefing name the
// same commune as not reported, the one the model expects and lacks; the
// due day is the KPI's own, the 10th.
func TestOverdueAgrees(t *testing.T) {
	h, e := provincialHandler(t)
	var want []string
	for _, rep := range e.Snapshot().Reports {
		if !rep.Received {
			want = append(want, rep.Unit)
		}
	}
	if !slices.Equal(want, []string{"Dac Hoa"}) {
		t.Fatalf("the model expects reports of the communes and lacks %v, want Dac Hoa's alone", want)
	}
	listed := func(target, table, attr string) []string {
		_, body := get(t, h, target)
		var out []string
		for _, r := range rows(t, body, table) {
			out = append(out, r[attr])
		}
		return out
	}
	for _, c := range []struct{ target, table, attr, want string }{
		{"/reporting", "not_reported", "unit", "Dac Hoa"},
		{"/kpi/commune_online", "not_reported", "unit", "Dac Hoa"},
		{"/report?period=2026-10", "unreported", "unit", "commune=Dac Hoa"},
	} {
		if got := listed(c.target, c.table, c.attr); !slices.Equal(got, []string{c.want}) {
			t.Errorf("%s lists %v as not reported, want %s", c.target, got, c.want)
		}
	}
	_, body := get(t, h, "/kpi/commune_online")
	var late []string
	for _, r := range rows(t, body, "units") {
		if r["status"] == conventions.StatusStale || r["status"] == conventions.StatusNoData {
			late = append(late, r["commune"])
		}
	}
	if !slices.Equal(late, []string{"Dac Hoa"}) {
		t.Errorf("the KPI's page ranks %v as overdue, want Dac Hoa", late)
	}
	_, body = get(t, h, "/reporting")
	for _, r := range htmlcheck.Rows(parse(t, body), "not_reported") {
		if !strings.Contains(r.Text, "10/11/2026") {
			t.Errorf("/reporting does not give the KPI's due day, the 10th: %s", r.Text)
		}
	}
	_, body = get(t, h, "/report?period=2026-10")
	if !strings.Contains(body, "đến hết ngày 10/11/2026") {
		t.Error("the briefing on October is not judged by the end of its KPIs' due day, 10 November")
	}
	if got := LastPeriod(e.Catalogue(), time.Date(2026, 11, 12, 0, 0, 0, 0, time.UTC)).Format("2006-01"); got != "2026-10" {
		t.Errorf("on 12 November the latest briefing is on %s, want October, due the 10th", got)
	}
	caption := regexp.MustCompile(`<table id="unreported">\s*<caption>([^<]*)`).FindStringSubmatch(body)
	if caption == nil || !strings.Contains(caption[1], "10/11/2026") || strings.Contains(caption[1], "15") {
		t.Errorf("the briefing's caption of the reports not in does not give the KPI's due day, the 10th: %q", caption)
	}
}

// TestUnitPage: each listed unit has a page with its KPIs as the model
// judged them and its rank among its level's units; tables that name a
// unit link it; an unknown unit or level is not found.
func TestUnitPage(t *testing.T) {
	h, e := provincialHandler(t)
	jk := &e.Snapshot().KPIs[0]
	var pv *float64
	for i := range jk.Series {
		if jk.Series[i].Labels[0] == "Phuoc Vinh" {
			v := jk.Series[i].Value()
			pv = &v
		}
	}
	if pv == nil {
		t.Fatal("the model has no series of Phuoc Vinh")
	}
	code, body := get(t, h, "/unit/commune/"+url.PathEscape("Phuoc Vinh"))
	if code != http.StatusOK || !strings.Contains(body, "<h1>Xã Phước Vinh</h1>") {
		t.Fatalf("the page of Phuoc Vinh: %d\n%.800s", code, body)
	}
	rs := rows(t, body, "kpis")
	if len(rs) != 1 || rs[0]["kpi"] != "commune_online" || rs[0]["value"] != raw(*pv) || rs[0]["rank"] != "1" || rs[0]["plan"] == "" || rs[0]["target"] != "0.9" {
		t.Errorf("the page of Phuoc Vinh shows %v, want commune_online at %v, first of the communes, with its plan and target", rs, *pv)
	}
	// Long Thuan was merged into Ben Cau; Phước Vinh is Phuoc Vinh's own
	// spelling: each leads to the page of the unit in force.
	for target, want := range map[string]string{"/unit/commune/Long%20Thuan?lang=en": "/unit/commune/Ben%20Cau?lang=en", "/unit/commune/Ph%C6%B0%E1%BB%9Bc%20Vinh": "/unit/commune/Phuoc%20Vinh"} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, target, nil))
		if rec.Code != http.StatusMovedPermanently || rec.Header().Get("Location") != want {
			t.Errorf("%s: %d to %q, want %s", target, rec.Code, rec.Header().Get("Location"), want)
		}
	}
	for _, target := range []string{"/unit/commune/Nowhere", "/unit/district/Phuoc%20Vinh", "/unit/province/Ha%20Noi"} {
		if code, _ := get(t, h, target); code != http.StatusNotFound {
			t.Errorf("%s: %d, want 404", target, code)
		}
	}
	for _, target := range []string{"/", "/kpi/commune_online", "/reporting", "/report?period=2026-10"} {
		_, body := get(t, h, target)
		if !strings.Contains(body, `href="/unit/commune/Dac%20Hoa"`) {
			t.Errorf("%s does not link Dac Hoa's page", target)
		}
		for _, href := range htmlcheck.Links(parse(t, body)) {
			if strings.HasPrefix(href, "/unit/") {
				if code, _ := get(t, h, href); code != http.StatusOK {
					t.Errorf("dead link %s on %s: %d", href, target, code)
				}
			}
		}
	}
}
