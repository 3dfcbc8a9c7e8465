package collectors

import (
	"archive/zip"
	"bytes"
	"context"
	"errors"
	"testing"
	"testing/fstest"
	"unicode/utf8"
)

// The readers' fuzz targets: whatever bytes a file holds, a reader returns
// observations with valid labels and rejected rows located in the file, or
// one error, within small limits, without panicking.
// Run one with: go test ./collectors -run '^$' -fuzz '^FuzzReadCSV$' -fuzztime 30s

var fuzzLimits = Limits{MaxBytes: 64 << 10, MaxLineBytes: 4 << 10, MaxRows: 2000, MaxCells: 64, MaxInflated: 256 << 10, MaxXMLDepth: 16}

// checkBatch holds what every reader promises of a batch.
func checkBatch(t *testing.T, b *Batch, file string) {
	t.Helper()
	for _, o := range b.Observations {
		for _, l := range o.Labels {
			if !utf8.ValidString(l) {
				t.Fatalf("label %q is not valid UTF-8", l)
			}
		}
	}
	for _, err := range b.Rejected {
		var re *RowError
		if !errors.As(err, &re) || re.Loc.File != file || re.Loc.Row < 1 {
			t.Fatalf("rejected row %q is not located in %s", err, file)
		}
	}
}

// collectFS reads the test source once from the files of dir, within
// fuzzLimits.
func collectFS(t *testing.T, m *Mapper, dir fstest.MapFS) (*Batch, error) {
	c, errs := New(Env{Source: m.cat.Sources[0], Dir: dir, Limits: fuzzLimits})
	if errs != nil {
		t.Fatal(errs)
	}
	return c.Collect(context.Background(), m)
}

func FuzzReadCSV(f *testing.F) {
	f.Add([]byte("tinh,ky,value\nHà Nội,2025-10,1.058.569\nHuế,10/2025,\"12,5\"\n"))
	f.Add([]byte("tinh,ky,value\nHà Nội,\"2025-10,1\nHuế,10/2025,2\n"))
	f.Add([]byte("\ufefftinh;ky;value\n\xff\xfe,2025-10,1,extra\n"))
	f.Add([]byte("tinh,ky,value\n"))
	c, m := newTestSource(f, f.TempDir(), `
collector: csv
config:
  path: r.csv
  mapping: {kpi: vneid_accounts, date: ky, value: value, dimensions: {province: tinh}, numbers: {decimal: ","}}
`)
	mp := c.(*csvCollector).cfg.Mapping
	f.Fuzz(func(t *testing.T, data []byte) {
		b, err := ReadCSV(context.Background(), bytes.NewReader(data), "r.csv", ',', 1, mp, m, fuzzLimits)
		if err != nil {
			return
		}
		checkBatch(t, b, "r.csv")
		if n := len(b.Observations) + len(b.Rejected); n > bytes.Count(data, []byte("\n"))+1 {
			t.Fatalf("%d rows from %d lines", n, bytes.Count(data, []byte("\n"))+1)
		}
	})
}

// xlsxFile is a minimal workbook around a sheet's and the shared strings'
// XML.
func xlsxFile(sheet, shared []byte) []byte {
	var buf bytes.Buffer
	z := zip.NewWriter(&buf)
	for _, p := range []struct {
		name string
		data []byte
	}{
		{"xl/workbook.xml", []byte(`<workbook><sheets><sheet name="S" sheetId="1" r:id="rId1"/></sheets></workbook>`)},
		{"xl/_rels/workbook.xml.rels", []byte(`<Relationships><Relationship Id="rId1" Target="worksheets/sheet1.xml"/></Relationships>`)},
		{"xl/worksheets/sheet1.xml", sheet},
		{"xl/sharedStrings.xml", shared},
	} {
		w, _ := z.Create(p.name)
		_, _ = w.Write(p.data)
	}
	_ = z.Close()
	return buf.Bytes()
}

func FuzzXLSXSheet(f *testing.F) {
	f.Add([]byte(`<worksheet><sheetData><row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1" t="s"><v>1</v></c><c r="C1" t="s"><v>2</v></c></row>`+
		`<row r="2"><c r="A2" t="inlineStr"><is><t>Hà Nội</t></is></c><c r="B2" t="s"><v>3</v></c><c r="C2"><v>1058569</v></c></row></sheetData></worksheet>`),
		[]byte(`<sst><si><t>tinh</t></si><si><t>ky</t></si><si><r><t>val</t></r><r><t>ue</t></r></si><si><t>2025-10</t></si></sst>`))
	f.Add([]byte(`<worksheet><sheetData><row r="1"><c r="A1"></row><row r="1048577"/></sheetData></worksheet>`), []byte(`<sst>`))
	f.Add([]byte(`<worksheet><sheetData><row><x><x><x><x><x><x><x><x><x><x><x><x><x><x><x><x><x></row></sheetData>`), []byte(``))
	_, m := newTestSource(f, f.TempDir(), `
collector: excel
config:
  path: r.xlsx
  mapping: {kpi: vneid_accounts, date: ky, value: value, dimensions: {province: tinh}}
`)
	f.Fuzz(func(t *testing.T, sheet, shared []byte) {
		b, err := collectFS(t, m, fstest.MapFS{"r.xlsx": {Data: xlsxFile(sheet, shared)}})
		if err != nil {
			return
		}
		checkBatch(t, b, "r.xlsx")
	})
}

func FuzzJSONFile(f *testing.F) {
	f.Add([]byte(`[{"tinh":"Hà Nội","ky":"2025-10","value":1058569},{"tinh":"Huế","ky":"2025-10","value":"12,5"}]`))
	f.Add([]byte(`{"data":{"rows":[{"tinh":"\u00ff","ky":null,"value":true}]}}`))
	f.Add([]byte(`[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]`))
	f.Add([]byte(`[{"tinh":"Hà Nội","ky":"2025-10","value":1e400}] trailing`))
	f.Add([]byte(`[{"tinh":"Huế","ky":"2025-10","value":1,"v\u0061lue":2,"x\"y":{"[":"}","{":[]}}]`))
	f.Add([]byte("\xef\xbb\xbf[{\"tinh\":\"Hu\xea\xec\"}]"))
	_, m := newTestSource(f, f.TempDir(), `
collector: json
config:
  path: r.json
  query: '.. | objects | select(has("tinh"))'
  mapping: {kpi: vneid_accounts, date: ky, value: value, dimensions: {province: tinh}}
`)
	f.Fuzz(func(t *testing.T, doc []byte) {
		b, err := collectFS(t, m, fstest.MapFS{"r.json": {Data: doc}})
		if err != nil {
			return
		}
		checkBatch(t, b, "r.json")
	})
}
