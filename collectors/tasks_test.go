package collectors

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"
)

func writeFile(t testing.TB, dir, name, data string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
}

func date(s string) time.Time {
	d, err := time.Parse(time.DateOnly, s)
	if err != nil {
		panic(err)
	}
	return d
}

// The same roadmap as CSV, as a workbook and as YAML must give the same tasks.
var wantRoadmap = []Task{
	{ID: "NV-01", Title: "Kết nối CSDL dân cư với CSDL bảo hiểm", Owner: "mps", Block: "government", Status: TaskDone, Due: date("2025-06-30"), Done: date("2025-06-20")},
	{ID: "NV-02", Title: "Sổ sức khỏe điện tử trên VNeID", Owner: "moh", Block: "government", Status: TaskInProgress, Due: date("2025-09-30")},
	{ID: "NV-03", Title: "Báo cáo Quốc hội", Owner: "mps", Block: "national_assembly", Status: TaskNotStarted, Due: date("2025-12-31")},
}

func TestTasksCSV(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "lo-trinh.csv", "\ufeffMã;Nhiệm vụ;Đơn vị chủ trì;Khối;Thời hạn;Trạng thái;Ngày hoàn thành\n"+
		"NV-01;Kết nối CSDL dân cư với CSDL bảo hiểm;BCA;;30/06/2025;Đã hoàn thành;20/06/2025\n"+
		"NV-02;Sổ sức khỏe điện tử trên VNeID;Bộ Y tế;;2025-09-30;Đang thực hiện;\n"+
		";;;;;;\n"+
		"NV-03;Báo cáo Quốc hội;mps;national_assembly;31/12/2025;;\n")
	c, m := newTestSource(t, dir, `
collector: tasks
config:
  path: lo-trinh.csv
  delimiter: ";"
  columns: {id: Mã, title: Nhiệm vụ, owner: Đơn vị chủ trì, block: Khối, due: Thời hạn, status: Trạng thái, done: Ngày hoàn thành}
`)
	b := collect(t, c, m)
	if len(b.Rejected) > 0 {
		t.Fatalf("rejected: %s", errorTexts(b.Rejected))
	}
	if !reflect.DeepEqual(b.Tasks, wantRoadmap) {
		t.Errorf("got  %+v\nwant %+v", b.Tasks, wantRoadmap)
	}
}

func TestTasksExcel(t *testing.T) {
	dir := t.TempDir()
	writeWorkbook(t, dir, "lo-trinh.xlsx", map[string][][]any{"Nhiệm vụ": {
		{"LỘ TRÌNH ĐỀ ÁN 06"},
		{"id", "title", "owner", "block", "due", "status", "done"},
		{"NV-01", "Kết nối CSDL dân cư với CSDL bảo hiểm", "Bộ Công an", nil, date("2025-06-30"), "Hoàn thành", date("2025-06-20")},
		{"NV-02", "Sổ sức khỏe điện tử trên VNeID", "BYT", nil, "30/09/2025", "in progress"},
		{"NV-03", "Báo cáo Quốc hội", "mps", "national_assembly", "31/12/2025"},
	}}, []string{"Nhiệm vụ"})
	c, m := newTestSource(t, dir, `
collector: tasks
config:
  path: lo-trinh.xlsx
  sheet: {header_row: 2}
`)
	b := collect(t, c, m)
	if len(b.Rejected) > 0 {
		t.Fatalf("rejected: %s", errorTexts(b.Rejected))
	}
	if !reflect.DeepEqual(b.Tasks, wantRoadmap) {
		t.Errorf("got  %+v\nwant %+v", b.Tasks, wantRoadmap)
	}
}

func TestTasksYAML(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "roadmap.yaml", `tasks:
  - id: NV-01
    title: Kết nối CSDL dân cư với CSDL bảo hiểm
    owner: mps
    due: 2025-06-30
    status: done
    done: 2025-06-20
  - {id: NV-02, title: Sổ sức khỏe điện tử trên VNeID, owner: moh, due: 2025-09-30, status: in_progress}
  - id: NV-03
    title: Báo cáo Quốc hội
    owner: mps
    block: national_assembly
    due: 2025-12-31
  - id: NV-04
    owner: mps
    due: sắp tới
  - id: NV-05
    owner: mps
    deadline: 2025-12-31
`)
	c, m := newTestSource(t, dir, `
collector: tasks
config: {path: roadmap.yaml}
`)
	b := collect(t, c, m)
	if !reflect.DeepEqual(b.Tasks, wantRoadmap) {
		t.Errorf("got  %+v\nwant %+v", b.Tasks, wantRoadmap)
	}
	wantContains(t, errorTexts(b.Rejected),
		`source src: roadmap.yaml: row 14, column "due": due date: "sắp tới" is not a date`,
		`source src: roadmap.yaml: row 17, column "deadline": unknown field (have [id title owner block due status done], or name the keys under config.columns)`)
}

func TestTasksBadRows(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "roadmap.csv", "id,owner,due,status,done\n"+
		"T1,mps,cuối quý 3,,\n"+
		"T2,Bộ Tài chính,2025-09-30,,\n"+
		"T3,mps,2025-09-30,tạm dừng,\n"+
		"T4,mps,2025-09-30,đang thực hiện,2025-09-01\n"+
		"T5,mps,2025-09-30,,\n"+
		"T5,moh,2025-10-31,,\n"+
		"T6,mps,2025-09-30,,hôm qua\n"+
		"T7\xff,mps,2025-09-30,,\n")
	c, m := newTestSource(t, dir, `
collector: tasks
config: {path: roadmap.csv}
`)
	b := collect(t, c, m)
	if len(b.Tasks) != 1 || b.Tasks[0].ID != "T5" || b.Tasks[0].Owner != "mps" {
		t.Errorf("tasks %+v, want only the first T5", b.Tasks)
	}
	want := []string{
		`source src: roadmap.csv: row 2, column "due": due date: "cuối quý 3" is not a date`,
		`source src: roadmap.csv: row 3, column "owner": unknown owner "Bộ Tài chính" (not an owner id, name or alias)`,
		`source src: roadmap.csv: row 4, column "status": unknown status "tạm dừng" (have [not_started in_progress done cancelled], or map it under config.statuses)`,
		`source src: roadmap.csv: row 5, column "done": a date done, but the status is "đang thực hiện"`,
		`source src: roadmap.csv: row 7, column "id": task "T5" is also in row 6`,
		`source src: roadmap.csv: row 8, column "done": date done: "hôm qua" is not a date (or a flag: true, false, yes, no, x)`,
		`source src: roadmap.csv: row 9, column "id": not valid UTF-8 text: it is in an 8-bit encoding (Windows-1252, TCVN3 or another); save it as "CSV UTF-8" in Excel, or convert it: iconv -f ENCODING -t UTF-8`,
	}
	if got := errorTexts(b.Rejected); got != errorTexts(toErrors(want)) {
		t.Errorf("got\n%s\nwant\n%s", got, errorTexts(toErrors(want)))
	}
}

func toErrors(msgs []string) []error {
	var errs []error
	for _, m := range msgs {
		errs = append(errs, fmt.Errorf("%s", m))
	}
	return errs
}

func TestTasksMissingColumnAndConfig(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "roadmap.csv", "id,owner,deadline\nT1,mps,2025-01-01\n")
	c, m := newTestSource(t, dir, `
collector: tasks
config: {path: roadmap.csv, statuses: {Tạm dừng: cancelled}}
`)
	_, err := c.Collect(context.Background(), m)
	wantContains(t, fmt.Sprint(err), `source src: roadmap.csv: row 1: no column ["due"] (the header has ["id" "owner" "deadline"])`)
	got := configErrors(t, dir, `
collector: tasks
config: {path: roadmap.txt2, statuses: {Tạm dừng: paused}}
`)
	wantContains(t, got, `config.format: "" is not csv, excel, yaml or json`, `config.statuses.Tạm dừng: "paused" is not a task status`)
}

// A roadmap as a portal's API returns it: JSON, the list nested in its
// envelope, the operator's own key names, keys the tasks do not need, done as
// a yes/no flag; the same tasks as every other shape.
func TestTasksJSON(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "roadmap.json", `{
	"status": "ok",
	"data": {"total": 5, "items": [
		{"ma": "NV-01", "ten": "Kết nối CSDL dân cư với CSDL bảo hiểm", "don_vi": "mps", "han": "2025-06-30",
		 "hoan_thanh": "2025-06-20", "ghi_chu": {"nguoi_nhap": "A"}},
		{"ma": "NV-02", "ten": "Sổ sức khỏe điện tử trên VNeID", "don_vi": "Bộ Y tế", "han": "2025-09-30", "trang_thai": "Đang thực hiện", "hoan_thanh": null},
		{"ma": "NV-03", "ten": "Báo cáo Quốc hội", "don_vi": "mps", "khoi": "national_assembly", "han": "2025-12-31", "hoan_thanh": false},
		{"ma": "NV-04", "don_vi": "mps", "han": "2025-03-31", "hoan_thanh": true},
		{"ma": "NV-05", "don_vi": "mps", "han": "2025-03-31", "trang_thai": "done", "hoan_thanh": false}
	]}
}`)
	c, m := newTestSource(t, dir, `
collector: tasks
config:
  path: roadmap.json
  items: data.items
  columns: {id: ma, title: ten, owner: don_vi, block: khoi, due: han, status: trang_thai, done: hoan_thanh}
`)
	b := collect(t, c, m)
	want := append(append([]Task(nil), wantRoadmap...), Task{ID: "NV-04", Owner: "mps", Block: "government", Status: TaskDone, Due: date("2025-03-31")})
	if !reflect.DeepEqual(b.Tasks, want) {
		t.Errorf("got  %+v\nwant %+v", b.Tasks, want)
	}
	wantContains(t, errorTexts(b.Rejected), `source src: roadmap.json: row 9, column "hoan_thanh": done is "false", but the status is "done"`)
	if len(b.Rejected) != 1 {
		t.Errorf("rejected %s, want one row", errorTexts(b.Rejected))
	}

	// A key given twice in one task is refused with its line, not last-wins.
	writeFile(t, dir, "twice.json", `[{"id": "T1", "owner": "mps",
 "due": "2025-01-01", "due": "2026-01-01"}]`)
	c, m = newTestSource(t, dir, `
collector: tasks
config: {path: twice.json}
`)
	b = collect(t, c, m)
	if len(b.Tasks) != 0 {
		t.Errorf("a task with a key given twice was taken: %+v", b.Tasks)
	}
	wantContains(t, errorTexts(b.Rejected), `source src: twice.json: row 2, column "due": given twice in one task (first on line 2)`)

	// A path that leads nowhere is named.
	c, m = newTestSource(t, dir, `
collector: tasks
config: {path: roadmap.json, items: data.tasks}
`)
	_, err := c.Collect(context.Background(), m)
	wantContains(t, fmt.Sprint(err), `roadmap.json:3: no key "tasks" on the way to the list of tasks (items: data.tasks)`)
}

// A CSV roadmap under a form's title lines: header_row says where the header
// is, and rows keep the file's line numbers.
func TestTasksCSVHeaderRow(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "roadmap.csv", "UBND TỈNH TÂY NINH,,\nLộ trình nhiệm vụ năm 2025,,\n\nid,owner,due,done\nT1,mps,2025-09-30,có\nT2,mps,30/13/2025,\n")
	c, m := newTestSource(t, dir, `
collector: tasks
config: {path: roadmap.csv, header_row: 4}
`)
	b := collect(t, c, m)
	if want := []Task{{ID: "T1", Owner: "mps", Block: "government", Status: TaskDone, Due: date("2025-09-30")}}; !reflect.DeepEqual(b.Tasks, want) {
		t.Errorf("got  %+v\nwant %+v", b.Tasks, want)
	}
	wantContains(t, errorTexts(b.Rejected), `source src: roadmap.csv: row 6, column "due"`)
	got := configErrors(t, dir, `
collector: tasks
config: {path: roadmap.yaml, header_row: 3, items: x}
`)
	wantContains(t, got, `config.header_row: must be a line number of a CSV file`)
	got = configErrors(t, dir, `
collector: tasks
config: {path: roadmap.csv, items: data}
`)
	wantContains(t, got, `config.items: only a YAML or JSON roadmap has a path to its list`)
}

func TestSummariseTasks(t *testing.T) {
	now := time.Date(2025, 10, 10, 15, 0, 0, 0, time.UTC)
	tasks := []Task{
		{ID: "a", Owner: "mps", Block: "government", Status: TaskDone, Due: date("2025-06-30"), Done: date("2025-07-05")},        // done 5 days late
		{ID: "b", Owner: "mps", Block: "government", Status: TaskDone, Due: date("2025-06-30"), Done: date("2025-06-30")},        // on its due day: in time
		{ID: "c", Owner: "mps", Block: "government", Status: TaskInProgress, Due: date("2025-09-30")},                            // 10 days overdue
		{ID: "d", Owner: "mps", Block: "government", Status: TaskNotStarted, Due: date("2025-10-10")},                            // due today: not yet
		{ID: "e", Owner: "moh", Block: "government", Status: TaskNotStarted, Due: date("2025-10-09")},                            // 1 day overdue
		{ID: "f", Owner: "moh", Block: "government", Status: TaskCancelled, Due: date("2025-01-01")},                             // cancelled: never overdue
		{ID: "g", Owner: "mps", Block: "national_assembly", Status: TaskInProgress, Due: date("2026-01-01")},                     // not due
		{ID: "h", Owner: "mps", Block: "government", Status: TaskInProgress, Due: time.Date(2025, 10, 9, 23, 0, 0, 0, time.UTC)}, // due yesterday evening
	}
	got := SummariseTasks(tasks, now)
	want := TaskSummary{
		ByStatus: []TaskCount{
			{"moh", "government", TaskCancelled, 1}, {"moh", "government", TaskNotStarted, 1},
			{"mps", "government", TaskDone, 2}, {"mps", "government", TaskInProgress, 2}, {"mps", "government", TaskNotStarted, 1},
			{"mps", "national_assembly", TaskInProgress, 1},
		},
		Overdue:  []TaskCount{{"moh", "government", "", 1}, {"mps", "government", "", 2}, {"mps", "national_assembly", "", 0}},
		DoneLate: []TaskCount{{"moh", "government", "", 0}, {"mps", "government", "", 1}, {"mps", "national_assembly", "", 0}},
		Tasks: []OverdueTask{{"c", "mps", "government", date("2025-09-30"), 10}, {"e", "moh", "government", date("2025-10-09"), 1},
			{"h", "mps", "government", date("2025-10-09"), 1}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got  %+v\nwant %+v", got, want)
	}
}
