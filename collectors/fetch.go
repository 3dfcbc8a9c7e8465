package collectors

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/kpiwatch/kpiwatch/catalogue"
	"github.com/kpiwatch/kpiwatch/internal/redact"
)

// defaultMaxBytes bounds a response when max_bytes is not set.
const defaultMaxBytes = 16 << 20

// HTTPFile is a document behind a URL: a portal's statistics endpoint, a
// report's download link. Every collector that fetches one takes these
// settings, inline in its config, and the same guards: a timeout (the
// source's), a size limit, no redirect to another URL, credentials from a
// file or the environment that never appear in errors.
type HTTPFile struct {
	URL     string            `yaml:"url"`
	Method  string            `yaml:"method"` // GET (default) or POST
	Headers map[string]string `yaml:"headers"`
	Body    string            `yaml:"body"` // sent with POST
	// BearerToken and BasicAuth are the credentials, read at each fetch.
	BearerToken Secret    `yaml:"bearer_token"`
	BasicAuth   basicAuth `yaml:"basic_auth"`
	// CAFile holds the PEM certificates that sign the server's, for
	// portals on a private CA.
	CAFile   string `yaml:"ca_file"`
	MaxBytes int64  `yaml:"max_bytes"`
}

type basicAuth struct {
	Username string `yaml:"username"`
	Password Secret `yaml:"password"`
}

// fetcher fetches an HTTPFile.
type fetcher struct {
	HTTPFile
	env    Env
	accept string       // the Accept header
	client *http.Client // one per collector, so keep-alive connections are reused; nil for a file
}

// newFetcher checks f for a source that reads path instead when it is set
// (and then takes none of the HTTP settings); max_bytes bounds either. With
// prefix "config", problems are at config.url and so on; with neither url
// nor path, at the one that main names ("url" or "path").
func newFetcher(f HTTPFile, env Env, path, main, accept, prefix string) (*fetcher, []catalogue.FieldError) {
	var errs []catalogue.FieldError
	add := func(p, msg string) { errs = append(errs, catalogue.FieldError{Path: prefix + "." + p, Msg: msg}) }
	u, err := url.Parse(f.URL)
	switch {
	case f.URL != "" && path != "":
		add("path", "set one of url and path, not both")
	case path != "":
		for _, o := range []struct {
			key string
			set bool
		}{
			{"method", f.Method != ""}, {"headers", len(f.Headers) > 0}, {"body", f.Body != ""},
			{"bearer_token", !f.BearerToken.IsZero()}, {"basic_auth", f.BasicAuth != (basicAuth{})}, {"ca_file", f.CAFile != ""},
		} {
			if o.set {
				add(o.key, "only for a url, not a path")
			}
		}
	case f.URL == "" && main == "path":
		add("path", "required (or url, to fetch the file)")
	case f.URL == "":
		add("url", "required (or path, for a file)")
	case err == nil && u.User != nil:
		add("url", "credentials do not belong in the URL: use basic_auth with a password file or env")
	case err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "":
		add("url", fmt.Sprintf("%q is not an http or https URL", redact.URL(f.URL)))
	}
	f.Method = strings.ToUpper(f.Method)
	if f.Method == "" {
		f.Method = http.MethodGet
	}
	if f.Method != http.MethodGet && f.Method != http.MethodPost {
		add("method", fmt.Sprintf("%q is not GET or POST", f.Method))
	}
	if f.Body != "" && f.Method != http.MethodPost && path == "" {
		add("body", "only a POST sends a body")
	}
	errs = append(errs, f.BearerToken.Check(prefix+".bearer_token", false)...)
	if f.BasicAuth.Username != "" || !f.BasicAuth.Password.IsZero() {
		if f.BasicAuth.Username == "" {
			add("basic_auth.username", "required")
		}
		errs = append(errs, f.BasicAuth.Password.Check(prefix+".basic_auth.password", true)...)
		if !f.BearerToken.IsZero() {
			add("basic_auth", "set one of bearer_token and basic_auth, not both")
		}
	}
	if f.MaxBytes < 0 {
		add("max_bytes", "must not be negative")
	}
	if f.MaxBytes == 0 {
		f.MaxBytes = defaultMaxBytes
	}
	f.MaxBytes = min(f.MaxBytes, env.Limits.WithDefaults().MaxBytes)
	tlsConfig := &tls.Config{MinVersion: tls.VersionTLS12}
	if f.CAFile != "" {
		if pool, err := readCAFile(env, f.CAFile); err != nil {
			add("ca_file", err.Error())
		} else {
			tlsConfig.RootCAs = pool
		}
	}
	ft := &fetcher{HTTPFile: f, env: env, accept: accept}
	if len(errs) > 0 || path != "" {
		return ft, errs
	}
	transport := &http.Transport{
		Proxy:               http.ProxyFromEnvironment,
		DialContext:         (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		TLSClientConfig:     tlsConfig,
		TLSHandshakeTimeout: 10 * time.Second,
		MaxIdleConnsPerHost: 2,
		// Idle connections outlive the refresh interval, so each refresh
		// reuses the last one's.
		IdleConnTimeout: env.Source.Interval.Std() + time.Minute,
	}
	ft.client = &http.Client{
		Transport: transport,
		Timeout:   env.Source.Timeout.Std(),
		CheckRedirect: func(req *http.Request, _ []*http.Request) error {
			return fmt.Errorf("redirected to %s: only the configured URL is fetched", redact.URL(req.URL.String()))
		},
	}
	return ft, nil
}

func readCAFile(env Env, path string) (*x509.CertPool, error) {
	f, err := OpenFile(env.Dir, path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	pem, err := io.ReadAll(io.LimitReader(f, 1<<20)) // a bundle of certificates, not more
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("%s holds no PEM certificate", path)
	}
	return pool, nil
}

// remote is true when the document is fetched rather than read from a file.
func (f *fetcher) remote() bool { return f.client != nil }

// where names the URL in errors, without credentials or query values.
func (f *fetcher) where() string { return redact.URL(f.URL) }

// Close drops the idle keep-alive connections, for a collector replaced on
// a catalogue reload.
func (f *fetcher) Close() error {
	if f.client != nil {
		f.client.CloseIdleConnections()
	}
	return nil
}

// get fetches the document, reading at most max_bytes. Errors name the
// method and the URL, and never a secret.
func (f *fetcher) get(ctx context.Context) ([]byte, error) {
	data, err := f.do(ctx)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", f.Method, f.where(), err)
	}
	return data, nil
}

func (f *fetcher) do(ctx context.Context) ([]byte, error) {
	var body io.Reader
	if f.Body != "" {
		body = strings.NewReader(f.Body)
	}
	req, err := http.NewRequestWithContext(ctx, f.Method, f.URL, body)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", f.accept)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, v := range f.Headers {
		req.Header.Set(k, v)
	}
	var secrets []string
	switch {
	case !f.BearerToken.IsZero():
		token, err := f.BearerToken.Read(f.env.Dir)
		if err != nil {
			return nil, fmt.Errorf("bearer token: %w", err)
		}
		secrets = append(secrets, token)
		req.Header.Set("Authorization", "Bearer "+token)
	case f.BasicAuth.Username != "":
		password, err := f.BasicAuth.Password.Read(f.env.Dir)
		if err != nil {
			return nil, fmt.Errorf("basic auth password: %w", err)
		}
		secrets = append(secrets, password)
		req.SetBasicAuth(f.BasicAuth.Username, password)
	}
	resp, err := f.client.Do(req)
	if err != nil {
		return nil, f.failed(err, secrets)
	}
	defer resp.Body.Close()
	// Drained, so that the connection goes back to the pool for the next refresh.
	defer func() { _, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, f.MaxBytes)) }()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("HTTP status %s", resp.Status)
	}
	if resp.ContentLength > f.MaxBytes {
		return nil, fmt.Errorf("response of %d bytes is larger than max_bytes %d", resp.ContentLength, f.MaxBytes)
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, f.MaxBytes+1))
	if err != nil {
		return nil, f.failed(err, secrets)
	}
	if int64(len(data)) > f.MaxBytes {
		return nil, fmt.Errorf("response is larger than max_bytes %d", f.MaxBytes)
	}
	return data, nil
}

// failed explains a failed request without its secrets.
func (f *fetcher) failed(err error, secrets []string) error {
	var ne net.Error
	timeout := errors.As(err, &ne) && ne.Timeout()
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err // the URL is already in the message
	}
	if timeout {
		err = fmt.Errorf("timed out after %s: %w", f.env.Source.Timeout, err)
	}
	return withoutSecrets(err, secrets...)
}

// fetchedFS holds one fetched document as a file named by its URL, so that
// a collector reads it as it reads a file on disk.
type fetchedFS struct {
	name string
	data []byte
}

func (m fetchedFS) Open(name string) (fs.File, error) {
	if name != m.name {
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrNotExist}
	}
	return &fetchedFile{bytes.NewReader(m.data), m}, nil
}

type fetchedFile struct {
	*bytes.Reader
	fs fetchedFS
}

func (f *fetchedFile) Stat() (fs.FileInfo, error) { return f, nil }
func (f *fetchedFile) Close() error               { return nil }
func (f *fetchedFile) Name() string               { return f.fs.name }
func (f *fetchedFile) Size() int64                { return int64(len(f.fs.data)) }
func (f *fetchedFile) Mode() fs.FileMode          { return 0o444 }
func (f *fetchedFile) ModTime() time.Time         { return time.Time{} }
func (f *fetchedFile) IsDir() bool                { return false }
func (f *fetchedFile) Sys() any                   { return nil }

// readURL fetches the document and reads it with read, as a file named by its
// URL.
func (f *fetcher) readURL(ctx context.Context, m *Mapper, l Layout, read func(dir fs.FS, name string, l Layout) (*Batch, error)) (*Batch, error) {
	data, err := f.get(ctx)
	if err != nil {
		return nil, fmt.Errorf("source %s: %w", m.Source(), err)
	}
	return read(fetchedFS{f.where(), data}, f.where(), l)
}
