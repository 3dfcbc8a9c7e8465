// Package redact makes configured URLs fit to print: they may carry
// credentials in their user info or an API key in their query.
package redact

import (
	"net/url"
	"regexp"
	"strings"
)

// queryValue matches the value of a query parameter in a URL that may not
// parse.
var queryValue = regexp.MustCompile(`([?&;][^=&#;]*=)[^&#;]*`)

// URL is a URL fit to print: user info and query values replaced by
// "xxxxx", whether or not the URL parses. Every message and log line that
// names a URL from a configuration goes through it.
func URL(raw string) string {
	const hidden = "xxxxx"
	if u, err := url.Parse(raw); err == nil {
		if u.User != nil {
			u.User = url.User(hidden)
		}
		q := u.Query()
		for k := range q {
			q[k] = []string{hidden}
		}
		u.RawQuery = strings.ReplaceAll(q.Encode(), "="+url.QueryEscape(hidden), "="+hidden)
		return u.String()
	}
	// Unparsable: cut user info by hand, then every query value.
	s := raw
	if i := strings.Index(s, "://"); i >= 0 {
		rest := s[i+3:]
		end := strings.IndexAny(rest, "/?#")
		if end < 0 {
			end = len(rest)
		}
		if at := strings.LastIndex(rest[:end], "@"); at >= 0 {
			s = s[:i+3] + hidden + "@" + rest[at+1:]
		}
	} else if at := strings.LastIndex(s, "@"); at >= 0 {
		s = hidden + "@" + s[at+1:]
	}
	return queryValue.ReplaceAllString(s, "${1}"+hidden)
}
