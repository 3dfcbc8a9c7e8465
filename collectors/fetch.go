package collectors

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"time"

	promconfig "github.com/prometheus/common/config"
	"github.com/prometheus/common/version"
	yamlv2 "go.yaml.in/yaml/v2"
	"gopkg.in/yaml.v3"

	"github.com/kpiwatch/kpiwatch/catalogue"
	"github.com/kpiwatch/kpiwatch/internal/redact"
)

// defaultMaxBytes bounds a response when max_bytes is not set.
const defaultMaxBytes = 16 << 20

// HTTPFile is a document behind a URL: a portal's statistics endpoint, a
// report's download link. Every collector that fetches one takes these
// settings, inline in its config, and the same guards: a timeout (the
// source's), a size limit, no redirect to another URL. Credentials and TLS
// are Prometheus' own http_config (prometheus/common), as every Prometheus
// user writes it for a scrape job: secrets from files, or from environment
// variables through the *_ref fields, and never in errors.
type HTTPFile struct {
	URL     string            `yaml:"url"`
	Method  string            `yaml:"method"` // GET (default) or POST
	Headers map[string]string `yaml:"headers"`
	Body    string            `yaml:"body"` // sent with POST
	// HTTPConfig is decoded by prometheus/common's own YAML rules, strictly.
	HTTPConfig yaml.Node `yaml:"http_config"`
	MaxBytes   int64     `yaml:"max_bytes"`
}

// fetcher fetches an HTTPFile.
type fetcher struct {
	HTTPFile
	env    Env
	accept string // the Accept header
	url    bool   // fetched, rather than read from a file
	http   promconfig.HTTPClientConfig
	mu     sync.Mutex
	// client is built at the first fetch, when http_config's files are
	// read (a catalogue is checked without them), and kept, so keep-alive
	// connections are reused across refreshes.
	client *http.Client
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
			{"http_config", !f.HTTPConfig.IsZero()},
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
		add("url", "credentials do not belong in the URL: use http_config.basic_auth with a password_file (or password_ref, an environment variable)")
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
	if f.MaxBytes < 0 {
		add("max_bytes", "must not be negative")
	}
	if f.MaxBytes == 0 {
		f.MaxBytes = defaultMaxBytes
	}
	f.MaxBytes = min(f.MaxBytes, env.Limits.WithDefaults().MaxBytes)
	hc, err := decodeHTTPConfig(&f.HTTPConfig, env.Root)
	if err != nil {
		errs = append(errs, catalogue.FieldError{Path: prefix + ".http_config", Line: f.HTTPConfig.Line, Msg: err.Error()})
	}
	return &fetcher{HTTPFile: f, env: env, accept: accept, url: path == "", http: hc}, errs
}

// httpClient is the fetcher's client, built on first use. A file that
// http_config names and that cannot be read (a CA bundle) fails this
// refresh, named, and is tried again at the next.
func (f *fetcher) httpClient() (*http.Client, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.client != nil {
		return f.client, nil
	}
	client, err := promconfig.NewClientFromConfig(f.http, "kpiwatch_"+f.env.Source.ID,
		promconfig.WithSecretManager(envSecrets{}),
		promconfig.WithUserAgent("kpiwatch/"+version.Version),
		// Idle connections outlive the refresh interval, so each refresh
		// reuses the last one's.
		promconfig.WithIdleConnTimeout(f.env.Source.Interval.Std()+time.Minute))
	if err != nil {
		return nil, fmt.Errorf("http_config: %w", err)
	}
	client.Timeout = f.env.Source.Timeout.Std()
	f.client = client
	return client, nil
}

// decodeHTTPConfig reads an http_config node as Prometheus reads its own
// configuration (strictly, with its defaults), its relative files resolving
// against root, and refuses redirects: only the configured URL is fetched.
func decodeHTTPConfig(n *yaml.Node, root string) (promconfig.HTTPClientConfig, error) {
	hc := promconfig.DefaultHTTPClientConfig
	if !n.IsZero() {
		raw, err := yaml.Marshal(n)
		if err != nil {
			return hc, err
		}
		if err := yamlv2.UnmarshalStrict(raw, &hc); err != nil {
			return hc, err
		}
	}
	hc.SetDirectory(root)
	hc.FollowRedirects = false
	return hc, hc.Validate()
}

// envSecrets resolves http_config's *_ref fields (password_ref,
// credentials_ref, ...) to environment variables, read at each request so
// that a rotated credential is picked up.
type envSecrets struct{}

func (envSecrets) Fetch(_ context.Context, name string) (string, error) {
	v, ok := os.LookupEnv(name)
	switch {
	case !ok:
		return "", fmt.Errorf("environment variable %s is not set", name)
	case strings.TrimSpace(v) == "":
		return "", fmt.Errorf("environment variable %s is empty", name)
	}
	return strings.TrimSpace(v), nil
}

// remote is true when the document is fetched rather than read from a file.
func (f *fetcher) remote() bool { return f.url }

// where names the URL in errors, without credentials or query values.
func (f *fetcher) where() string { return redact.URL(f.URL) }

// Close drops the idle keep-alive connections, for a collector replaced on
// a catalogue reload.
func (f *fetcher) Close() error {
	f.mu.Lock()
	defer f.mu.Unlock()
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
	client, err := f.httpClient()
	if err != nil {
		return nil, err
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, f.failed(err)
	}
	defer resp.Body.Close()
	// Drained, so that the connection goes back to the pool for the next refresh.
	defer func() { _, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, f.MaxBytes)) }()
	if loc := resp.Header.Get("Location"); loc != "" && resp.StatusCode/100 == 3 {
		return nil, fmt.Errorf("redirected to %s: only the configured URL is fetched", redact.URL(loc))
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("HTTP status %s", resp.Status)
	}
	if resp.ContentLength > f.MaxBytes {
		return nil, fmt.Errorf("response of %d bytes is larger than max_bytes %d", resp.ContentLength, f.MaxBytes)
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, f.MaxBytes+1))
	if err != nil {
		return nil, f.failed(err)
	}
	if int64(len(data)) > f.MaxBytes {
		return nil, fmt.Errorf("response is larger than max_bytes %d", f.MaxBytes)
	}
	return data, nil
}

// failed explains a failed request: a timeout as such, the URL once.
func (f *fetcher) failed(err error) error {
	var ne net.Error
	timeout := errors.As(err, &ne) && ne.Timeout()
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err // the URL is already in the message
	}
	if timeout {
		err = fmt.Errorf("timed out after %s: %w", f.env.Source.Timeout, err)
	}
	return err
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
