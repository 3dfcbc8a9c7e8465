package push

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"reflect"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/common/config"
	"golang.org/x/net/http/httpguts"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/kpiwatch/kpiwatch/internal/redact"
)

// defaultTransport is why the transport's settings are refused:
// metrics.PushMetricsExt takes headers only and sends them with a client of
// its own on Go's default transport.
const defaultTransport = "VictoriaMetrics/metrics pushes with Go's default transport, which takes no such setting"

// unsupported are the http_config fields that Go's default transport cannot
// take, with what works instead. Each is refused when it is not zero.
var unsupported = []struct{ field, instead string }{
	{"tls_config", "a private CA goes in SSL_CERT_FILE or SSL_CERT_DIR; client certificates are not possible"},
	{"proxy_url", "set HTTPS_PROXY (and NO_PROXY) in the environment instead"},
	{"no_proxy", "set NO_PROXY in the environment instead"},
	{"proxy_connect_header", "give the proxy's credentials in HTTPS_PROXY (http://user:password@proxy:3128) instead"},
}

// checkTransport refuses what Go's default transport cannot do, naming the
// field as the file spells it.
func checkTransport(h *config.HTTPClientConfig) error {
	var errs []error
	refuse := func(prefix string, v any) {
		for _, u := range unsupported {
			if f := nonZero(v, u.field); f != "" {
				errs = append(errs, fmt.Errorf("%s%s: not supported: %s; %s", prefix, f, defaultTransport, u.instead))
			}
		}
	}
	refuse("", h)
	if !h.FollowRedirects {
		errs = append(errs, fmt.Errorf("follow_redirects: false: not supported: %s; it always follows redirects", defaultTransport))
	}
	if !h.EnableHTTP2 {
		errs = append(errs, fmt.Errorf("enable_http2: false: not supported: %s; GODEBUG=http2client=0 turns HTTP/2 off for the whole process", defaultTransport))
	}
	if o := h.OAuth2; o != nil {
		refuse("oauth2.", o)
		if o.GrantType != "" && o.GrantType != "client_credentials" {
			errs = append(errs, fmt.Errorf("oauth2.grant_type: %q is not supported; only client_credentials", o.GrantType))
		}
	}
	return errors.Join(errs...)
}

// nonZero is the path of field (a yaml name of v's struct, or of a struct
// inlined in it) with, for a struct, its first set field; "" when unset.
func nonZero(v any, field string) string {
	rv := reflect.Indirect(reflect.ValueOf(v))
	for i := range rv.NumField() {
		sf, fv := rv.Type().Field(i), rv.Field(i)
		name, opts, _ := strings.Cut(sf.Tag.Get("yaml"), ",")
		switch {
		case !sf.IsExported():
		case opts == "inline" && fv.Kind() == reflect.Struct:
			if f := nonZero(fv.Interface(), field); f != "" {
				return f
			}
		case name == field && !fv.IsZero():
			if fv.Kind() == reflect.Struct {
				for j := range fv.NumField() {
					inner, _, _ := strings.Cut(fv.Type().Field(j).Tag.Get("yaml"), ",")
					if inner != "" && !fv.Field(j).IsZero() {
						return name + "." + inner
					}
				}
			}
			return name
		}
	}
	return ""
}

// headerFunc is one header line, read at each push (credential files are
// rotated in place).
type headerFunc func(context.Context) (string, error)

// headerFuncs turns an http_config, validated and checked, into the header
// lines of a push: what prometheus/common's round trippers would set.
func headerFuncs(h *config.HTTPClientConfig, timeout time.Duration) ([]headerFunc, error) {
	var out []headerFunc
	if a := h.BasicAuth; a != nil {
		user, err := secret("basic_auth.username", config.Secret(a.Username), a.UsernameFile, a.UsernameRef)
		if err != nil {
			return nil, err
		}
		pw, err := secret("basic_auth.password", a.Password, a.PasswordFile, a.PasswordRef)
		if err != nil {
			return nil, err
		}
		out = append(out, func(ctx context.Context) (string, error) {
			u, err := fetch(ctx, user)
			if err != nil {
				return "", err
			}
			p, err := fetch(ctx, pw)
			if err != nil {
				return "", err
			}
			return "Authorization: Basic " + base64.StdEncoding.EncodeToString([]byte(u+":"+p)), nil
		})
	}
	if a := h.Authorization; a != nil {
		cred, err := secret("authorization.credentials", a.Credentials, a.CredentialsFile, a.CredentialsRef)
		if err != nil {
			return nil, err
		}
		out = append(out, func(ctx context.Context) (string, error) {
			c, err := fetch(ctx, cred)
			return "Authorization: " + a.Type + " " + c, err
		})
	}
	if o := h.OAuth2; o != nil {
		cred, err := secret("oauth2.client_secret", o.ClientSecret, o.ClientSecretFile, o.ClientSecretRef)
		if err != nil {
			return nil, err
		}
		out = append(out, (&oauth2Token{cfg: o, secret: cred, timeout: timeout}).header)
	}
	if h.HTTPHeaders != nil {
		for name, v := range h.HTTPHeaders.Headers {
			// The value is not quoted back: it may be a credential.
			if !httpguts.ValidHeaderFieldName(name) {
				return nil, fmt.Errorf("http_headers: %q is not a header name", name)
			}
			for _, s := range v.Values {
				out = append(out, constHeader(name+": "+s))
			}
			for _, s := range v.Secrets {
				out = append(out, constHeader(name+": "+string(s)))
			}
			for _, f := range v.Files {
				r := config.NewFileSecret(f)
				out = append(out, func(ctx context.Context) (string, error) {
					s, err := r.Fetch(ctx)
					return name + ": " + s, err
				})
			}
		}
	}
	return out, nil
}

func constHeader(line string) headerFunc {
	return func(context.Context) (string, error) { return line, nil }
}

// secret reads a credential given inline or in a file (read at each push);
// "" when none is given. A *_ref is refused: the push resolves none.
func secret(field string, text config.Secret, file, ref string) (config.SecretReader, error) {
	switch {
	case ref != "":
		return nil, fmt.Errorf("%s_ref: not supported for pushing; use %s_file", field, field)
	case file != "":
		return config.NewFileSecret(file), nil
	}
	return config.NewInlineSecret(string(text)), nil
}

func fetch(ctx context.Context, s config.SecretReader) (string, error) {
	v, err := s.Fetch(ctx)
	if err != nil {
		// FileSecret's error names the file, never its content.
		return "", fmt.Errorf("reading a push credential: %w", err)
	}
	return v, nil
}

// oauth2Token is an OAuth 2 client-credentials token, cached across pushes
// until it expires, and fetched anew when the client secret's file changes,
// as Prometheus does.
type oauth2Token struct {
	cfg     *config.OAuth2
	secret  config.SecretReader
	timeout time.Duration

	mu         sync.Mutex
	lastSecret string
	source     oauth2.TokenSource
}

func (t *oauth2Token) header(ctx context.Context) (string, error) {
	s, err := fetch(ctx, t.secret)
	if err != nil {
		return "", err
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.source == nil || s != t.lastSecret {
		params := make(map[string][]string, len(t.cfg.EndpointParams))
		for k, v := range t.cfg.EndpointParams {
			params[k] = []string{v}
		}
		cc := clientcredentials.Config{ClientID: t.cfg.ClientID, ClientSecret: s, TokenURL: t.cfg.TokenURL, Scopes: t.cfg.Scopes, EndpointParams: params}
		// The token source keeps this context for its later fetches; its
		// client is Go's default transport, as the push's, bounded in time.
		t.source = cc.TokenSource(context.WithValue(context.Background(), oauth2.HTTPClient, &http.Client{Timeout: t.timeout}))
		t.lastSecret = s
	}
	tok, err := t.source.Token()
	if err != nil {
		return "", fmt.Errorf("oauth2 token from %s: %w", redact.URL(t.cfg.TokenURL), err)
	}
	return "Authorization: " + tok.Type() + " " + tok.AccessToken, nil
}
