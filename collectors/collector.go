// Package collectors reads observations from the places KPI figures live.
// Each collector registers a name and a factory in init, node_exporter style,
// so adding a collector is adding one file. Collectors only read: turning a
// record into an observation (KPI, units, numbers, dates) is the shared
// Mapper's job, so every collector reports bad input the same way.
package collectors

import (
	"context"
	"fmt"
	"io/fs"
	"sort"
	"sync"
	"time"

	"github.com/go-kit/log"
	"gopkg.in/yaml.v3"

	"github.com/kpiwatch/kpiwatch/catalogue"
)

// Observation is one reported value of one series.
type Observation struct {
	KPI    int      // index into the catalogue's KPIs
	Labels []string // dimension values, in the order of the KPI's dimensions
	Period time.Time
	Value  float64
	// Num and Den are set for ratio KPIs; Value is then Num/Den.
	Num, Den float64
	// Unit is the name of the listed unit (province, commune, ...) the row
	// names, former or in force, once matched, so that rows of two former
	// units roll up while a repeated row is caught; "" for none.
	Unit string
	// Merged is set when Unit is a former unit.
	Merged *Merger
	// ReportedAt is the day the report was sent, where the source says
	// (mapping.reported_at); zero otherwise.
	ReportedAt time.Time
	Loc        Location
}

// Merger is how a former unit became part of one in force.
type Merger struct {
	Level string    // the unit's level (dimension)
	Into  string    // the unit in force it is part of
	On    time.Time // the day its merger took effect
}

// Task is one roadmap task.
type Task struct {
	ID, Title, Owner, Block, Status string
	Due, Done                       time.Time // Done is zero while not done
}

// Batch is what one refresh of a source yields.
type Batch struct {
	Observations []Observation
	Tasks        []Task
	// Rejected are the rows that could not be used, each with its location.
	Rejected []error
	// Skipped counts the blank and totals rows passed over.
	Skipped int
}

// Add keeps what Binding.Row made of a record: the observation, nothing for
// a skipped (blank or totals) row, or the rejected row's error. It reports
// whether an observation was kept.
func (b *Batch) Add(obs Observation, skip bool, err error) bool {
	switch {
	case err == errDeferred: // comes back through Mapper.Settle
	case err != nil:
		b.Rejected = append(b.Rejected, err)
	case !skip:
		b.Observations = append(b.Observations, obs)
		return true
	default:
		b.Skipped++
	}
	return false
}

// Collector reads one source. Collect must honour ctx's deadline.
type Collector interface {
	Collect(ctx context.Context, m *Mapper) (*Batch, error)
}

// Collect reads a source with its collector, as every refresh does: the
// collector's rows, then those Mapper.Settle could only map once the whole
// source was read, less the rows of a province reported under two names of
// units merged into it (rejectMergedTwice). A read whose rows made more
// series than the source's max_series fails (Mapper.Err), even from a
// collector that did not stop at it.
func Collect(ctx context.Context, c Collector, m *Mapper) (*Batch, error) {
	b, err := c.Collect(ctx, m)
	if err == nil {
		err = m.Err()
	}
	if err != nil {
		return nil, err
	}
	m.Settle(b)
	rejectMergedTwice(b)
	return b, nil
}

// Env is what a factory may use to build a collector.
type Env struct {
	Source catalogue.Source
	Dir    fs.FS // where relative paths resolve
	// Root is the folder Dir is, for settings that libraries read by path
	// (http_config's files); "" for the working directory.
	Root   string
	Logger log.Logger
	// Limits bound every read; zero fields take DefaultLimits.
	Limits Limits
}

// Factory builds a collector from its source's config node; problems are
// returned with paths under "config".
type Factory func(cfg *yaml.Node, env Env) (Collector, []catalogue.FieldError)

var (
	mu        sync.RWMutex
	factories = map[string]Factory{}
)

// Register makes a collector available under name. It is called from init.
func Register(name string, f Factory) {
	mu.Lock()
	defer mu.Unlock()
	if _, dup := factories[name]; dup {
		panic("collectors: " + name + " registered twice")
	}
	factories[name] = f
}

// Names lists the registered collectors.
func Names() []string {
	mu.RLock()
	defer mu.RUnlock()
	names := make([]string, 0, len(factories))
	for n := range factories {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// New builds the collector of a source.
func New(env Env) (Collector, []catalogue.FieldError) {
	mu.RLock()
	f, ok := factories[env.Source.Collector]
	mu.RUnlock()
	if !ok {
		return nil, []catalogue.FieldError{{Path: "collector", Msg: fmt.Sprintf("%q is not a collector (have %v)", env.Source.Collector, Names())}}
	}
	if env.Logger == nil {
		env.Logger = log.NewNopLogger()
	}
	env.Limits = env.Limits.WithDefaults()
	return f(&env.Source.Config, env)
}

// Check is the catalogue.SourceChecker backed by the registry.
func Check(src catalogue.Source, dir fs.FS) []catalogue.FieldError {
	_, errs := New(Env{Source: src, Dir: dir})
	return errs
}
