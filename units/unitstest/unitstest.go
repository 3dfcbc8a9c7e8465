// Package unitstest holds a small units file for tests of the packages
// that read one: seven communes of Tây Ninh, two of them (Long Thuan and
// Long Giang) merged into Ben Cau on 2025-07-01, one (Tan Ninh) with
// aliases, one (Dac Hoa) a special zone.
package unitstest

import (
	"embed"
	"testing/fstest"
)

//go:embed units.yaml communes.csv
var files embed.FS

// Files returns units.yaml and communes.csv, for a test to add its
// catalogue to (naming units.yaml in metadata.units).
func Files() fstest.MapFS {
	out := fstest.MapFS{}
	for _, n := range []string{"units.yaml", "communes.csv"} {
		data, err := files.ReadFile(n)
		if err != nil {
			panic(err)
		}
		out[n] = &fstest.MapFile{Data: data}
	}
	return out
}
