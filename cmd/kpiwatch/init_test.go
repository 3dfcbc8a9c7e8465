package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestInitOverwritesNothing(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "ops")
	var out bytes.Buffer
	if code := run(context.Background(), []string{"init", dir}, &out, &out); code != 0 {
		t.Fatalf("init: exit %d\n%s", code, out.String())
	}
	cfg := filepath.Join(dir, "kpis.yaml")
	write(t, dir, "kpis.yaml", "mine\n")
	if err := os.Remove(filepath.Join(dir, "data", "bao-cao-tinh.csv")); err != nil {
		t.Fatal(err)
	}
	out.Reset()
	if code := run(context.Background(), []string{"init", dir}, &out, &out); code != 1 || !strings.Contains(out.String(), " exists; init writes into a new folder and overwrites nothing") {
		t.Errorf("init over an existing catalogue: exit %d\n%s", code, out.String())
	}
	if data, _ := os.ReadFile(cfg); string(data) != "mine\n" {
		t.Errorf("init overwrote the catalogue: %q", data)
	}
	if _, err := os.Stat(filepath.Join(dir, "data", "bao-cao-tinh.csv")); err == nil {
		t.Error("a refused init still wrote files")
	}
}
