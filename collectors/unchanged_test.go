package collectors

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// rewritingFS is the folder dir, where the first read of the file named
// victim runs rewrite: what another process does to a report while a
// refresh reads it (copies over it, saves it, uploads it in place), at a
// moment the test chooses rather than one a sleep hopes for.
type rewritingFS struct {
	fs.FS
	victim  string
	rewrite func()
	once    *sync.Once
}

func newRewritingFS(dir, victim string, rewrite func()) rewritingFS {
	return rewritingFS{os.DirFS(dir), victim, rewrite, &sync.Once{}}
}

func (r rewritingFS) Open(name string) (fs.File, error) {
	f, err := r.FS.Open(name)
	if err != nil || name != r.victim {
		return f, err
	}
	return &rewritingFile{f, r}, nil
}

type rewritingFile struct {
	fs.File
	fs rewritingFS
}

func (f *rewritingFile) Read(p []byte) (int, error) {
	n, err := f.File.Read(p)
	f.fs.once.Do(f.fs.rewrite)
	return n, err
}

// overwrite writes data over dir/name in place, as a copy does (the open
// file sees it), with a modification time of its own.
func overwrite(t *testing.T, dir, name, data string, at time.Time) func() {
	return func() {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Error(err)
		}
		if err := os.Chtimes(p, at, at); err != nil {
			t.Error(err)
		}
	}
}

const tenProvinces = "Tỉnh;Kỳ;Số\nHà Nội;10/2025;1\nHuế;10/2025;2\nĐà Nẵng;10/2025;3\nCần Thơ;10/2025;4\nHải Phòng;10/2025;5\n" +
	"An Giang;10/2025;6\nCà Mau;10/2025;7\nĐồng Nai;10/2025;8\nGia Lai;10/2025;9\nKhánh Hòa;10/2025;10\n"

// TestReadWhileRewritten: a report rewritten while it is read (truncated and
// written anew, grown, the same size with a new time, deleted) fails the
// read, naming the file and what changed; nothing half-read is returned.
// The same file left alone reads whole.
func TestReadWhileRewritten(t *testing.T) {
	csvSource := "collector: csv\nconfig:\n  path: r.csv\n  delimiter: \";\"\n  mapping: {kpi: vneid_accounts, date: Kỳ, value: Số, dimensions: {province: Tỉnh}}"
	later := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	for name, rewrite := range map[string]func(dir string) func(){
		"truncated": func(dir string) func() {
			return overwrite(t, dir, "r.csv", "Tỉnh;Kỳ;Số\nHà Nội;10/2025;1\n", later)
		},
		"grown": func(dir string) func() {
			return overwrite(t, dir, "r.csv", tenProvinces+"Lào Cai;10/2025;11\n", later)
		},
		"touched": func(dir string) func() { return overwrite(t, dir, "r.csv", tenProvinces, later) },
		"deleted": func(dir string) func() { return func() { _ = os.Remove(filepath.Join(dir, "r.csv")) } },
	} {
		dir := t.TempDir()
		writeFile(t, dir, "r.csv", tenProvinces)
		c, m := newTestSourceFS(t, newRewritingFS(dir, "r.csv", rewrite(dir)), dir, csvSource)
		b, err := Collect(context.Background(), c, m)
		if !errors.Is(err, ErrChanged) || b != nil {
			t.Errorf("%s: %v, %d observations; want the read refused", name, err, len(b.Observations))
			continue
		}
		wantContains(t, err.Error(), "source src: r.csv: changed while it was read")
	}
	dir := t.TempDir()
	writeFile(t, dir, "r.csv", tenProvinces)
	c, m := newTestSourceFS(t, newRewritingFS(dir, "r.csv", func() {}), dir, csvSource)
	if b := collect(t, c, m); len(b.Observations) != 10 {
		t.Errorf("a file left alone: %d observations, want 10", len(b.Observations))
	}
}

// TestFolderFileRewritten: in a folder, a file rewritten while it is read
// fails the whole refresh (the last good data stays), where a file that
// cannot be read is only rejected: serving the folder without that file's
// rows would drop a province that did report.
func TestFolderFileRewritten(t *testing.T) {
	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, "in"), 0o755); err != nil {
		t.Fatal(err)
	}
	for i, p := range []string{"Hà Nội", "Huế", "Đà Nẵng"} {
		writeFile(t, dir, fmt.Sprintf("in/%d.csv", i), fmt.Sprintf("Tỉnh;Kỳ;Số\n%s;10/2025;%d\n", p, i))
	}
	rewrite := overwrite(t, dir, "in/1.csv", "Tỉnh;Kỳ;Số\nHuế;10/2025;", time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC))
	c, m := newTestSourceFS(t, newRewritingFS(dir, "in/1.csv", rewrite), dir, "collector: csv\nconfig:\n  path: in\n  delimiter: \";\"\n  mapping: {kpi: vneid_accounts, date: Kỳ, value: Số, dimensions: {province: Tỉnh}}")
	_, err := Collect(context.Background(), c, m)
	if !errors.Is(err, ErrChanged) || !strings.HasPrefix(err.Error(), "source src: in/1.csv: changed while it was read") {
		t.Errorf("got %v, want the refresh failed on in/1.csv", err)
	}
}

// TestOtherReadersWhileRewritten: workbooks, JSON files and task lists are
// checked the same way.
func TestOtherReadersWhileRewritten(t *testing.T) {
	later := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	for file, source := range map[string]string{
		"r.xlsx":  "collector: excel\nconfig:\n  path: r.xlsx\n  mapping: {kpi: vneid_accounts, date: Kỳ, value: Số, dimensions: {province: Tỉnh}}",
		"r.json":  "collector: json\nconfig:\n  path: r.json\n  mapping: {kpi: vneid_accounts, date: ky, value: so, dimensions: {province: tinh}}",
		"t.csv":   "collector: tasks\nconfig:\n  path: t.csv\n  delimiter: \";\"\n  columns: {id: Mã, title: Nhiệm vụ, owner: Đơn vị, due: Hạn, status: Trạng thái, done: Xong}",
		"t.yaml":  "collector: tasks\nconfig:\n  path: t.yaml",
		"t2.xlsx": "collector: tasks\nconfig:\n  path: t2.xlsx\n  columns: {id: Mã, title: Nhiệm vụ, owner: Đơn vị, due: Hạn, status: Trạng thái, done: Xong}",
	} {
		dir := t.TempDir()
		switch file {
		case "r.xlsx":
			writeWorkbook(t, dir, file, map[string][][]any{"S": {{"Tỉnh", "Kỳ", "Số"}, {"Hà Nội", "10/2025", 1}}}, []string{"S"})
		case "t2.xlsx":
			writeWorkbook(t, dir, file, map[string][][]any{"S": {{"Mã", "Nhiệm vụ", "Đơn vị", "Hạn", "Trạng thái", "Xong"}, {"NV-1", "A", "BCA", "30/06/2025", "Đang thực hiện", ""}}}, []string{"S"})
		case "r.json":
			writeFile(t, dir, file, `[{"tinh": "Hà Nội", "ky": "2025-10", "so": 1}]`)
		case "t.csv":
			writeFile(t, dir, file, "Mã;Nhiệm vụ;Đơn vị;Hạn;Trạng thái;Xong\nNV-1;A;BCA;30/06/2025;Đang thực hiện;\n")
		case "t.yaml":
			writeFile(t, dir, file, "- {id: NV-1, title: A, owner: BCA, due: 2025-06-30, status: in_progress}\n")
		}
		data, err := os.ReadFile(filepath.Join(dir, file))
		if err != nil {
			t.Fatal(err)
		}
		c, m := newTestSourceFS(t, newRewritingFS(dir, file, overwrite(t, dir, file, string(data), later)), dir, source)
		if _, err := Collect(context.Background(), c, m); !errors.Is(err, ErrChanged) || !strings.Contains(err.Error(), "source src: "+file+": changed while it was read") {
			t.Errorf("%s: got %v, want the read refused", file, err)
		}
	}
}
