package collectors

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"

	"github.com/kpiwatch/kpiwatch/catalogue"
)

// Secret is a credential kept out of the catalogue: read from a file or an
// environment variable at each refresh, so a rotated token is picked up.
// Its value never appears in a log line or an error.
type Secret struct {
	File string `yaml:"file"`
	Env  string `yaml:"env"`
}

// IsZero is true when the secret is not configured.
func (s Secret) IsZero() bool { return s.File == "" && s.Env == "" }

// Check reports a secret configured both ways, or not at all when required.
func (s Secret) Check(path string, required bool) []catalogue.FieldError {
	switch {
	case s.File != "" && s.Env != "":
		return []catalogue.FieldError{{Path: path, Msg: "set one of file and env, not both"}}
	case required && s.IsZero():
		return []catalogue.FieldError{{Path: path, Msg: "required: file (a path) or env (a variable name)"}}
	}
	return nil
}

// Read returns the secret without surrounding whitespace (a file's final
// newline is not part of a token).
func (s Secret) Read(dir fs.FS) (string, error) {
	var v string
	if s.Env != "" {
		raw, ok := os.LookupEnv(s.Env)
		if !ok {
			return "", fmt.Errorf("environment variable %s is not set", s.Env)
		}
		v = strings.TrimSpace(raw)
		if v == "" {
			return "", fmt.Errorf("environment variable %s is empty", s.Env)
		}
		return v, nil
	}
	f, err := OpenFile(dir, s.File)
	if err != nil {
		return "", fmt.Errorf("reading secret: %w", err)
	}
	defer f.Close()
	raw, err := io.ReadAll(io.LimitReader(f, 64<<10))
	if err != nil {
		return "", fmt.Errorf("reading secret %s: %w", s.File, err)
	}
	if v = strings.TrimSpace(string(raw)); v == "" {
		return "", fmt.Errorf("secret file %s is empty", s.File)
	}
	return v, nil
}

// withoutSecrets removes every secret from an error's text (drivers and HTTP
// libraries may quote what they were given). Of what it wraps only a
// timeout or cancellation stays visible to errors.Is: the rest may quote
// the secret.
func withoutSecrets(err error, secrets ...string) error {
	if err == nil {
		return nil
	}
	msg := err.Error()
	for _, s := range secrets {
		if s != "" {
			msg = strings.ReplaceAll(msg, s, "<redacted>")
		}
	}
	var cause error
	for _, c := range []error{context.DeadlineExceeded, context.Canceled} {
		if errors.Is(err, c) {
			cause = c
		}
	}
	return &redactedError{msg, cause}
}

type redactedError struct {
	msg string
	err error
}

func (e *redactedError) Error() string { return e.msg }
func (e *redactedError) Unwrap() error { return e.err }
