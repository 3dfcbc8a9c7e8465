// Package realserver starts the real servers the tests run against
// (Prometheus, Alertmanager, VictoriaMetrics, PostgreSQL, from Debian's
// packages), each on 127.0.0.1 and a free port with a data directory of its
// own, and stops each by its PID when the test ends. A missing binary fails
// the test with the package to install, never a silent skip: `.ci/run`
// installs them all.
package realserver

import (
	"bytes"
	"fmt"
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

// Process is a started program in a process group of its own, with its
// output kept; tests and the benchmark harness both start servers this way.
type Process struct {
	Cmd  *exec.Cmd
	log  *syncBuffer
	done chan struct{}
}

// Launch starts cmd in its own process group, keeping what it prints.
func Launch(cmd *exec.Cmd) (*Process, error) {
	p := &Process{Cmd: cmd, log: &syncBuffer{}, done: make(chan struct{})}
	cmd.Stdout, cmd.Stderr = p.log, p.log
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Setpgid = true
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	go func() { _ = cmd.Wait(); close(p.done) }()
	return p, nil
}

// Log is what the process has printed so far.
func (p *Process) Log() string { return p.log.String() }

// Exited reports whether the process has ended.
func (p *Process) Exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// Stop ends the process group by the process's PID: TERM, then KILL after
// ten seconds.
func (p *Process) Stop() {
	if p.Exited() {
		return
	}
	pid := p.Cmd.Process.Pid
	_ = syscall.Kill(-pid, syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(10 * time.Second):
		_ = syscall.Kill(-pid, syscall.SIGKILL)
		<-p.done
	}
}

// Server is a started server.
type Server struct {
	*Process
	Name string
	Addr string // host:port on 127.0.0.1
	Dir  string // its own data directory
	// ownDir says Stop removes Dir (a server started by Run; Start leaves
	// it to the test's TempDir).
	ownDir bool
}

// URL is the server's base URL.
func (s *Server) URL() string { return "http://" + s.Addr }

// Stop ends the server by its PID and, for a server started by Run, removes
// its data directory.
func (s *Server) Stop() {
	s.Process.Stop()
	if s.ownDir {
		_ = os.RemoveAll(s.Dir)
	}
}

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
	p, err := lookBinary(name, pkg, dirs...)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func lookBinary(name, pkg string, dirs ...string) (string, error) {
	if p, err := exec.LookPath(name); err == nil {
		return p, nil
	}
	for _, d := range dirs {
		p := d + "/" + name
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	return "", fmt.Errorf("%s not found: install Debian's %s package (apt-get install %s), as .ci/run does", name, pkg, pkg)
}

// FreeAddr returns a free 127.0.0.1 address.
func FreeAddr(t testing.TB) string {
	t.Helper()
	addr, err := LoopbackAddr()
	if err != nil {
		t.Fatal(err)
	}
	return addr
}

// LoopbackAddr returns a 127.0.0.1 address that was free a moment ago.
func LoopbackAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}

// Start starts a server and registers its stop with t.Cleanup.
func Start(t testing.TB, spec Spec) *Server {
	t.Helper()
	s, err := launch(spec, t.TempDir(), func(s *Server) { t.Cleanup(s.Stop) })
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// Run starts a server outside a test (the benchmark harnesses) in a
// temporary directory of its own; the caller stops it with Stop, which
// removes that directory.
func Run(spec Spec) (*Server, error) {
	dir, err := os.MkdirTemp("", "kpiwatch-"+spec.Binary+"-")
	if err != nil {
		return nil, err
	}
	s, err := launch(spec, dir, func(*Server) {})
	if s == nil {
		_ = os.RemoveAll(dir)
		return nil, err
	}
	s.ownDir = true
	if err != nil {
		s.Stop()
		return nil, err
	}
	return s, nil
}

// launch starts spec's server with dir as its data directory; started is
// called as soon as there is a process to stop. A server that started but
// never became ready is returned with the error.
func launch(spec Spec, dir string, started func(*Server)) (*Server, error) {
	bin, err := lookBinary(spec.Binary, spec.Package, spec.Dirs...)
	if err != nil {
		return nil, err
	}
	addr, err := LoopbackAddr()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, spec.Args(addr, dir)...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), spec.Env...)
	cmd.SysProcAttr = &syscall.SysProcAttr{} // Setup may add credentials
	if spec.Setup != nil {
		if err := spec.Setup(cmd, dir); err != nil {
			return nil, fmt.Errorf("%s: %v", spec.Name, err)
		}
	}
	p, err := Launch(cmd)
	if err != nil {
		return nil, fmt.Errorf("starting %s: %v", spec.Name, err)
	}
	s := &Server{Process: p, Name: spec.Name, Addr: addr, Dir: dir}
	started(s)
	if spec.ReadyPath != "" {
		if err := s.waitReady(spec.ReadyPath); err != nil {
			return s, err
		}
	}
	return s, nil
}

func (s *Server) waitReady(path string) error {
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		if s.Exited() {
			return fmt.Errorf("%s exited before it was ready:\n%s", s.Name, s.Log())
		}
		resp, err := http.Get(s.URL() + path)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	return fmt.Errorf("%s not ready at %s after 60s:\n%s", s.Name, s.URL()+path, s.Log())
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
