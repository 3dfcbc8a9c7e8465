// Package genfile writes the generated artifacts (rules, dashboards,
// manifests, configs, sample data, backfill output, briefings) the same way
// for every generator: YAML with a header comment and two-space
// indentation, files written in a stable order, each one whole or not at
// all.
package genfile

import (
	"bytes"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"

	"gopkg.in/yaml.v3"
)

// YAML encodes v after header (a comment block, possibly empty).
func YAML(header string, v any) ([]byte, error) {
	var b bytes.Buffer
	b.WriteString(header)
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	if err := enc.Close(); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// Write writes files (by slash-separated path relative to dir) under dir,
// creating folders as needed, each with WriteFile.
func Write(dir string, files map[string][]byte) error {
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		p := filepath.Join(dir, filepath.FromSlash(n))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		if err := WriteBytes(p, 0o644, files[n]); err != nil {
			return err
		}
	}
	return nil
}

// WriteBytes writes data to path with WriteFile.
func WriteBytes(path string, perm fs.FileMode, data []byte) error {
	return WriteFile(path, perm, func(w io.Writer) error { _, err := w.Write(data); return err })
}

// WriteFile writes the file at path whole or not at all: write fills a
// temporary file in the same folder, which is synced to disk and renamed
// over path only once everything is written. A failure on the way (a full
// disk, an error from write, a crash) leaves path as it was, a complete
// earlier version or nothing, and removes the temporary file; a reader of
// path (Prometheus loading rules, Grafana provisioning boards) never sees
// half a file.
func WriteFile(path string, perm fs.FileMode, write func(w io.Writer) error) (err error) {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	if err := write(f); err != nil {
		return err
	}
	if err := f.Chmod(perm); err != nil {
		return err
	}
	if err := f.Sync(); err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(f.Name(), path)
}
