package realserver

import (
	"syscall"
	"testing"
)

// Kill ends the process group at once with SIGKILL, as a crash would: no
// shutdown hooks, no last snapshot. It returns when the process has ended.
func (p *Process) Kill() {
	if p.Exited() {
		return
	}
	_ = syscall.Kill(-p.Cmd.Process.Pid, syscall.SIGKILL)
	<-p.done
}

// StartAt starts a server on a given address with a given data directory
// (e.g. again where a killed one ran, for a fault test), and registers its
// stop with t.Cleanup; the directory is left to the caller.
func StartAt(t testing.TB, spec Spec, addr, dir string) *Server {
	t.Helper()
	args, ready := spec.Args, spec.ReadyPath
	spec.Args = func(string, string) []string { return args(addr, dir) }
	spec.ReadyPath = ""
	s, err := launch(spec, dir, func(s *Server) { t.Cleanup(s.Stop) })
	if s != nil {
		s.Addr = addr
		if err == nil && ready != "" {
			err = s.waitReady(ready)
		}
	}
	if err != nil {
		t.Fatal(err)
	}
	return s
}
