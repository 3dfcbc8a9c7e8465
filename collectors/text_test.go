package collectors

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/text/encoding/unicode"
)

const csvEncodingSource = `
collector: csv
config:
  path: %s
  delimiter: ";"
  mapping: {kpi: vneid_accounts, date: Kỳ báo cáo, value: Số tài khoản, dimensions: {province: Tỉnh}, numbers: {decimal: ","}}
`

// utf8Report is a province report as UTF-8 text, lines ending in CRLF as
// Windows writes them.
const utf8Report = "Tỉnh;Kỳ báo cáo;Số tài khoản\r\nHà Nội;Tháng 10/2025;1.058.569\r\nThừa Thiên Huế;Tháng 10/2025;801.000\r\n"

// TestCSVUTF16WithBOM: Excel's "Unicode text" (UTF-16 with a byte-order
// mark, little- or big-endian) reads as the same report in UTF-8 does.
func TestCSVUTF16WithBOM(t *testing.T) {
	for name, order := range map[string]unicode.Endianness{"le.csv": unicode.LittleEndian, "be.csv": unicode.BigEndian} {
		data, err := unicode.UTF16(order, unicode.UseBOM).NewEncoder().String(utf8Report)
		if err != nil {
			t.Fatal(err)
		}
		dir := t.TempDir()
		writeFile(t, dir, name, data)
		c, m := newTestSource(t, dir, fmt.Sprintf(csvEncodingSource, name))
		b := collect(t, c, m)
		got := observed(m, b)
		if got["vneid_accounts/Ha Noi/2025-10"].Value != 1058569 || got["vneid_accounts/Hue/2025-10"].Value != 801000 || len(b.Rejected) != 0 {
			t.Errorf("%s: %+v, rejected %v", name, b.Observations, b.Rejected)
		}
	}
}

// TestCSVLegacyEncodingRefused: a CSV whose header is not UTF-8 is refused
// whole, a row that is not is rejected, each naming the place, the encoding
// it most likely is (with the text read that way) and how to convert it,
// never with byte escapes.
func TestCSVLegacyEncodingRefused(t *testing.T) {
	for data, want := range map[string]string{
		// Windows-1258, as Excel's plain "CSV" writes on a Vietnamese
		// Windows: ă â đ ê ô ơ ư by themselves, tone marks after the letter.
		"Ti\xd2nh;Ky\xcc ba\xeco ca\xeco;S\xf4\xec ta\xcci khoa\xd2n\r\nHa\xcc N\xf4\xf2i;10/2025;1\r\n": `source src: r.csv: row 1, column "1": not valid UTF-8 text: it looks like Windows-1258 (Vietnamese ANSI: it reads "Tỉnh"); save it as "CSV UTF-8" in Excel, or convert it: iconv -f CP1258 -t UTF-8`,
		// A UTF-8 header over rows someone pasted in Windows-1258.
		"Tỉnh;Kỳ báo cáo;Số tài khoản\nHà Nội;10/2025;1\n\xd0a\xcc N\xe3\xdeng;10/2025;2\n": `source src: r.csv: row 3, column "Tỉnh": not valid UTF-8 text: it looks like Windows-1258 (Vietnamese ANSI: it reads "Đà Nẵng")`,
		// Windows-1252 (Western European): no Vietnamese in it.
		"Tỉnh;Kỳ báo cáo;Số tài khoản\nHà Nội;10/2025;1\nM\xfcnchen;10/2025;2\n": `source src: r.csv: row 3, column "Tỉnh": not valid UTF-8 text: it is in an 8-bit encoding (Windows-1252, TCVN3 or another); save it as "CSV UTF-8" in Excel, or convert it: iconv -f ENCODING -t UTF-8`,
		// UTF-16 that lost its byte-order mark.
		"T\x00i\x00n\x00h\x00;\x00": `source src: r.csv: row 1, column "1": NUL bytes (without them it reads "Tinh"): the file looks like UTF-16 without a byte-order mark`,
	} {
		dir := t.TempDir()
		writeFile(t, dir, "r.csv", data)
		c, m := newTestSource(t, dir, fmt.Sprintf(csvEncodingSource, "r.csv"))
		b, err := c.Collect(context.Background(), m)
		got := fmt.Sprint(err)
		if err == nil {
			got = errorTexts(b.Rejected)
			if len(b.Observations) != 1 {
				t.Errorf("the good row is not kept: %+v", b.Observations)
			}
		}
		wantContains(t, got, want)
		if strings.Contains(got, `\x`) {
			t.Errorf("the error shows byte escapes: %v", got)
		}
	}
}

// TestJSONEncodings: a JSON file or response with a byte-order mark (UTF-8
// as Notepad writes it, UTF-16) reads as plain UTF-8 does; one that is not
// UTF-8 is refused naming the line and the likely encoding, where
// encoding/json would silently turn each bad byte into U+FFFD.
func TestJSONEncodings(t *testing.T) {
	doc := "[\n{\"tinh\": \"Hà Nội\", \"ky\": \"2025-10\", \"so\": 5}\n]"
	le, _ := unicode.UTF16(unicode.LittleEndian, unicode.UseBOM).NewEncoder().String(doc)
	be, _ := unicode.UTF16(unicode.BigEndian, unicode.UseBOM).NewEncoder().String(doc)
	source := "collector: json\nconfig:\n  path: d.json\n  mapping: {kpi: vneid_accounts, date: ky, value: so, dimensions: {province: tinh}}"
	for name, data := range map[string]string{"utf-8 bom": "\ufeff" + doc, "utf-16le": le, "utf-16be": be} {
		dir := t.TempDir()
		writeFile(t, dir, "d.json", data)
		c, m := newTestSource(t, dir, source)
		if b := collect(t, c, m); len(b.Observations) != 1 || b.Observations[0].Value != 5 {
			t.Errorf("%s: %+v %v", name, b.Observations, b.Rejected)
		}
	}
	dir := t.TempDir()
	writeFile(t, dir, "d.json", "[\n{\"tinh\": \"Ha\xcc N\xf4\xf2i\", \"ky\": \"2025-10\", \"so\": 5}\n]")
	c, m := newTestSource(t, dir, source)
	_, err := c.Collect(context.Background(), m)
	wantContains(t, fmt.Sprint(err), `source src: d.json: not a JSON document: line 2 is not valid UTF-8 text: it looks like Windows-1258 (Vietnamese ANSI: it reads "Hà Nội")`)
}

// TestSQLLegacyEncodingNamed: a database column holding Windows-1258 bytes
// (an old application's table) is a rejected row naming the encoding, not
// byte escapes.
func TestSQLLegacyEncodingNamed(t *testing.T) {
	path := filepath.Join(t.TempDir(), "r.db")
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`CREATE TABLE r AS SELECT CAST(X'4861cc204ef4f269' AS TEXT) AS tinh, '2025-10' AS ky, 1 AS so UNION ALL SELECT 'Huế', '2025-10', 2`); err != nil {
		t.Fatal(err)
	}
	db.Close()
	t.Setenv("KPIWATCH_TEST_SQLITE", path)
	c, m := newTestSource(t, t.TempDir(), "collector: sql\nconfig:\n  driver: sqlite\n  dsn: {env: KPIWATCH_TEST_SQLITE}\n  query: SELECT * FROM r\n  mapping: {kpi: vneid_accounts, date: ky, value: so, dimensions: {province: tinh}}")
	b := collect(t, c, m)
	got := errorTexts(b.Rejected)
	wantContains(t, got, `source src: sqlite query: row 1, column "tinh": province is not valid UTF-8 text: it looks like Windows-1258 (Vietnamese ANSI: it reads "Hà Nội")`)
	if strings.Contains(got, `\x`) || len(b.Observations) != 1 {
		t.Errorf("rejected %s, %d observations", got, len(b.Observations))
	}
}

// A CSV report with title lines above its header: header_row says which
// line the header is on, and rows and header errors are located by the
// file's own line numbers.
func TestCSVHeaderRow(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "r.csv", "BÁO CÁO TÀI KHOẢN ĐỊNH DANH MỨC 2;;\nĐơn vị: tài khoản;;\nTỉnh;Kỳ;Số tài khoản\nHà Nội;10/2025;1.000\nHuế;10/2025;x\n")
	source := "collector: csv\nconfig:\n  path: r.csv\n  delimiter: \";\"\n  header_row: 3\n  mapping: {kpi: vneid_accounts, date: Kỳ, value: %s, dimensions: {province: Tỉnh}, numbers: {decimal: \",\"}}"
	c, m := newTestSource(t, dir, fmt.Sprintf(source, "Số tài khoản"))
	b := collect(t, c, m)
	if got := observed(m, b); got["vneid_accounts/Ha Noi/2025-10"].Value != 1000 || got["vneid_accounts/Ha Noi/2025-10"].Loc.Row != 4 || len(got) != 1 {
		t.Errorf("got %v", got)
	}
	wantContains(t, errorTexts(b.Rejected), `r.csv: row 5, column "Số tài khoản": "x" is not a number`)

	c, m = newTestSource(t, dir, fmt.Sprintf(source, "Số TK"))
	if _, err := c.Collect(t.Context(), m); err == nil || !strings.Contains(err.Error(), `r.csv: row 3: no column ["Số TK"]`) {
		t.Errorf("a missing column: %v", err)
	}
	wantContains(t, configErrors(t, dir, "collector: csv\nconfig:\n  path: r.csv\n  header_row: -1\n  mapping: {kpi: vneid_accounts, date: Kỳ, value: x}"),
		"config.header_row: must be a line number")
}
