package collectors

import (
	"archive/zip"
	"context"
	"errors"
	"io"
	"maps"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// A workbook written by hand with what Excel writes and excelize does not:
// rich-text shared strings with phonetic runs, formula text, booleans,
// errors, cells and rows without references, a sheet part at an absolute
// path, rows left out of the file, custom number formats (styles: 0
// General, 1 a built-in date, 2 a custom date and time, 3 a count of days
// whose "ngày" is text, 4 a percentage).
var handWorkbook = map[string]string{
	"xl/workbook.xml": `<?xml version="1.0" encoding="UTF-8"?>
<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">
<sheets><sheet name="Bìa" sheetId="1" r:id="rId1"/><sheet name="Số liệu" sheetId="2" r:id="rId2"/></sheets></workbook>`,
	"xl/_rels/workbook.xml.rels": `<?xml version="1.0" encoding="UTF-8"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">
<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/>
<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="/xl/worksheets/data.xml"/>
<Relationship Id="rId3" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/>
</Relationships>`,
	"xl/sharedStrings.xml": `<?xml version="1.0" encoding="UTF-8"?>
<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="2" uniqueCount="2">
<si><t xml:space="preserve">Tỉnh</t></si>
<si><r><rPr><b/></rPr><t>Hà </t></r><r><t>Nội</t></r><rPh sb="0" eb="2"><t>ハノイ</t></rPh></si>
</sst>`,
	"xl/styles.xml": `<?xml version="1.0" encoding="UTF-8"?>
<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">
<numFmts count="2"><numFmt numFmtId="164" formatCode="[$-42A]dd/mm/yyyy\ hh:mm"/><numFmt numFmtId="165" formatCode="#,##0&quot; ngày&quot;"/></numFmts>
<cellXfs count="5"><xf numFmtId="0"/><xf numFmtId="14" applyNumberFormat="1"/><xf numFmtId="164" applyNumberFormat="1"/><xf numFmtId="165" applyNumberFormat="1"/><xf numFmtId="10" applyNumberFormat="1"/></cellXfs>
</styleSheet>`,
	"xl/worksheets/sheet1.xml": `<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>
<row r="1"><c r="A1" t="inlineStr"><is><t>Báo cáo</t></is></c></row></sheetData></worksheet>`,
	"xl/worksheets/data.xml": `<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>
<row r="1" spans="1:4"><c r="A1" t="s"><v>0</v></c><c r="B1" t="inlineStr"><is><t>Tháng</t></is></c><c r="C1" t="str"><f>"Giá"&amp;" trị"</f><v>Giá trị</v></c><c r="D1" t="inlineStr"><is><t>Xong</t></is></c></row>
<row r="3"><c r="A3" t="s"><v>1</v></c><c r="B3" s="1"><v>45961</v></c><c r="D3" t="b"><v>1</v></c><c r="C3" s="3"><v>850000.5</v></c></row>
<row><c t="inlineStr"><is><r><t>Hu</t></r><r><t>ế</t></r></is></c><c t="e"><v>#N/A</v></c><c s="4"><f>SUM(C3)</f><v>0.5957</v></c><c s="2"><v>45961.75</v></c></row>
</sheetData><mergeCells count="1"><mergeCell ref="A1:A2"/></mergeCells></worksheet>`,
}

func writeZip(t *testing.T, path string, parts map[string]string) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	z := zip.NewWriter(f)
	for name, data := range parts {
		w, err := z.Create(name)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := io.WriteString(w, data); err != nil {
			t.Fatal(err)
		}
	}
	if err := errors.Join(z.Close(), f.Close()); err != nil {
		t.Fatal(err)
	}
}

// TestSheetReaderAllHidden: a workbook whose every sheet is hidden (Excel
// refuses to write one, other tools do not) is read only by a sheet's name.
func TestSheetReaderAllHidden(t *testing.T) {
	parts := maps.Clone(handWorkbook)
	parts["xl/workbook.xml"] = strings.NewReplacer(`r:id="rId1"`, `r:id="rId1" state="hidden"`, `r:id="rId2"`, `r:id="rId2" state="veryHidden"`).Replace(parts["xl/workbook.xml"])
	path := filepath.Join(t.TempDir(), "r.xlsx")
	writeZip(t, path, parts)
	spec := sheetSpec{HeaderRow: 1, HeaderRows: 1, FirstRow: 2}
	_, err := openSheet(context.Background(), nil, path, spec, Limits{})
	if want := `every sheet is hidden (["Bìa (hidden)" "Số liệu (hidden)"]): name the one to read in sheet.name`; err == nil || !strings.HasSuffix(err.Error(), want) {
		t.Errorf("all hidden: %v, want %s", err, want)
	}
	spec.Name = "Số liệu"
	sheet, err := openSheet(context.Background(), nil, path, spec, Limits{})
	if err != nil {
		t.Fatal(err)
	}
	defer sheet.Close()
	if got := sheet.Header(); len(got) != 4 || got[0] != "Tỉnh" {
		t.Errorf("the named hidden sheet's header: %q", got)
	}
}

func TestSheetReaderCellTypes(t *testing.T) {
	dir := t.TempDir()
	writeZip(t, filepath.Join(dir, "hand.xlsx"), handWorkbook)
	spec := sheetSpec{Name: "số liệu"}
	if errs := spec.check("sheet"); errs != nil {
		t.Fatal(errs)
	}
	sheet, err := openSheet(context.Background(), os.DirFS(dir), "hand.xlsx", spec, Limits{})
	if err != nil {
		t.Fatal(err)
	}
	defer sheet.Close()
	if want := []string{"Tỉnh", "Tháng", "Giá trị", "Xong"}; !reflect.DeepEqual(sheet.Header(), want) {
		t.Errorf("header %q, want %q", sheet.Header(), want)
	}
	want := []sheetRow{
		{2, []string{"", "", "", ""}, []bool{false, false, false, false}},
		{3, []string{"Hà Nội", "2025-10-31", "850000.5", "1"}, []bool{false, false, true, true}},
		{4, []string{"Huế", "#N/A", "0.5957", "2025-10-31T18:00:00"}, []bool{false, false, true, false}},
	}
	readSheetRows(t, sheet, want)
	first := sheetSpec{Index: 1}
	first.check("sheet")
	cover, err := openSheet(context.Background(), os.DirFS(dir), "hand.xlsx", first, Limits{})
	if err != nil {
		t.Fatal(err)
	}
	defer cover.Close()
	if want := []string{"Báo cáo"}; !reflect.DeepEqual(cover.Header(), want) {
		t.Errorf("sheet 1's header %q, want %q", cover.Header(), want)
	}

	// The same days in the 1904 date system are 1462 smaller.
	mac := maps.Clone(handWorkbook)
	mac["xl/workbook.xml"] = strings.Replace(mac["xl/workbook.xml"], "<sheets>", `<workbookPr date1904="1"/><sheets>`, 1)
	mac["xl/worksheets/data.xml"] = strings.NewReplacer(">45961<", ">44499<", ">45961.75<", ">44499.75<").Replace(mac["xl/worksheets/data.xml"])
	writeZip(t, filepath.Join(dir, "mac.xlsx"), mac)
	sheet1904, err := openSheet(context.Background(), os.DirFS(dir), "mac.xlsx", spec, Limits{})
	if err != nil {
		t.Fatal(err)
	}
	defer sheet1904.Close()
	readSheetRows(t, sheet1904, want)
}

type sheetRow struct {
	n       int
	cells   []string
	numbers []bool
}

func readSheetRows(t *testing.T, sheet *sheetTable, want []sheetRow) {
	t.Helper()
	for _, w := range want {
		cells, n, err := sheet.Next()
		if err != nil {
			t.Fatalf("row %d: %v", w.n, err)
		}
		numbers := []bool{sheet.Number(0), sheet.Number(1), sheet.Number(2), sheet.Number(3)}
		if n != w.n || !reflect.DeepEqual(cells, w.cells) || !reflect.DeepEqual(numbers, w.numbers) {
			t.Errorf("got row %d %q numbers %v, want row %d %q numbers %v", n, cells, numbers, w.n, w.cells, w.numbers)
		}
	}
	if _, _, err := sheet.Next(); !errors.Is(err, io.EOF) {
		t.Errorf("after the last row: %v, want io.EOF", err)
	}
}

func TestIsDateFormat(t *testing.T) {
	for code, want := range map[string]bool{
		"dd/mm/yyyy": true, "mmm-yy": true, "[$-42A]d mmmm yyyy": true, "m/d/yy h:mm": true, `"Tháng "mm`: true,
		"General": false, "#,##0": false, "0.00%": false, `#,##0" ngày"`: false, `0\d`: false,
		"h:mm": false, "mm:ss": false, "[h]:mm:ss": false, "[Red]#,##0": false, "0.00E+00": false,
	} {
		if got := isDateFormat(code); got != want {
			t.Errorf("isDateFormat(%q) = %v, want %v", code, got, want)
		}
	}
}

func TestSheetReaderNotAWorkbook(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "report.xlsx", "Tỉnh,Tháng\nHà Nội,10/2025\n")
	spec := sheetSpec{}
	spec.check("sheet")
	_, err := openSheet(context.Background(), os.DirFS(dir), "report.xlsx", spec, Limits{})
	if want := "report.xlsx: not a workbook (.xlsx): zip: not a valid zip file"; err == nil || err.Error() != want {
		t.Errorf("got %v, want %s", err, want)
	}
}
