// Package logging builds the go-kit logger behind --log.level and
// --log.format, and bridges it to log/slog for libraries that take a
// *slog.Logger (exporter-toolkit), so every line comes out the same way.
package logging

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"runtime"
	"strconv"

	"github.com/go-kit/log"
	"github.com/go-kit/log/level"
)

// Levels and Formats are the accepted flag values.
var (
	Levels  = []string{"debug", "info", "warn", "error"}
	Formats = []string{"logfmt", "json"}
)

// New returns a logger writing to w in format, dropping lines below lvl, and
// a *slog.Logger writing the same way for libraries that want one.
func New(w io.Writer, lvl, format string) (log.Logger, *slog.Logger, error) {
	var l log.Logger
	switch format {
	case "logfmt":
		l = log.NewLogfmtLogger(log.NewSyncWriter(w))
	case "json":
		l = log.NewJSONLogger(log.NewSyncWriter(w))
	default:
		return nil, nil, fmt.Errorf("unknown log format %q (want logfmt or json)", format)
	}
	opt, err := levelOption(lvl)
	if err != nil {
		return nil, nil, err
	}
	l = log.With(level.NewFilter(l, opt), "ts", log.DefaultTimestampUTC)
	return log.With(l, "caller", log.DefaultCaller), slog.New(&handler{l: l}), nil
}

func levelOption(lvl string) (level.Option, error) {
	switch lvl {
	case "debug":
		return level.AllowDebug(), nil
	case "info":
		return level.AllowInfo(), nil
	case "warn":
		return level.AllowWarn(), nil
	case "error":
		return level.AllowError(), nil
	}
	return nil, fmt.Errorf("unknown log level %q (want debug, info, warn or error)", lvl)
}

type handler struct {
	l     log.Logger
	attrs []any
}

func (h *handler) Enabled(context.Context, slog.Level) bool { return true }

func (h *handler) Handle(_ context.Context, r slog.Record) error {
	kv := append([]any{}, h.attrs...)
	if r.PC != 0 {
		f, _ := runtime.CallersFrames([]uintptr{r.PC}).Next()
		kv = append(kv, "caller", filepath.Base(f.File)+":"+strconv.Itoa(f.Line))
	}
	kv = append(kv, "msg", r.Message)
	r.Attrs(func(a slog.Attr) bool {
		kv = append(kv, a.Key, a.Value.Resolve().Any())
		return true
	})
	return levelLogger(h.l, r.Level).Log(kv...)
}

func levelLogger(l log.Logger, lv slog.Level) log.Logger {
	switch {
	case lv >= slog.LevelError:
		return level.Error(l)
	case lv >= slog.LevelWarn:
		return level.Warn(l)
	case lv >= slog.LevelInfo:
		return level.Info(l)
	}
	return level.Debug(l)
}

func (h *handler) WithAttrs(as []slog.Attr) slog.Handler {
	n := &handler{l: h.l, attrs: append([]any{}, h.attrs...)}
	for _, a := range as {
		n.attrs = append(n.attrs, a.Key, a.Value.Resolve().Any())
	}
	return n
}

// WithGroup flattens groups: logfmt has no nesting.
func (h *handler) WithGroup(string) slog.Handler { return h }
