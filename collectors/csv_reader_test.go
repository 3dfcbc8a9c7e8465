package collectors_test

import (
	"fmt"
	"strings"
	"testing"
)

// The CSV is parsed on one goroutine and mapped on another, in chunks:
// across chunks every row keeps its number, a row the CSV parser rejects is
// reported at its line and the rows after it are still read.
func TestCSVRowsKeepTheirNumbersAcrossChunks(t *testing.T) {
	const rows, bad = 1300, 700
	var b strings.Builder
	b.WriteString("province,commune,kpi,period,value\n")
	for row := 2; row < rows+2; row++ {
		if row == bad {
			b.WriteString("Hà Nội,Xã \"Bad,accounts,2025-10,1\n")
			continue
		}
		fmt.Fprintf(&b, "Hà Nội,Xã %d,accounts,2025-10,%d\n", row, row)
	}
	c, fsys := load(t, communesCatalogue, map[string]string{"communes.csv": b.String()})
	batch, err := collect(t, c, fsys, "communes")
	if err != nil {
		t.Fatal(err)
	}
	if len(batch.Rejected) != 1 || !strings.Contains(batch.Rejected[0].Error(), fmt.Sprintf("row %d", bad)) {
		t.Errorf("rejected %q, want the bare quote on row %d", batch.Rejected, bad)
	}
	if len(batch.Observations) != rows-1 {
		t.Fatalf("%d observations, want %d", len(batch.Observations), rows-1)
	}
	for i, o := range batch.Observations {
		if i > 0 && o.Loc.Row <= batch.Observations[i-1].Loc.Row {
			t.Fatalf("row %d after row %d: observations out of file order", o.Loc.Row, batch.Observations[i-1].Loc.Row)
		}
		if want := fmt.Sprintf("Xã %d", o.Loc.Row); o.Labels[1] != want || o.Value != float64(o.Loc.Row) {
			t.Fatalf("row %d holds %q = %g, want %q = %d", o.Loc.Row, o.Labels[1], o.Value, want, o.Loc.Row)
		}
	}
}
