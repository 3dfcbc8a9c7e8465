// Command gen writes the alert rules, their unit tests and the Alertmanager
// configuration of the embedded Project 06 catalogue into alerts/generated,
// where they are committed (`go generate ./alerts`). `kpiwatch generate`
// writes the same files for any catalogue.
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/kpiwatch/kpiwatch/alerts"
	"github.com/kpiwatch/kpiwatch/project06"
)

func main() {
	out := flag.String("out", "generated", "directory to write the files into")
	flag.Parse()
	cat, err := project06.Load()
	if err == nil {
		err = alerts.WriteFiles(cat, *out, nil)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
