// Command gen writes the sample data of the Project 06 catalogue: the file
// each of its sources reads, at the source's path relative to the catalogue.
// Its output depends on the catalogue only, so running it again on the same
// catalogue writes the same bytes.
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/kpiwatch/kpiwatch/catalogue"
	"github.com/kpiwatch/kpiwatch/project06/internal/sampledata"
)

func main() {
	path := flag.String("catalogue", "project06/catalogue.yaml", "the catalogue whose sources' files to write")
	flag.Parse()
	cat, err := catalogue.LoadFile(*path, nil)
	if err == nil {
		err = sampledata.Write(cat, filepath.Dir(*path))
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
}
