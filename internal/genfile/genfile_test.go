package genfile

import (
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
