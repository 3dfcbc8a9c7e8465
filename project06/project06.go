// Package project06 is kpiwatch's embedded default: the catalogue of Vietnam's
// Project 06 KPIs and sample data built from the published figures it names,
// served when no --config.file is given so that a first run shows something
// true at once.
package project06

import (
	"embed"

	"github.com/kpiwatch/kpiwatch/catalogue"
	"github.com/kpiwatch/kpiwatch/collectors"
)

//go:generate go run ./gen -catalogue catalogue.yaml

// FS holds the catalogue at its root and the sample data under data/, the
// paths its sources name; collectors read them from here.
//
//go:embed catalogue.yaml data
var FS embed.FS

// CatalogueFile is the catalogue's name in FS.
const CatalogueFile = "catalogue.yaml"

// Load parses and validates the embedded catalogue.
func Load() (*catalogue.Catalogue, error) {
	data, err := FS.ReadFile(CatalogueFile)
	if err != nil {
		return nil, err
	}
	return catalogue.Parse(CatalogueFile, data, FS, collectors.Check)
}
