package web

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
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

// ChromiumArgs are the flags headless Chromium runs with here: no sandbox (CI
// runs as root), no network of its own, a throwaway profile in profileDir.
func ChromiumArgs(profileDir string, extra ...string) []string {
	return append([]string{"--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
		"--disable-component-update", "--disable-sync", "--no-first-run", "--hide-scrollbars",
		"--user-data-dir=" + profileDir}, extra...)
}

// PrintPDF prints the page at url (http:// or file://) to the PDF file out
// with headless Chromium, in the page's own @page size (A4 for the briefing).
func PrintPDF(ctx context.Context, url, out string) error {
	bin, err := Chromium()
	if err != nil {
		return err
	}
	profile, err := os.MkdirTemp("", "kpiwatch-chromium-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(profile)
	abs, err := filepath.Abs(out)
	if err != nil {
		return err
	}
	cmd := exec.CommandContext(ctx, bin, ChromiumArgs(profile, "--no-pdf-header-footer", "--print-to-pdf="+abs, url)...)
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("chromium --print-to-pdf: %w\n%s", err, b)
	}
	if st, err := os.Stat(abs); err != nil || st.Size() == 0 {
		return fmt.Errorf("chromium wrote no PDF to %s", out)
	}
	return nil
}
