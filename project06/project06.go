// Package project06 is kpiwatch's embedded default: the catalogue of Vietnam's
// Project 06 KPIs and sample data built from the published figures it names,
// served when no --config.file is given so that a first run shows something
// true at once.
package project06

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"io/fs"
	"strings"
	"sync"

	_ "modernc.org/sqlite" // driver "sqlite", for the sample databases

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

// Load parses and validates the embedded catalogue, and loads its sample
// databases (see loadDatabases).
func Load() (*catalogue.Catalogue, error) {
	data, err := FS.ReadFile(CatalogueFile)
	if err != nil {
		return nil, err
	}
	cat, err := catalogue.Parse(CatalogueFile, data, FS, collectors.Check)
	if err != nil {
		return nil, err
	}
	databases.Do(func() { databases.err = loadDatabases() })
	return cat, databases.err
}

// databases loads the sample databases once per process.
var databases struct {
	sync.Once
	err error
}

// loadDatabases runs each data/NAME.sql script in the in-memory SQLite
// database that data/NAME.dsn names, the DSN the sql source reads, and keeps
// a connection to it open for the life of the process: an in-memory
// database lives while one connection does. SQLite cannot open a database
// file inside the binary, and a script is text the generator writes the same
// on every SQLite version.
func loadDatabases() error {
	scripts, err := fs.Glob(FS, "data/*.sql")
	if err != nil {
		return err
	}
	for _, script := range scripts {
		dsnFile := strings.TrimSuffix(script, ".sql") + ".dsn"
		dsn, err := FS.ReadFile(dsnFile)
		if err != nil {
			return fmt.Errorf("sample database %s: %w", script, err)
		}
		statements, err := FS.ReadFile(script)
		if err != nil {
			return err
		}
		db, err := sql.Open("sqlite", strings.TrimSpace(string(dsn)))
		if err != nil {
			return fmt.Errorf("sample database %s: %w", script, err)
		}
		conn, err := db.Conn(context.Background())
		if err == nil {
			_, err = conn.ExecContext(context.Background(), string(statements))
		}
		if err != nil {
			return fmt.Errorf("sample database %s: %w", script, err)
		}
		// conn is never closed: it keeps the database alive.
	}
	return nil
}
