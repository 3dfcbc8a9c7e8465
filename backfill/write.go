package backfill

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/kpiwatch/kpiwatch/conventions"
	"github.com/kpiwatch/kpiwatch/internal/redact"
	"github.com/kpiwatch/kpiwatch/push"
)

var helpEscaper = strings.NewReplacer(`\`, `\\`, "\n", `\n`)

// WriteOpenMetrics writes r as OpenMetrics with a timestamp on every sample,
// for `promtool tsdb create-blocks-from openmetrics`: each family once, with
// its series one after another and their samples in time order, then # EOF.
func WriteOpenMetrics(w io.Writer, r *Result) error {
	if len(r.Series) == 0 {
		return errNoSeries
	}
	bw := bufio.NewWriterSize(w, 1<<20)
	family := ""
	var line []byte
	for _, s := range r.Series {
		if s.Name != family {
			family = s.Name
			fmt.Fprintf(bw, "# HELP %s %s\n# TYPE %s gauge\n", s.Name, helpEscaper.Replace(conventions.Help[s.Name]), s.Name)
		}
		for i, t := range s.Times {
			line = appendSample(line[:0], s, i)
			line = append(line, ' ')
			// OpenMetrics timestamps are seconds; sample times are whole seconds.
			line = strconv.AppendInt(line, t/1000, 10)
			line = append(line, '\n')
			if _, err := bw.Write(line); err != nil {
				return err
			}
		}
	}
	if _, err := bw.WriteString("# EOF\n"); err != nil {
		return err
	}
	return bw.Flush()
}

// appendSample appends name{labels} value.
func appendSample(b []byte, s Series, i int) []byte {
	b = append(b, s.Name...)
	if s.Labels != "" {
		b = append(b, '{')
		b = append(b, s.Labels...)
		b = append(b, '}')
	}
	b = append(b, ' ')
	return append(b, formatValue(s.Values[i])...)
}

// importChunk is how much text goes into one import request, well under
// VictoriaMetrics' -maxInsertRequestSize (32 MB by default).
const importChunk = 8 << 20

// ImportVictoriaMetrics sends r to a VictoriaMetrics (or vmagent) import
// endpoint, /api/v1/import/prometheus, as text with millisecond timestamps,
// gzipped, in chunks. auth is read from its files for each request.
func ImportVictoriaMetrics(ctx context.Context, client *http.Client, url string, auth push.Auth, r *Result) error {
	if len(r.Series) == 0 {
		return errNoSeries
	}
	var chunk bytes.Buffer
	for _, s := range r.Series {
		for i, t := range s.Times {
			b := appendSample(chunk.AvailableBuffer(), s, i)
			b = append(b, ' ')
			b = strconv.AppendInt(b, t, 10)
			b = append(b, '\n')
			chunk.Write(b)
			if chunk.Len() >= importChunk {
				if err := postImport(ctx, client, url, auth, chunk.Bytes()); err != nil {
					return err
				}
				chunk.Reset()
			}
		}
	}
	if chunk.Len() == 0 {
		return nil
	}
	return postImport(ctx, client, url, auth, chunk.Bytes())
}

func postImport(ctx context.Context, client *http.Client, url string, auth push.Auth, text []byte) error {
	var body bytes.Buffer
	zw := gzip.NewWriter(&body)
	_, _ = zw.Write(text)
	if err := zw.Close(); err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, &body)
	if err != nil {
		return fmt.Errorf("import URL %s: not a valid URL", redact.URL(url))
	}
	req.Header.Set("Content-Type", "text/plain")
	req.Header.Set("Content-Encoding", "gzip")
	if err := auth.Apply(req); err != nil {
		return err
	}
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("importing into %s: %w", redact.URL(req.URL.String()), err)
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		return fmt.Errorf("importing into %s: %s: %s", redact.URL(req.URL.String()), resp.Status, bytes.TrimSpace(msg))
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	return nil
}
