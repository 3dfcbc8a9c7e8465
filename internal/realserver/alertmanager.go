package realserver

import "testing"

// StartAlertmanager starts Debian's prometheus-alertmanager on loopback with
// the configuration file configFile (its templates resolve beside it), its
// own storage, and clustering off.
func StartAlertmanager(t testing.TB, configFile string) *Server {
	t.Helper()
	return Start(t, AlertmanagerSpec(configFile))
}

// AlertmanagerSpec says how to start Debian's prometheus-alertmanager with
// the configuration file configFile.
func AlertmanagerSpec(configFile string) Spec {
	return Spec{
		Name:    "alertmanager",
		Binary:  "prometheus-alertmanager",
		Package: "prometheus-alertmanager",
		Args: func(addr, dir string) []string {
			return []string{
				"--config.file=" + configFile,
				"--storage.path=" + dir + "/data",
				"--web.listen-address=" + addr,
				"--cluster.listen-address=",
				"--log.level=warn",
			}
		},
		ReadyPath: "/-/ready",
	}
}
