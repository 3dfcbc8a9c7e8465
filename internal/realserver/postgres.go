package realserver

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // driver "pgx", to see the server answer
)

// postgresBin is where Debian's postgresql package puts the server.
const postgresBin = "/usr/lib/postgresql/15/bin"

// Postgres is a started PostgreSQL server, with a superuser that logs in
// over TCP with a password (scram-sha-256), as a deployment would.
type Postgres struct {
	*Server
	User, Password, Database string
}

// DSN is the connection URL for the pgx driver.
func (p *Postgres) DSN() string {
	u := url.URL{Scheme: "postgres", User: url.UserPassword(p.User, p.Password), Host: p.Addr, Path: p.Database, RawQuery: "sslmode=disable"}
	return u.String()
}

// StartPostgres initialises a cluster in a temp dir and starts PostgreSQL on
// 127.0.0.1 and a free port, its unix socket in that dir. The server will not
// run as root, so as root (as CI runs) it runs as the postgres user, or nobody.
func StartPostgres(t testing.TB) *Postgres {
	t.Helper()
	initdb := Binary(t, "initdb", "postgresql", postgresBin)
	secret := make([]byte, 12)
	_, _ = rand.Read(secret)
	p := &Postgres{User: "kpiwatch", Password: hex.EncodeToString(secret), Database: "postgres"}
	cred, err := unprivileged()
	if err != nil {
		t.Fatal(err)
	}
	p.Server = Start(t, Spec{
		Name:    "postgres",
		Binary:  "postgres",
		Dirs:    []string{postgresBin},
		Package: "postgresql",
		Args: func(addr, dir string) []string {
			host, port, _ := net.SplitHostPort(addr)
			return []string{"-D", filepath.Join(dir, "data"), "-h", host, "-p", port, "-k", dir,
				"-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off"}
		},
		Setup: func(cmd *exec.Cmd, dir string) error {
			if cred != nil {
				// t.TempDir's parent is private to root; the server must reach its dir.
				if err := os.Chmod(filepath.Dir(dir), 0o755); err != nil {
					return err
				}
				if err := os.Chown(dir, int(cred.Uid), int(cred.Gid)); err != nil {
					return err
				}
				cmd.SysProcAttr.Credential = cred
			}
			pwfile := filepath.Join(dir, "pwfile")
			if err := os.WriteFile(pwfile, []byte(p.Password+"\n"), 0o600); err != nil {
				return err
			}
			defer os.Remove(pwfile)
			if cred != nil {
				if err := os.Chown(pwfile, int(cred.Uid), int(cred.Gid)); err != nil {
					return err
				}
			}
			init := exec.Command(initdb, "-D", filepath.Join(dir, "data"), "-U", p.User, "--pwfile="+pwfile,
				"--auth-host=scram-sha-256", "--auth-local=trust", "-E", "UTF8", "--locale=C", "--no-sync", "--no-instructions")
			init.Dir = dir
			init.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
			if out, err := init.CombinedOutput(); err != nil {
				return fmt.Errorf("initdb: %v\n%s", err, out)
			}
			return nil
		},
	})
	p.waitReady(t)
	return p
}

// unprivileged is the user to run the server as when we are root, else nil.
func unprivileged() (*syscall.Credential, error) {
	if os.Geteuid() != 0 {
		return nil, nil
	}
	var lastErr error
	for _, name := range []string{"postgres", "nobody"} {
		u, err := user.Lookup(name)
		if err != nil {
			lastErr = err
			continue
		}
		uid, _ := strconv.ParseUint(u.Uid, 10, 32)
		gid, _ := strconv.ParseUint(u.Gid, 10, 32)
		return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}, nil
	}
	return nil, fmt.Errorf("running as root and no unprivileged user to run postgres as: %v", lastErr)
}

func (p *Postgres) waitReady(t testing.TB) {
	t.Helper()
	db, err := sql.Open("pgx", p.DSN())
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	deadline := time.Now().Add(60 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		err = db.PingContext(ctx)
		cancel()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("postgres not ready at %s after 60s: %v\n%s", p.Addr, err, p.Log())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// Exec runs statements as the superuser, to set up a test's data.
func (p *Postgres) Exec(t testing.TB, statements ...string) {
	t.Helper()
	db, err := sql.Open("pgx", p.DSN())
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, s := range statements {
		if _, err := db.Exec(s); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
	}
}
