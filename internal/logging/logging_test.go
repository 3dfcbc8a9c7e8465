package logging

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/go-kit/log/level"
)

func TestLevelsAndFormats(t *testing.T) {
	var buf bytes.Buffer
	l, s, err := New(&buf, "warn", "logfmt")
	if err != nil {
		t.Fatal(err)
	}
	level.Info(l).Log("msg", "hidden")
	level.Warn(l).Log("msg", "shown", "source", "csv")
	s.Info("hidden too")
	s.Error("from slog", "address", "127.0.0.1:1")
	out := buf.String()
	if strings.Contains(out, "hidden") {
		t.Errorf("lines below warn were kept:\n%s", out)
	}
	for _, want := range []string{`level=warn`, `msg=shown source=csv`, `caller=logging_test.go:`, `level=error`, `msg="from slog" address=127.0.0.1:1`} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "caller=logging.go") {
		t.Errorf("slog lines must name their own caller, not the bridge:\n%s", out)
	}

	buf.Reset()
	l, _, err = New(&buf, "debug", "json")
	if err != nil {
		t.Fatal(err)
	}
	level.Debug(l).Log("msg", "hello")
	var m map[string]any
	if err := json.Unmarshal(buf.Bytes(), &m); err != nil || m["msg"] != "hello" || m["level"] != "debug" {
		t.Errorf("json line %q: %v", buf.String(), err)
	}
	if _, _, err := New(&buf, "loud", "logfmt"); err == nil {
		t.Error("an unknown level is an error")
	}
}
