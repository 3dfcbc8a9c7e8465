package collectors

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"io/fs"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/unicode"
	"golang.org/x/text/transform"
	"golang.org/x/text/unicode/norm"
)

// textReader reads a text file (a CSV report) as UTF-8, bounded by lim and
// stopping once ctx ends: a UTF-8 byte-order mark is dropped, and a file
// that opens with a UTF-16 one (Excel's "Unicode text", little- or
// big-endian) is decoded. Anything else is read as it is; checkText then
// refuses what is not UTF-8, naming the encoding it looks like.
func textReader(ctx context.Context, r io.Reader, name string, lim Limits) *bufio.Reader {
	const size = 1 << 16
	br := bufio.NewReaderSize(NewBoundedReader(ctx, r, name, lim.MaxBytes, lim.MaxLineBytes), size)
	bom, _ := br.Peek(3)
	var order unicode.Endianness
	switch {
	case bytes.HasPrefix(bom, []byte("\ufeff")):
		_, _ = br.Discard(3)
		return br
	case bytes.HasPrefix(bom, []byte{0xff, 0xfe}):
		order = unicode.LittleEndian
	case bytes.HasPrefix(bom, []byte{0xfe, 0xff}):
		order = unicode.BigEndian
	default:
		return br
	}
	return bufio.NewReaderSize(transform.NewReader(br, unicode.UTF16(order, unicode.ExpectBOM).NewDecoder()), size)
}

// checkText finds the first field that is not UTF-8 text (or holds a NUL,
// which no report writes) and explains it: -1 and nil when all are. A
// header that is not refuses the file; a row, only that row (a file in an
// 8-bit encoding then fails on its share of rejected rows, each naming the
// encoding).
func checkText(fields []string) (int, error) {
	for i, f := range fields {
		if !utf8.ValidString(f) {
			return i, fmt.Errorf("not valid UTF-8 text: %s", fileEncoding(f, true))
		}
		if strings.IndexByte(f, 0) >= 0 {
			return i, fmt.Errorf("NUL bytes (without them it reads %.40q): the file looks like UTF-16 without a byte-order mark; save it as \"CSV UTF-8\" in Excel, or convert it: iconv -f UTF-16LE -t UTF-8", strings.ReplaceAll(f, "\x00", ""))
		}
	}
	return -1, nil
}

// vietnamese1258 are the bytes Windows-1258 gives Vietnamese's own
// letters (ă â đ ê ô ơ ư, upper and lower case) and its five tone marks,
// which it writes as combining characters after the letter.
var vietnamese1258 = []byte{0xc3, 0xe3, 0xc2, 0xe2, 0xd0, 0xf0, 0xca, 0xea, 0xd4, 0xf4, 0xd5, 0xf5, 0xdd, 0xfd, 0xcc, 0xec, 0xde, 0xd2, 0xf2}

// legacyEncoding names the 8-bit encoding text that is not UTF-8 most
// likely is, and its name for iconv: Windows-1258 (Vietnamese ANSI, what
// Excel's plain "CSV" writes on a Vietnamese Windows) when a third of its
// bytes above ASCII are Vietnamese letters or tone marks there, showing the
// text read that way; another 8-bit encoding otherwise.
func legacyEncoding(s string) (desc, iconv string) {
	high, viet := 0, 0
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			high++
			if bytes.IndexByte(vietnamese1258, s[i]) >= 0 {
				viet++
			}
		}
	}
	if high > 0 && viet*3 >= high {
		if as1258, err := charmap.Windows1258.NewDecoder().String(s); err == nil {
			return fmt.Sprintf("it looks like Windows-1258 (Vietnamese ANSI: it reads %.40q)", norm.NFC.String(as1258)), "CP1258"
		}
	}
	return "it is in an 8-bit encoding (Windows-1252, TCVN3 or another)", "ENCODING"
}

// fileEncoding is legacyEncoding's word on a file's text, with how to
// convert the file: in Excel for a CSV, with iconv for any.
func fileEncoding(s string, csv bool) string {
	desc, iconv := legacyEncoding(s)
	if csv {
		desc += `; save it as "CSV UTF-8" in Excel, or convert it`
	} else {
		desc += "; convert it"
	}
	return desc + ": iconv -f " + iconv + " -t UTF-8"
}

// countLines counts the lines of a text file that hold more than
// delimiters and spaces (for a file that cannot be parsed: a stray quote,
// an encoding), read as textReader reads it; the count so far if the file
// cannot be read to its end.
func countLines(ctx context.Context, dir fs.FS, name string, sep rune, lim Limits) int {
	f, err := OpenFile(dir, name)
	if err != nil {
		return 0
	}
	defer f.Close()
	lim = lim.WithDefaults()
	sc := bufio.NewScanner(textReader(ctx, f, name, lim))
	sc.Buffer(nil, int(lim.MaxLineBytes)+1)
	blank := " \t\r" + string(sep)
	n := 0
	for sc.Scan() {
		if strings.Trim(sc.Text(), blank) != "" {
			n++
		}
	}
	return n
}

// utf8Text is a whole document as UTF-8: its byte-order mark handled as
// textReader handles it, and an error naming the line and the likely
// encoding if it is not UTF-8.
func utf8Text(data []byte) ([]byte, error) {
	text, err := io.ReadAll(textReader(context.Background(), bytes.NewReader(data), "", Limits{MaxBytes: int64(len(data))}))
	if err != nil {
		return nil, err
	}
	if utf8.Valid(text) {
		return text, nil
	}
	bad := 0
	for bad < len(text) {
		r, n := utf8.DecodeRune(text[bad:])
		if r == utf8.RuneError && n <= 1 {
			break
		}
		bad += n
	}
	// The string that holds the bad byte: from the quote or line break
	// before it to the one after it.
	start := bytes.LastIndexAny(text[:bad], "\"\n") + 1
	end := bytes.IndexAny(text[bad:], "\"\n")
	if end < 0 {
		end = len(text) - bad
	}
	line := bytes.Count(text[:bad], []byte{'\n'}) + 1
	return nil, fmt.Errorf("line %d is not valid UTF-8 text: %s", line, fileEncoding(string(text[start:bad+end]), false))
}
