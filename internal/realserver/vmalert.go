package realserver

import "time"

// VMAlertConfig is how vmalert is started.
type VMAlertConfig struct {
	RuleFiles []string
	// Datasource is the VictoriaMetrics (or Prometheus) base URL the rules
	// query; recording rules' results are written back to it.
	Datasource string
	// Alertmanager is the base URL alerts are sent to.
	Alertmanager string
	// EvaluationInterval defaults to a second, as Prometheus' does here.
	EvaluationInterval time.Duration
	// Args are more flags.
	Args []string
}

// VMAlertSpec says how to start Debian's vmalert (package victoria-metrics)
// with cfg. Recording rules' results go back to the datasource through its
// remote-write endpoint, as a deployment would configure it.
func VMAlertSpec(cfg VMAlertConfig) Spec {
	if cfg.EvaluationInterval == 0 {
		cfg.EvaluationInterval = time.Second
	}
	return Spec{
		Name:    "vmalert",
		Binary:  "vmalert",
		Package: "victoria-metrics",
		Args: func(addr, _ string) []string {
			args := []string{
				"-httpListenAddr=" + addr,
				"-datasource.url=" + cfg.Datasource,
				"-remoteWrite.url=" + cfg.Datasource,
				"-notifier.url=" + cfg.Alertmanager,
				"-evaluationInterval=" + cfg.EvaluationInterval.String(),
				"-loggerLevel=WARN",
			}
			for _, f := range cfg.RuleFiles {
				args = append(args, "-rule="+f)
			}
			return append(args, cfg.Args...)
		},
		ReadyPath: "/health",
	}
}
