package main

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/alecthomas/kingpin/v2"
	"github.com/go-kit/log"
	"github.com/go-kit/log/level"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/config"
	"github.com/prometheus/common/expfmt"

	"github.com/kpiwatch/kpiwatch/exporter"
	"github.com/kpiwatch/kpiwatch/internal/redact"
	"github.com/kpiwatch/kpiwatch/push"
)

// authFlags are HTTP credentials read from files, under a flag prefix.
type authFlags struct {
	bearerTokenFile, username, passwordFile *string
}

func addAuthFlags(cmd *kingpin.CmdClause, prefix string) authFlags {
	return authFlags{
		bearerTokenFile: cmd.Flag(prefix+".bearer-token-file", "File holding the bearer token to send (read at each request).").PlaceHolder("FILE").String(),
		username:        cmd.Flag(prefix+".basic-auth.username", "Basic auth username.").PlaceHolder("USER").String(),
		passwordFile:    cmd.Flag(prefix+".basic-auth.password-file", "File holding the basic auth password (read at each request).").PlaceHolder("FILE").String(),
	}
}

func (f authFlags) auth() push.Auth {
	return push.Auth{BearerTokenFile: *f.bearerTokenFile, BasicAuthUsername: *f.username, BasicAuthPasswordFile: *f.passwordFile}
}

// pushFlags configure pushing the served series to VictoriaMetrics.
type pushFlags struct {
	url               *string
	interval, timeout *time.Duration
	labels, headers   *[]string
	httpConfig        *string
	auth              authFlags
}

func addPushFlags(cmd *kingpin.CmdClause) *pushFlags {
	return &pushFlags{
		url:        cmd.Flag("push.url", "Also push the served series to this VictoriaMetrics or vmagent import URL, e.g. http://vm:8428/api/v1/import/prometheus (for networks that cannot be scraped).").PlaceHolder("URL").String(),
		interval:   cmd.Flag("push.interval", "How often to push.").Default("1m").Duration(),
		timeout:    cmd.Flag("push.timeout", "Time limit of one push.").Default("30s").Duration(),
		labels:     cmd.Flag("push.extra-label", "Label name=value added to every pushed series, e.g. instance=da-nang; repeat.").PlaceHolder("NAME=VALUE").Strings(),
		headers:    cmd.Flag("push.header", `HTTP header "Name: value" sent with every push; repeat. Put credentials in the auth files instead: flags show in ps.`).PlaceHolder(`"NAME: VALUE"`).Strings(),
		httpConfig: cmd.Flag("push.http-config.file", "File of Prometheus' http_config for pushing: basic_auth, authorization, oauth2 (client credentials), http_headers, credential files read at each push. tls_config and proxy_url are refused (pushes go through Go's default transport): use SSL_CERT_FILE and HTTPS_PROXY. The auth flags above still work, for credentials not given here.").PlaceHolder("FILE").String(),
		auth:       addAuthFlags(cmd, "push"),
	}
}

// http is the push's http_config file, nil without one.
func (f *pushFlags) http() (*config.HTTPClientConfig, error) {
	if *f.httpConfig == "" {
		return nil, nil
	}
	c, _, err := config.LoadHTTPConfigFile(*f.httpConfig)
	if err != nil {
		return nil, fmt.Errorf("--push.http-config.file: %w", err)
	}
	return c, nil
}

// start pushes in the background until ctx ends, when --push.url is set,
// and registers the push's self-metrics in reg. What is pushed is what
// /metrics serves but the Go and process metrics: the KPI series and the
// exporter's self-metrics, so that central rules see failing sources too.
func (f *pushFlags) start(ctx context.Context, exp *exporter.Exporter, reg prometheus.Registerer, logger log.Logger) error {
	if *f.url == "" {
		return nil
	}
	self := prometheus.NewRegistry()
	if err := self.Register(exp.Collector()); err != nil {
		return err
	}
	write := func(w io.Writer) {
		mfs, err := self.Gather()
		if err != nil {
			level.Error(logger).Log("msg", "gathering self-metrics to push", "err", err)
		}
		enc := expfmt.NewEncoder(w, expfmt.NewFormat(expfmt.TypeTextPlain))
		for _, mf := range mfs {
			_ = enc.Encode(mf)
		}
		_ = exp.WriteKPIMetrics(w)
	}
	httpCfg, err := f.http()
	if err != nil {
		return err
	}
	var httpFrom string
	if httpCfg != nil {
		httpFrom = "--push.http-config.file=" + *f.httpConfig
	}
	p, err := push.New(push.Config{
		URL: *f.url, Interval: *f.interval, Timeout: *f.timeout,
		ExtraLabels: *f.labels, Headers: *f.headers, HTTP: httpCfg, HTTPFrom: httpFrom, Auth: f.auth.auth(), Ready: exp.Ready,
	}, write, log.With(logger, "component", "push"))
	if err != nil {
		return err
	}
	if err := reg.Register(p); err != nil {
		return err
	}
	level.Info(logger).Log("msg", "pushing to VictoriaMetrics", "url", redact.URL(*f.url), "interval", *f.interval)
	go p.Run(ctx)
	return nil
}
