// Package htmlcheck reads served pages the way the tests check them: the
// data rows of a table, the links, and the accessibility basics.
package htmlcheck

import (
	"strconv"
	"strings"

	"golang.org/x/net/html"
)

// Parse parses a page.
func Parse(body string) (*html.Node, error) { return html.Parse(strings.NewReader(body)) }

// Attr is the value of an element's attribute.
func Attr(n *html.Node, name string) (string, bool) {
	for _, a := range n.Attr {
		if a.Key == name {
			return a.Val, true
		}
	}
	return "", false
}

// Walk calls f on n and everything under it, in document order.
func Walk(n *html.Node, f func(*html.Node)) {
	f(n)
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		Walk(c, f)
	}
}

// Row is a table row that carries data: its data-* attributes (without
// the prefix) and its text.
type Row struct {
	Data map[string]string
	Text string
}

// Rows lists the data rows of the table with the given id.
func Rows(doc *html.Node, tableID string) []Row {
	var out []Row
	Walk(doc, func(n *html.Node) {
		if n.Type != html.ElementNode || n.Data != "table" {
			return
		}
		if id, _ := Attr(n, "id"); id != tableID {
			return
		}
		Walk(n, func(tr *html.Node) {
			if tr.Type != html.ElementNode || tr.Data != "tr" {
				return
			}
			r := Row{Data: map[string]string{}}
			for _, a := range tr.Attr {
				if strings.HasPrefix(a.Key, "data-") {
					r.Data[strings.TrimPrefix(a.Key, "data-")] = a.Val
				}
			}
			if len(r.Data) > 0 {
				r.Text = Text(tr)
				out = append(out, r)
			}
		})
	})
	return out
}

// Text is the text under n, without the titles of charts.
func Text(n *html.Node) string {
	var b strings.Builder
	Walk(n, func(c *html.Node) {
		if c.Type == html.TextNode && (c.Parent == nil || c.Parent.Data != "title") {
			b.WriteString(c.Data)
			b.WriteString(" ")
		}
	})
	return b.String()
}

// Links lists the href of every a and link element.
func Links(doc *html.Node) []string {
	var out []string
	Walk(doc, func(n *html.Node) {
		if n.Type == html.ElementNode && (n.Data == "a" || n.Data == "link") {
			if h, ok := Attr(n, "href"); ok {
				out = append(out, h)
			}
		}
	})
	return out
}

// Accessibility lists the basics a page misses: the html element's lang
// (want), a scope on every table header, a label for every form control,
// a text alternative for every chart, and nothing fetched from elsewhere.
func Accessibility(doc *html.Node, want string) []string {
	var problems []string
	labels := map[string]bool{}
	var controls []string
	Walk(doc, func(n *html.Node) {
		if n.Type != html.ElementNode {
			return
		}
		switch n.Data {
		case "html":
			if l, _ := Attr(n, "lang"); l != want {
				problems = append(problems, "html lang="+strconv.Quote(l)+", want "+want)
			}
		case "th":
			if s, _ := Attr(n, "scope"); s != "col" && s != "row" {
				problems = append(problems, "a th without scope")
			}
		case "label":
			f, _ := Attr(n, "for")
			labels[f] = true
		case "select", "textarea":
			id, _ := Attr(n, "id")
			controls = append(controls, id)
		case "input":
			if ty, _ := Attr(n, "type"); ty != "hidden" && ty != "submit" {
				id, _ := Attr(n, "id")
				controls = append(controls, id)
			}
		case "svg":
			_, label := Attr(n, "aria-label")
			if role, _ := Attr(n, "role"); (role == "img" || role == "group") && !label {
				problems = append(problems, "a chart without aria-label")
			}
		case "script", "img", "iframe":
			if src, _ := Attr(n, "src"); src != "" {
				problems = append(problems, n.Data+" fetches "+src)
			}
		}
	})
	for _, id := range controls {
		if id == "" || !labels[id] {
			problems = append(problems, "a form control without a label: "+strconv.Quote(id))
		}
	}
	return problems
}
