package main

import (
	"embed"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/alecthomas/kingpin/v2"
	"github.com/kpiwatch/kpiwatch/internal/genfile"
)

// starter is the catalogue and sample data `kpiwatch init` writes.
//
//go:embed starter
var starter embed.FS

type initCommand struct {
	cmd *kingpin.CmdClause
	dir *string
}

func newInitCommand(app *kingpin.Application) *initCommand {
	c := &initCommand{cmd: app.Command("init", "Write a starter catalogue (three KPIs) and sample CSV reports into a folder of its own, to edit into yours.")}
	c.dir = c.cmd.Arg("dir", "Folder to write into; created if missing. No file in it is overwritten.").Required().String()
	return c
}

func (c *initCommand) run(stdout, stderr io.Writer) int {
	root, err := fs.Sub(starter, "starter")
	if err == nil {
		err = writeNew(root, *c.dir)
	}
	if err != nil {
		fmt.Fprintln(stderr, "kpiwatch init:", err)
		return 1
	}
	cfg := filepath.Join(*c.dir, "kpis.yaml")
	fmt.Fprintf(stdout, "wrote %s and its sample data under %s\nnext: kpiwatch validate --config.file=%s\n", cfg, filepath.Join(*c.dir, "data"), cfg)
	return 0
}

// writeNew copies every file of src under dir, refusing before writing
// anything if one of them exists already.
func writeNew(src fs.FS, dir string) error {
	var files []string
	err := fs.WalkDir(src, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		dst := filepath.Join(dir, filepath.FromSlash(p))
		if _, err := os.Stat(dst); err == nil {
			return fmt.Errorf("%s exists; init writes into a new folder and overwrites nothing", dst)
		}
		files = append(files, p)
		return nil
	})
	if err != nil {
		return err
	}
	for _, p := range files {
		data, err := fs.ReadFile(src, p)
		if err != nil {
			return err
		}
		dst := filepath.Join(dir, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			return err
		}
		if err := genfile.WriteBytes(dst, 0o644, data); err != nil {
			return err
		}
	}
	return nil
}
