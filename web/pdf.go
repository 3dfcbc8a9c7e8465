package web

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"

	"github.com/kpiwatch/kpiwatch/internal/genfile"
)

// ChromiumPackage is the Debian package that prints the briefing to PDF.
const ChromiumPackage = "chromium"

// ErrNoChromium is returned when no headless Chromium is installed.
var ErrNoChromium = errors.New("chromium is not installed (Debian: apt-get install -y " + ChromiumPackage + ")")

// Chromium finds the Chromium binary.
func Chromium() (string, error) {
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p, nil
		}
	}
	return "", ErrNoChromium
}

// ChromiumArgs are the flags headless Chromium runs with here: in its
// sandbox unless noSandbox (Chromium refuses its sandbox to root, as in a CI
// container; --web.chromium-no-sandbox says so), no network of its own, a
// throwaway profile in profileDir.
func ChromiumArgs(profileDir string, noSandbox bool, extra ...string) []string {
	args := []string{"--headless", "--disable-gpu", "--disable-background-networking",
		"--disable-component-update", "--disable-sync", "--no-first-run", "--hide-scrollbars",
		"--user-data-dir=" + profileDir}
	if noSandbox {
		args = append(args, "--no-sandbox")
	}
	return append(args, extra...)
}

// PrintPDF prints the page at url (http:// or file://) to the PDF file out
// with headless Chromium, in the page's own @page size (A4 for the briefing).
// Chromium prints into a folder of its own; out is then written whole with
// genfile.WriteFile, so a failed print never leaves half a PDF.
func PrintPDF(ctx context.Context, url, out string, noSandbox bool) error {
	bin, err := Chromium()
	if err != nil {
		return err
	}
	profile, err := os.MkdirTemp("", "kpiwatch-chromium-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(profile)
	printed := filepath.Join(profile, "print.pdf")
	cmd := exec.CommandContext(ctx, bin, ChromiumArgs(profile, noSandbox, "--no-pdf-header-footer", "--print-to-pdf="+printed, url)...)
	if b, err := cmd.CombinedOutput(); err != nil {
		if !noSandbox && os.Geteuid() == 0 {
			return fmt.Errorf("chromium --print-to-pdf: %w: Chromium refuses to run sandboxed as root: run kpiwatch as another user, or pass --web.chromium-no-sandbox\n%s", err, b)
		}
		return fmt.Errorf("chromium --print-to-pdf: %w\n%s", err, b)
	}
	pdf, err := os.Open(printed)
	if err != nil {
		return fmt.Errorf("chromium wrote no PDF: %w", err)
	}
	defer pdf.Close()
	if st, err := pdf.Stat(); err != nil || st.Size() == 0 {
		return fmt.Errorf("chromium wrote an empty PDF for %s", out)
	}
	return genfile.WriteFile(out, 0o644, func(w io.Writer) error { _, err := io.Copy(w, pdf); return err })
}
