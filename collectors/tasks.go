package collectors

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"
	"unicode/utf8"

	"gopkg.in/yaml.v3"

	"github.com/kpiwatch/kpiwatch/catalogue"
	"github.com/kpiwatch/kpiwatch/units"
)

func init() { Register("tasks", newTasks) }

// Task statuses, as served in the task_status label.
const (
	TaskNotStarted = "not_started"
	TaskInProgress = "in_progress"
	TaskDone       = "done"
	TaskCancelled  = "cancelled"
)

// TaskStatuses lists the statuses a task may have.
var TaskStatuses = []string{TaskNotStarted, TaskInProgress, TaskDone, TaskCancelled}

// taskStatusWords are the ways roadmaps write each status, normalised as
// units.Normalise does (no diacritics, lower case).
var taskStatusWords = map[string]string{
	"not started": TaskNotStarted, "chua thuc hien": TaskNotStarted, "chua trien khai": TaskNotStarted,
	"in progress": TaskInProgress, "dang thuc hien": TaskInProgress, "dang trien khai": TaskInProgress,
	"done": TaskDone, "completed": TaskDone, "hoan thanh": TaskDone, "da hoan thanh": TaskDone,
	"cancelled": TaskCancelled, "canceled": TaskCancelled, "da huy": TaskCancelled, "dung thuc hien": TaskCancelled,
}

// tasksConfig is a roadmap: a CSV file, a workbook, or a YAML or JSON list
// of tasks.
type tasksConfig struct {
	Path string `yaml:"path"`
	// Format is csv, excel, yaml or json; by default the file's extension
	// says.
	Format    string `yaml:"format"`
	Delimiter string `yaml:"delimiter"` // csv
	// HeaderRow is the CSV line that holds the header (1 by default): the
	// lines above it are a form's title, not data.
	HeaderRow int       `yaml:"header_row"`
	Sheet     sheetSpec `yaml:"sheet"` // excel
	// Items is the dotted path of keys to the list of tasks in a YAML or
	// JSON document (data.items); by default the document itself, or its
	// "tasks" key.
	Items string `yaml:"items"`
	// Columns names the header of each field in a CSV file or a sheet, or
	// the key of each field in a YAML or JSON task. Without it, YAML and
	// JSON tasks use the field names themselves and any other key is an
	// error (a misspelt field is not dropped in silence); with it, keys it
	// does not name are left alone, as APIs send more than tasks need.
	Columns    taskColumns `yaml:"columns"`
	DateFormat string      `yaml:"date_format"`
	// Statuses maps a roadmap's own status words to a task status.
	Statuses map[string]string `yaml:"statuses"`
}

type taskColumns struct {
	ID     string `yaml:"id"`
	Title  string `yaml:"title"`
	Owner  string `yaml:"owner"`
	Block  string `yaml:"block"`
	Due    string `yaml:"due"`
	Status string `yaml:"status"`
	Done   string `yaml:"done"`
}

// taskFields are the fields of a task, in the order of taskColumns.
var taskFields = []string{"id", "title", "owner", "block", "due", "status", "done"}

func (c taskColumns) list() []string {
	cols := []string{c.ID, c.Title, c.Owner, c.Block, c.Due, c.Status, c.Done}
	for i, col := range cols {
		if col == "" {
			cols[i] = taskFields[i]
		}
	}
	return cols
}

type tasksCollector struct {
	cfg      tasksConfig
	env      Env
	sep      rune
	statuses map[string]string
}

func newTasks(node *yaml.Node, env Env) (Collector, []catalogue.FieldError) {
	var cfg tasksConfig
	if errs := catalogue.DecodeStrict(node, &cfg, "config"); errs != nil {
		return nil, errs
	}
	var errs []catalogue.FieldError
	add := func(p, msg string) { errs = append(errs, catalogue.FieldError{Path: "config." + p, Msg: msg}) }
	if cfg.Path == "" {
		add("path", "required")
	}
	if cfg.Format == "" {
		switch strings.ToLower(filepath.Ext(cfg.Path)) {
		case ".csv", ".txt":
			cfg.Format = "csv"
		case ".xlsx", ".xlsm":
			cfg.Format = "excel"
		case ".yaml", ".yml":
			cfg.Format = "yaml"
		case ".json":
			cfg.Format = "json"
		}
	}
	if !slices.Contains([]string{"csv", "excel", "yaml", "json"}, cfg.Format) {
		add("format", fmt.Sprintf("%q is not csv, excel, yaml or json (nor can the file's extension say)", cfg.Format))
	}
	if cfg.HeaderRow < 0 || cfg.HeaderRow > 0 && cfg.Format != "csv" {
		add("header_row", "must be a line number of a CSV file (a sheet's is sheet.header_row)")
	}
	if cfg.Items != "" && cfg.Format != "yaml" && cfg.Format != "json" {
		add("items", "only a YAML or JSON roadmap has a path to its list")
	}
	sep, ok := csvDelimiter(cfg.Delimiter)
	if !ok {
		add("delimiter", fmt.Sprintf("%q must be one character other than a quote or newline", cfg.Delimiter))
	}
	errs = append(errs, cfg.Sheet.check("config.sheet")...)
	statuses := map[string]string{}
	for k, v := range taskStatusWords {
		statuses[k] = v
	}
	for word, status := range cfg.Statuses {
		if !slices.Contains(TaskStatuses, status) {
			add("statuses."+word, fmt.Sprintf("%q is not a task status (have %v)", status, TaskStatuses))
		}
		statuses[units.Normalise(word)] = status
	}
	if len(errs) > 0 {
		return nil, errs
	}
	return &tasksCollector{cfg: cfg, env: env, sep: sep, statuses: statuses}, nil
}

// csvDelimiter reads a delimiter setting; empty means a comma.
func csvDelimiter(s string) (rune, bool) {
	if s == "" {
		return ',', true
	}
	r, n := utf8.DecodeRuneInString(s)
	return r, n == len(s) && r != '"' && r != '\n' && r != '\r' && r != utf8.RuneError
}

// table is a header and numbered rows of cells, from a CSV file, a sheet or
// a YAML list. Next returns io.EOF after the last row, and a *RowError for
// a row that cannot be read (the rest still can).
type table interface {
	Header() []string
	Next() ([]string, int, error)
	Close() error
}

func (c *tasksCollector) open(ctx context.Context) (table, error) {
	switch c.cfg.Format {
	case "excel":
		return openSheet(ctx, c.env.Dir, c.cfg.Path, c.cfg.Sheet, c.env.Limits)
	case "yaml", "json":
		return openDocTasks(ctx, c.env.Dir, c.cfg, c.env.Limits)
	}
	return openCSVTable(ctx, c.env.Dir, c.cfg.Path, c.sep, max(c.cfg.HeaderRow, 1), c.env.Limits)
}

// Collect reads the task list, accepted only if the file did not change
// while it was read (readUnchanged).
func (c *tasksCollector) Collect(ctx context.Context, m *Mapper) (*Batch, error) {
	b, err := readUnchanged(c.env.Dir, c.cfg.Path, func() (*Batch, error) { return c.collect(ctx, m) })
	if errors.Is(err, ErrChanged) {
		return nil, fmt.Errorf("source %s: %s: %w", m.Source(), c.cfg.Path, err)
	}
	return b, err
}

func (c *tasksCollector) collect(ctx context.Context, m *Mapper) (*Batch, error) {
	t, err := c.open(ctx)
	if err != nil {
		return nil, fmt.Errorf("source %s: %w", m.Source(), err)
	}
	defer t.Close()
	header := t.Header()
	cols := c.cfg.Columns.list()
	index := make([]int, len(cols)) // per field, its column or -1
	var missing []string
	for i, col := range cols {
		index[i] = slices.IndexFunc(header, func(h string) bool { return strings.TrimSpace(strings.TrimPrefix(h, "\ufeff")) == col })
		required := i == 0 || i == 2 || i == 4 // id, owner, due
		if index[i] < 0 && required {
			missing = append(missing, col)
		}
	}
	if len(missing) > 0 {
		return nil, &RowError{Location{Source: m.Source(), File: c.cfg.Path, Row: max(c.cfg.Sheet.HeaderRow, c.cfg.HeaderRow)}, fmt.Errorf("no column %q (the header has %q)", missing, header)}
	}
	batch := &Batch{}
	seen := map[string]int{}
	for n := 1; ; n++ {
		if n%4096 == 0 && ctx.Err() != nil {
			return nil, ctx.Err()
		}
		cells, row, err := t.Next()
		var re *RowError
		switch {
		case errors.Is(err, io.EOF):
			return batch, nil
		case errors.As(err, &re):
			re.Loc.Source = m.Source()
			batch.Rejected = append(batch.Rejected, re)
			continue
		case err != nil:
			return nil, fmt.Errorf("source %s: %w", m.Source(), err)
		}
		fields := make([]string, len(index))
		for i, col := range index {
			if col >= 0 && col < len(cells) {
				fields[i] = strings.TrimSpace(cells[col])
			}
		}
		if strings.Join(fields, "") == "" {
			continue
		}
		loc := Location{Source: m.Source(), File: c.cfg.Path, Row: row}
		task, err := c.task(m, fields, func(field int) Location {
			loc.Column = cols[field]
			return loc
		})
		if err == nil && seen[task.ID] > 0 {
			err = &RowError{Location{Source: m.Source(), File: c.cfg.Path, Row: row, Column: cols[0]}, fmt.Errorf("task %q is also in row %d", task.ID, seen[task.ID])}
		}
		if err != nil {
			batch.Rejected = append(batch.Rejected, err)
			continue
		}
		seen[task.ID] = row
		batch.Tasks = append(batch.Tasks, task)
	}
}

// task reads one task from its fields, in the order of taskFields.
func (c *tasksCollector) task(m *Mapper, f []string, at func(field int) Location) (Task, error) {
	fail := func(field int, format string, args ...any) (Task, error) {
		return Task{}, &RowError{at(field), fmt.Errorf(format, args...)}
	}
	t := Task{ID: f[0], Title: f[1]}
	if t.ID == "" {
		return fail(0, "empty task id")
	}
	// Served as label values, which must be UTF-8.
	for i, v := range f {
		if !utf8.ValidString(v) {
			desc, _ := legacyEncoding(v)
			return fail(i, "not valid UTF-8 text: %s", desc)
		}
	}
	owner, ok := m.Owner(f[2])
	if !ok {
		return fail(2, "unknown owner %q (not an owner id, name or alias)", f[2])
	}
	t.Owner, t.Block = owner.ID, owner.Block
	if f[3] != "" {
		if _, ok := m.cat.Block(f[3]); !ok {
			return fail(3, "unknown block %q (have %v)", f[3], m.cat.BlockIDs())
		}
		t.Block = f[3]
	}
	var err error
	if f[4] == "" {
		return fail(4, "empty due date")
	}
	if t.Due, err = ParseDate(f[4], c.cfg.DateFormat); err != nil {
		return fail(4, "due date: %v", err)
	}
	// The done field is a date, or a yes/no flag where a roadmap does not
	// keep the date.
	flag, isFlag := doneFlags[units.Normalise(f[6])]
	if f[6] != "" && !isFlag {
		if t.Done, err = ParseDate(f[6], c.cfg.DateFormat); err != nil {
			return fail(6, "date done: %v (or a flag: true, false, yes, no, x)", err)
		}
	}
	done := !t.Done.IsZero() || flag
	switch status, known := c.statuses[units.Normalise(f[5])]; {
	case f[5] == "" && !done:
		t.Status = TaskNotStarted
	case f[5] == "":
		t.Status = TaskDone
	case isFlag && flag != (status == TaskDone):
		return fail(6, "done is %q, but the status is %q", f[6], f[5])
	case !known:
		return fail(5, "unknown status %q (have %v, or map it under config.statuses)", f[5], TaskStatuses)
	case status != TaskDone && !t.Done.IsZero():
		return fail(6, "a date done, but the status is %q", f[5])
	default:
		t.Status = status
	}
	return t, nil
}

// doneFlags are the yes/no words a roadmap may give for done, normalised as
// units.Normalise does.
var doneFlags = map[string]bool{"true": true, "yes": true, "x": true, "co": true, "false": false, "no": false, "khong": false}

// csvTable streams a CSV file.
type csvTable struct {
	file   fs.File
	r      *csv.Reader
	name   string
	header []string
}

// openCSVTable opens a CSV file whose header is on line headerRow.
func openCSVTable(ctx context.Context, dir fs.FS, path string, sep rune, headerRow int, lim Limits) (*csvTable, error) {
	f, err := OpenFile(dir, path)
	if err != nil {
		return nil, err
	}
	lim = lim.WithDefaults()
	r := csv.NewReader(textReader(ctx, f, path, lim))
	r.Comma = sep
	r.FieldsPerRecord = -1
	header, _, err := csvHeader(r, path, headerRow)
	if err != nil {
		f.Close()
		return nil, err
	}
	return &csvTable{file: f, r: r, name: path, header: header}, nil
}

func (t *csvTable) Header() []string { return t.header }

func (t *csvTable) Next() ([]string, int, error) {
	rec, err := t.r.Read()
	var pe *csv.ParseError
	switch {
	case errors.As(err, &pe):
		return nil, pe.StartLine, &RowError{Location{File: t.name, Row: pe.StartLine}, pe.Err}
	case err != nil:
		return nil, 0, err
	}
	line, _ := t.r.FieldPos(0)
	if col, err := checkText(rec); err != nil {
		return nil, line, &RowError{Location{File: t.name, Row: line, Column: t.header[min(col, len(t.header)-1)]}, err}
	}
	return rec, line, nil
}

func (t *csvTable) Close() error { return t.file.Close() }

// docTable is a YAML or JSON list of tasks (the document itself, under a
// "tasks" key, or under the dotted path in items); a task's row is the line
// it starts on, its columns the keys of its fields.
type docTable struct {
	header  []string
	rows    [][]string
	lines   []int
	invalid []error // per row, a problem found while reading it
	next    int
}

func openDocTasks(ctx context.Context, dir fs.FS, cfg tasksConfig, lim Limits) (*docTable, error) {
	path := cfg.Path
	f, err := OpenFile(dir, path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	// JSON is YAML's flow style: one decoder reads both, and says on which
	// line each task starts; it refuses a key given twice in one object.
	var doc yaml.Node
	if err := yaml.NewDecoder(NewBoundedReader(ctx, f, path, min(lim.WithDefaults().MaxBytes, maxHeldXML), 0)).Decode(&doc); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	list := &doc
	if list.Kind == yaml.DocumentNode && len(list.Content) == 1 {
		list = list.Content[0]
	}
	keys := []string{"tasks"}
	if cfg.Items != "" {
		keys = strings.Split(cfg.Items, ".")
	}
	for i, key := range keys {
		if list.Kind != yaml.MappingNode {
			break
		}
		next := mappingValue(list, key)
		if next == nil && (cfg.Items != "" || i > 0) {
			return nil, fmt.Errorf("%s:%d: no key %q on the way to the list of tasks (items: %s)", path, list.Line, key, cfg.Items)
		}
		if next == nil {
			break
		}
		list = next
	}
	if list.Kind != yaml.SequenceNode {
		return nil, fmt.Errorf("%s:%d: want a list of tasks, or a list under \"tasks\" (or say where in items)", path, list.Line)
	}
	cols := cfg.Columns.list()
	strict := cfg.Columns == taskColumns{}
	t := &docTable{header: cols}
	for _, item := range list.Content {
		row := make([]string, len(cols))
		var problem error
		if item.Kind != yaml.MappingNode {
			problem = &RowError{Location{File: path, Row: item.Line}, errors.New("a task must be a mapping of " + strings.Join(cols, ", "))}
		}
		seen := map[string]int{}
		for i := 0; problem == nil && i+1 < len(item.Content); i += 2 {
			key, val := item.Content[i], item.Content[i+1]
			field := slices.Index(cols, key.Value)
			switch {
			case seen[key.Value] > 0:
				problem = &RowError{Location{File: path, Row: key.Line, Column: key.Value}, fmt.Errorf("given twice in one task (first on line %d): which one holds is not for kpiwatch to guess", seen[key.Value])}
			case field < 0 && strict:
				problem = &RowError{Location{File: path, Row: item.Line, Column: key.Value}, fmt.Errorf("unknown field (have %v, or name the keys under config.columns)", cols)}
			case field < 0:
			case val.Kind != yaml.ScalarNode:
				problem = &RowError{Location{File: path, Row: item.Line, Column: key.Value}, errors.New("must be a single value")}
			case val.Tag != "!!null":
				row[field] = val.Value
			}
			seen[key.Value] = key.Line
		}
		t.rows = append(t.rows, row)
		t.lines = append(t.lines, item.Line)
		t.invalid = append(t.invalid, problem)
	}
	return t, nil
}

// mappingValue is the value of key in a mapping node, nil when it has none.
func mappingValue(m *yaml.Node, key string) *yaml.Node {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i+1]
		}
	}
	return nil
}

func (t *docTable) Header() []string { return t.header }

func (t *docTable) Next() ([]string, int, error) {
	if t.next >= len(t.rows) {
		return nil, 0, io.EOF
	}
	i := t.next
	t.next++
	if t.invalid[i] != nil {
		return nil, t.lines[i], t.invalid[i]
	}
	return t.rows[i], t.lines[i], nil
}

func (t *docTable) Close() error { return nil }

// TaskCount counts tasks of one owner and block (and status, in ByStatus).
type TaskCount struct {
	Owner, Block, Status string
	Count                int
}

// OverdueTask is a task whose due date has passed while it is not done.
type OverdueTask struct {
	Task, Owner, Block string
	Due                time.Time // the due day (its start, UTC)
	Days               int       // whole days since the due date
}

// TaskSummary is what the exporter serves about a roadmap, each list sorted.
type TaskSummary struct {
	ByStatus []TaskCount // by owner, block and status
	// Overdue and DoneLate hold every owner and block that has tasks, with a
	// zero count where none are, so a dashboard shows 0 rather than nothing.
	Overdue  []TaskCount
	DoneLate []TaskCount
	Tasks    []OverdueTask
}

// SummariseTasks counts tasks by owner, block and status, and finds the
// overdue ones (due date passed, neither done nor cancelled) and those done
// after their due date. Dates are whole days in UTC: a task due on the 30th
// is one day overdue on the 1st.
func SummariseTasks(tasks []Task, now time.Time) TaskSummary {
	today := day(now)
	type group struct{ owner, block string }
	byStatus := map[TaskCount]int{}
	overdue, late := map[group]int{}, map[group]int{}
	var s TaskSummary
	for _, t := range tasks {
		g := group{t.Owner, t.Block}
		byStatus[TaskCount{Owner: t.Owner, Block: t.Block, Status: t.Status}]++
		overdue[g] += 0
		late[g] += 0
		due := day(t.Due)
		switch {
		case t.Status == TaskDone:
			if !t.Done.IsZero() && day(t.Done).After(due) {
				late[g]++
			}
		case t.Status != TaskCancelled && today.After(due):
			overdue[g]++
			s.Tasks = append(s.Tasks, OverdueTask{Task: t.ID, Owner: t.Owner, Block: t.Block, Due: due, Days: int(today.Sub(due) / (24 * time.Hour))})
		}
	}
	for c, n := range byStatus {
		c.Count = n
		s.ByStatus = append(s.ByStatus, c)
	}
	for g, n := range overdue {
		s.Overdue = append(s.Overdue, TaskCount{Owner: g.owner, Block: g.block, Count: n})
	}
	for g, n := range late {
		s.DoneLate = append(s.DoneLate, TaskCount{Owner: g.owner, Block: g.block, Count: n})
	}
	for _, l := range [][]TaskCount{s.ByStatus, s.Overdue, s.DoneLate} {
		sort.Slice(l, func(i, j int) bool {
			a, b := l[i], l[j]
			return a.Owner < b.Owner || a.Owner == b.Owner && (a.Block < b.Block || a.Block == b.Block && a.Status < b.Status)
		})
	}
	sort.Slice(s.Tasks, func(i, j int) bool { return s.Tasks[i].Task < s.Tasks[j].Task })
	return s
}

func day(t time.Time) time.Time {
	y, m, d := t.UTC().Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}
