package genfile

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"
)

func TestYAMLAndWrite(t *testing.T) {
	data, err := YAML("# header\n", map[string]any{"groups": []map[string]string{{"name": "a"}}})
	if err != nil {
		t.Fatal(err)
	}
	if want := "# header\ngroups:\n  - name: a\n"; string(data) != want {
		t.Fatalf("YAML = %q, want %q", data, want)
	}
	dir := t.TempDir()
	if err := Write(dir, map[string][]byte{"a/b/c.yml": data, "d.json": []byte("{}")}); err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]string{"a/b/c.yml": string(data), "d.json": "{}"} {
		got, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil || string(got) != want {
			t.Errorf("%s = %q, %v", name, got, err)
		}
	}
}

// TestWriteFileWholeOrNothing: a write that fails half-way (as on a full
// disk) leaves the earlier file as it was and no temporary file behind; one
// that succeeds replaces it with the given permissions.
func TestWriteFileWholeOrNothing(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "kpiwatch.rules.yml")
	if err := os.WriteFile(p, []byte("groups: [complete]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	full := errors.New("no space left on device")
	err := WriteFile(p, 0o644, func(w io.Writer) error {
		if _, err := w.Write([]byte("groups:\n  - name: trunc")); err != nil {
			return err
		}
		return full
	})
	if !errors.Is(err, full) {
		t.Fatalf("WriteFile = %v, want the writer's error", err)
	}
	if got, _ := os.ReadFile(p); string(got) != "groups: [complete]\n" {
		t.Errorf("after a failed write the file holds %q, want the earlier version", got)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("a failed write left files behind: %v", entries)
	}
	if err := WriteFile(p, 0o600, func(w io.Writer) error { _, err := io.WriteString(w, "new\n"); return err }); err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(p)
	if got, _ := os.ReadFile(p); string(got) != "new\n" || err != nil || st.Mode().Perm() != 0o600 {
		t.Errorf("after a good write: %q, mode %v, %v", got, st.Mode(), err)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("a good write left files behind: %v", entries)
	}
	if err := WriteFile(filepath.Join(dir, "missing", "x"), 0o644, func(io.Writer) error { return nil }); err == nil {
		t.Error("a write into a missing folder succeeded")
	}
	// A folder where the file belongs: the rename fails, the folder and
	// its content stay, no temporary file is left.
	sub := filepath.Join(dir, "dashboards")
	if err := os.MkdirAll(filepath.Join(sub, "keep"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := WriteBytes(sub, 0o644, []byte("{}")); err == nil {
		t.Error("a file written over a folder")
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 2 {
		t.Errorf("a failed rename left files behind: %v", entries)
	}
}
