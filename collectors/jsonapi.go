package collectors

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"math/big"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/itchyny/gojq"
	"gopkg.in/yaml.v3"

	"github.com/kpiwatch/kpiwatch/catalogue"
	"github.com/kpiwatch/kpiwatch/internal/redact"
)

func init() { Register("json", newJSONAPI) }

// defaultMaxBytes bounds a response when max_bytes is not set.
const defaultMaxBytes = 16 << 20

// jsonConfig is a JSON document fetched over HTTP, such as a portal's
// statistics endpoint, or read from a file, such as a portal's published
// export.
type jsonConfig struct {
	URL     string            `yaml:"url"`
	Path    string            `yaml:"path"`   // instead of url
	Method  string            `yaml:"method"` // GET (default) or POST
	Headers map[string]string `yaml:"headers"`
	Body    string            `yaml:"body"` // sent with POST
	// Query is a jq expression that turns the document into rows: flat
	// objects, or arrays of them, whose keys are the mapping's columns.
	Query       string    `yaml:"query"`
	BearerToken Secret    `yaml:"bearer_token"`
	BasicAuth   basicAuth `yaml:"basic_auth"`
	// CAFile holds the PEM certificates that sign the server's, for
	// portals on a private CA.
	CAFile   string  `yaml:"ca_file"`
	MaxBytes int64   `yaml:"max_bytes"`
	Mapping  Mapping `yaml:"mapping"`
}

type basicAuth struct {
	Username string `yaml:"username"`
	Password Secret `yaml:"password"`
}

type jsonCollector struct {
	cfg    jsonConfig
	env    Env
	url    *url.URL
	query  *gojq.Code
	client *http.Client // one per collector, so keep-alive connections are reused; nil for a file
}

func newJSONAPI(node *yaml.Node, env Env) (Collector, []catalogue.FieldError) {
	var cfg jsonConfig
	if errs := catalogue.DecodeStrict(node, &cfg, "config"); errs != nil {
		return nil, errs
	}
	var errs []catalogue.FieldError
	add := func(p, msg string) { errs = append(errs, catalogue.FieldError{Path: "config." + p, Msg: msg}) }
	u, err := url.Parse(cfg.URL)
	switch {
	case cfg.URL != "" && cfg.Path != "":
		add("path", "set one of url and path, not both")
	case cfg.Path != "":
		for _, o := range []struct {
			key string
			set bool
		}{
			{"method", cfg.Method != ""}, {"headers", len(cfg.Headers) > 0}, {"body", cfg.Body != ""},
			{"bearer_token", !cfg.BearerToken.IsZero()}, {"basic_auth", cfg.BasicAuth != (basicAuth{})}, {"ca_file", cfg.CAFile != ""},
		} {
			if o.set {
				add(o.key, "only for a url, not a path")
			}
		}
	case cfg.URL == "":
		add("url", "required (or path, for a file)")
	case err == nil && u.User != nil:
		add("url", "credentials do not belong in the URL: use basic_auth with a password file or env")
	case err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "":
		add("url", fmt.Sprintf("%q is not an http or https URL", redact.URL(cfg.URL)))
	}
	cfg.Method = strings.ToUpper(cfg.Method)
	if cfg.Method == "" {
		cfg.Method = http.MethodGet
	}
	if cfg.Method != http.MethodGet && cfg.Method != http.MethodPost {
		add("method", fmt.Sprintf("%q is not GET or POST", cfg.Method))
	}
	if cfg.Body != "" && cfg.Method != http.MethodPost && cfg.Path == "" {
		add("body", "only a POST sends a body")
	}
	var code *gojq.Code
	if cfg.Query == "" {
		cfg.Query = "."
	}
	if q, err := gojq.Parse(cfg.Query); err != nil {
		add("query", fmt.Sprintf("not a jq expression: %v", err))
	} else if code, err = gojq.Compile(q); err != nil {
		add("query", err.Error())
	}
	errs = append(errs, cfg.BearerToken.Check("config.bearer_token", false)...)
	if cfg.BasicAuth.Username != "" || !cfg.BasicAuth.Password.IsZero() {
		if cfg.BasicAuth.Username == "" {
			add("basic_auth.username", "required")
		}
		errs = append(errs, cfg.BasicAuth.Password.Check("config.basic_auth.password", true)...)
		if !cfg.BearerToken.IsZero() {
			add("basic_auth", "set one of bearer_token and basic_auth, not both")
		}
	}
	if cfg.MaxBytes < 0 {
		add("max_bytes", "must not be negative")
	}
	if cfg.MaxBytes == 0 {
		cfg.MaxBytes = defaultMaxBytes
	}
	cfg.MaxBytes = min(cfg.MaxBytes, env.Limits.WithDefaults().MaxBytes)
	tlsConfig := &tls.Config{MinVersion: tls.VersionTLS12}
	if cfg.CAFile != "" {
		if pool, err := readCAFile(env, cfg.CAFile); err != nil {
			add("ca_file", err.Error())
		} else {
			tlsConfig.RootCAs = pool
		}
	}
	errs = append(errs, cfg.Mapping.Check("config.mapping")...)
	if len(errs) > 0 {
		return nil, errs
	}
	if cfg.Path != "" {
		return &jsonCollector{cfg: cfg, env: env, query: code}, nil
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
	client := &http.Client{
		Transport: transport,
		Timeout:   env.Source.Timeout.Std(),
		CheckRedirect: func(req *http.Request, _ []*http.Request) error {
			return fmt.Errorf("redirected to %s: only the configured URL is fetched", redact.URL(req.URL.String()))
		},
	}
	return &jsonCollector{cfg: cfg, env: env, url: u, query: code, client: client}, nil
}

func readCAFile(env Env, path string) (*x509.CertPool, error) {
	f, err := OpenFile(env.Dir, path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	pem, err := io.ReadAll(f)
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("%s holds no PEM certificate", path)
	}
	return pool, nil
}

// Close drops the idle keep-alive connections, for a collector replaced on
// a catalogue reload.
func (c *jsonCollector) Close() error {
	if c.client != nil {
		c.client.CloseIdleConnections()
	}
	return nil
}

func (c *jsonCollector) Collect(ctx context.Context, m *Mapper) (*Batch, error) {
	where, doc, err := c.document(ctx)
	if err != nil {
		return nil, fmt.Errorf("source %s: %w", m.Source(), err)
	}
	header := c.cfg.Mapping.Columns()
	b, err := m.Bind(c.cfg.Mapping, header, where)
	if err != nil {
		return nil, err
	}
	shapeErr := func(path string, format string, args ...any) error {
		return fmt.Errorf("source %s: %s: query %q: result%s %s", m.Source(), where, c.cfg.Query, path, fmt.Sprintf(format, args...))
	}
	batch := &Batch{}
	row := 0
	mapRow := func(v any, path string) error {
		obj, ok := v.(map[string]any)
		if !ok {
			return shapeErr(path, "is %s, want an object with keys %q", jsonKind(v), header)
		}
		row++
		cells := make([]string, len(header))
		for i, key := range header {
			val, ok := obj[key]
			if !ok {
				batch.Rejected = append(batch.Rejected, &RowError{Location{Source: m.Source(), File: where, Row: row, Column: key}, fmt.Errorf("result%s has no key %q (it has %q)", path, key, slices.Sorted(maps.Keys(obj)))})
				return nil
			}
			if cells[i], ok = jsonScalar(val, c.cfg.Mapping.Numbers); !ok {
				return shapeErr(path+"."+key, "is %s, want a string, number, boolean or null", jsonKind(val))
			}
		}
		batch.Add(b.Row(cells, row))
		return nil
	}
	iter := c.query.RunWithContext(ctx, doc)
	for n := 0; ; n++ {
		v, ok := iter.Next()
		if !ok {
			return batch, nil
		}
		if err, ok := v.(error); ok {
			return nil, fmt.Errorf("source %s: %s: query %q: %w", m.Source(), where, c.cfg.Query, err)
		}
		path := fmt.Sprintf("[%d]", n)
		if list, ok := v.([]any); ok {
			for i, item := range list {
				if err := mapRow(item, fmt.Sprintf("%s[%d]", path, i)); err != nil {
					return nil, err
				}
			}
			continue
		}
		if err := mapRow(v, path); err != nil {
			return nil, err
		}
	}
}

// document reads the file or fetches the URL and decodes it; where names
// the file or the URL (without credentials) in errors.
func (c *jsonCollector) document(ctx context.Context) (where string, doc any, err error) {
	if c.cfg.Path != "" {
		if doc, err = c.readFile(ctx); err != nil {
			return "", nil, fmt.Errorf("%s: %w", c.cfg.Path, err)
		}
		return c.cfg.Path, doc, nil
	}
	where = redact.URL(c.cfg.URL)
	if doc, err = c.fetch(ctx); err != nil {
		return "", nil, fmt.Errorf("%s %s: %w", c.cfg.Method, where, err)
	}
	return where, doc, nil
}

// fetch gets and decodes the document, reading at most max_bytes.
func (c *jsonCollector) fetch(ctx context.Context) (any, error) {
	var body io.Reader
	if c.cfg.Body != "" {
		body = strings.NewReader(c.cfg.Body)
	}
	req, err := http.NewRequestWithContext(ctx, c.cfg.Method, c.cfg.URL, body)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, v := range c.cfg.Headers {
		req.Header.Set(k, v)
	}
	var secrets []string
	switch {
	case !c.cfg.BearerToken.IsZero():
		token, err := c.cfg.BearerToken.Read(c.env.Dir)
		if err != nil {
			return nil, fmt.Errorf("bearer token: %w", err)
		}
		secrets = append(secrets, token)
		req.Header.Set("Authorization", "Bearer "+token)
	case c.cfg.BasicAuth.Username != "":
		password, err := c.cfg.BasicAuth.Password.Read(c.env.Dir)
		if err != nil {
			return nil, fmt.Errorf("basic auth password: %w", err)
		}
		secrets = append(secrets, password)
		req.SetBasicAuth(c.cfg.BasicAuth.Username, password)
	}
	resp, err := c.client.Do(req)
	if err != nil {
		return nil, c.failed(err, secrets)
	}
	defer resp.Body.Close()
	// Drained, so that the connection goes back to the pool for the next refresh.
	defer func() { _, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, c.cfg.MaxBytes)) }()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("HTTP status %s", resp.Status)
	}
	if resp.ContentLength > c.cfg.MaxBytes {
		return nil, fmt.Errorf("response of %d bytes is larger than max_bytes %d", resp.ContentLength, c.cfg.MaxBytes)
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, c.cfg.MaxBytes+1))
	if err != nil {
		return nil, c.failed(err, secrets)
	}
	if int64(len(data)) > c.cfg.MaxBytes {
		return nil, fmt.Errorf("response is larger than max_bytes %d", c.cfg.MaxBytes)
	}
	return decodeJSON(data)
}

// readFile reads and decodes the file, reading at most max_bytes.
func (c *jsonCollector) readFile(ctx context.Context) (any, error) {
	f, err := OpenFile(c.env.Dir, c.cfg.Path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(NewBoundedReader(ctx, f, "", min(c.cfg.MaxBytes, c.env.Limits.MaxBytes), 0))
	if err != nil {
		return nil, err
	}
	return decodeJSON(data)
}

// decodeJSON decodes one JSON document, numbers kept exact.
func decodeJSON(data []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber() // gojq keeps integers exact
	var doc any
	if err := dec.Decode(&doc); err != nil {
		return nil, fmt.Errorf("not a JSON document: %w", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("not a JSON document: data after the first value")
	}
	return doc, nil
}

// failed explains a failed request without its secrets.
func (c *jsonCollector) failed(err error, secrets []string) error {
	var ne net.Error
	timeout := errors.As(err, &ne) && ne.Timeout()
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err // the URL is already in the message
	}
	if timeout {
		err = fmt.Errorf("timed out after %s: %w", c.env.Source.Timeout, err)
	}
	return withoutSecrets(err, secrets...)
}

// jsonScalar turns a value into a cell for the mapper: numbers in the
// source's number format, booleans as 1 and 0 (milestones), null as empty.
func jsonScalar(v any, nf NumberFormat) (string, bool) {
	switch v := v.(type) {
	case nil:
		return "", true
	case string:
		return v, true
	case bool:
		if v {
			return "1", true
		}
		return "0", true
	case int:
		return strconv.Itoa(v), true
	case float64:
		return FormatNumber(v, nf), true
	case json.Number:
		f, err := v.Float64()
		return FormatNumber(f, nf), err == nil
	case *big.Int:
		return v.String(), true
	}
	return "", false
}

func jsonKind(v any) string {
	switch v := v.(type) {
	case nil:
		return "null"
	case map[string]any:
		return "an object"
	case []any:
		return "an array"
	case string:
		return fmt.Sprintf("a string (%.40q)", v)
	case bool:
		return "a boolean"
	}
	return "a number"
}
