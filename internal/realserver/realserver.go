// Package realserver starts the real servers the tests run against
// (Prometheus, Alertmanager, VictoriaMetrics, PostgreSQL, from Debian's
// packages), each on 127.0.0.1 and a free port with a data directory of its
// own, and stops each by its PID when the test ends. A missing binary fails
// the test with the package to install, never a silent skip: `.ci/run`
// installs them all.
package realserver

import (
	"bytes"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Server is a started server.
type Server struct {
	Name string
	Addr string // host:port on 127.0.0.1
	Dir  string // its own data directory
	cmd  *exec.Cmd
	log  *syncBuffer
}

// URL is the server's base URL.
func (s *Server) URL() string { return "http://" + s.Addr }

// Log is what the server has printed so far.
func (s *Server) Log() string { return s.log.String() }

// Spec says how to start a server.
type Spec struct {
	Name    string // for messages
	Binary  string // looked up on PATH, then in Dirs
	Dirs    []string
	Package string // Debian package that provides Binary
	// Args builds the command line from the chosen address and data dir.
	Args func(addr, dir string) []string
	// ReadyPath is polled with GET until it answers 200.
	ReadyPath string
	// Setup runs on cmd before it starts (e.g. to drop privileges).
	Setup func(cmd *exec.Cmd, dir string) error
	Env   []string
}

// Binary finds a server binary or fails the test naming the package.
func Binary(t testing.TB, name, pkg string, dirs ...string) string {
	t.Helper()
	if p, err := exec.LookPath(name); err == nil {
		return p
	}
	for _, d := range dirs {
		p := d + "/" + name
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	t.Fatalf("%s not found: install Debian's %s package (apt-get install %s), as .ci/run does", name, pkg, pkg)
	return ""
}

// FreeAddr returns a free 127.0.0.1 address.
func FreeAddr(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// Start starts a server and registers its stop with t.Cleanup.
func Start(t testing.TB, spec Spec) *Server {
	t.Helper()
	bin := Binary(t, spec.Binary, spec.Package, spec.Dirs...)
	dir := t.TempDir()
	addr := FreeAddr(t)
	s := &Server{Name: spec.Name, Addr: addr, Dir: dir, log: &syncBuffer{}}
	s.cmd = exec.Command(bin, spec.Args(addr, dir)...)
	s.cmd.Dir = dir
	s.cmd.Stdout, s.cmd.Stderr = s.log, s.log
	s.cmd.Env = append(os.Environ(), spec.Env...)
	s.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if spec.Setup != nil {
		if err := spec.Setup(s.cmd, dir); err != nil {
			t.Fatalf("%s: %v", spec.Name, err)
		}
	}
	if err := s.cmd.Start(); err != nil {
		t.Fatalf("starting %s: %v", spec.Name, err)
	}
	exited := make(chan struct{})
	go func() { _ = s.cmd.Wait(); close(exited) }()
	t.Cleanup(func() { s.stop(exited) })
	if spec.ReadyPath != "" {
		s.waitReady(t, spec.ReadyPath, exited)
	}
	return s
}

func (s *Server) waitReady(t testing.TB, path string, exited <-chan struct{}) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-exited:
			t.Fatalf("%s exited before it was ready:\n%s", s.Name, s.Log())
		default:
		}
		resp, err := http.Get(s.URL() + path)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("%s not ready at %s after 60s:\n%s", s.Name, s.URL()+path, s.Log())
}

// stop ends the server's process group by PID: TERM, then KILL.
func (s *Server) stop(exited <-chan struct{}) {
	pid := s.cmd.Process.Pid
	_ = syscall.Kill(-pid, syscall.SIGTERM)
	select {
	case <-exited:
	case <-time.After(10 * time.Second):
		_ = syscall.Kill(-pid, syscall.SIGKILL)
		<-exited
	}
}

// Port is the server's port.
func (s *Server) Port() int {
	_, p, _ := net.SplitHostPort(s.Addr)
	n, _ := strconv.Atoi(p)
	return n
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// WriteFile writes a file in the server's directory and returns its path.
func WriteFile(t testing.TB, dir, name string, data []byte) string {
	t.Helper()
	p := dir + "/" + name
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// Eventually polls cond until it holds or timeout passes, and reports
// whether it held; the caller says what it was waiting for.
func Eventually(timeout time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(100 * time.Millisecond)
	}
	return true
}

// WaitFor fails the test unless cond holds within timeout.
func WaitFor(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	if !Eventually(timeout, cond) {
		t.Fatalf("timed out after %s waiting for %s", timeout, what)
	}
}
