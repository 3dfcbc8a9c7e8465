package catalogue_test

import (
	"errors"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/kpiwatch/kpiwatch/catalogue"
	"github.com/kpiwatch/kpiwatch/collectors"
)

// FuzzParse loads arbitrary catalogues: each loads, or is refused with
// problems that name the file, without panicking or expanding aliases
// without bound.
// Run it with: go test ./catalogue -run '^$' -fuzz '^FuzzParse$' -fuzztime 30s
func FuzzParse(f *testing.F) {
	f.Add(valid)
	f.Add(aliasBomb())
	f.Add(valid + "---\n" + valid)
	f.Add("")
	f.Add("a: &a [*a]\n")
	f.Add(strings.Replace(valid, "timeout: 30s", "timeout: &t 30s\n    max_rejected_ratio: 2", 1))
	fsys := fstest.MapFS{"data.csv": {Data: []byte("kpi,period,value,num,den,province\n")}}
	f.Fuzz(func(t *testing.T, text string) {
		c, err := catalogue.Parse("kpis.yaml", []byte(text), fsys, collectors.Check)
		if err != nil {
			var errs catalogue.Errors
			if !errors.As(err, &errs) || len(errs) == 0 {
				t.Fatalf("error %v is not the catalogue's problems", err)
			}
			for _, e := range errs {
				if e.File != "kpis.yaml" {
					t.Fatalf("problem %q does not name the file", e)
				}
			}
			return
		}
		if c == nil {
			t.Fatal("no catalogue and no error")
		}
	})
}
