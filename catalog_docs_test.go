package tether_test

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/tether-iot/tether"
)

var update = flag.Bool("update", false, "rewrite the generated docs (docs/errors.md and the table in docs/troubleshooting.md)")

// The generated table in docs/troubleshooting.md sits between these lines.
const (
	tableBegin = "<!-- BEGIN generated from catalog.go by 'go test -run TestErrorsDoc -update .'; do not edit -->"
	tableEnd   = "<!-- END generated -->"
)

// TestErrorsDoc fails when docs/errors.md or the error table of
// docs/troubleshooting.md differ from what the catalog generates; -update
// rewrites them.
func TestErrorsDoc(t *testing.T) {
	checkGenerated(t, tether.DocsFile, errorsDoc())
	old, err := os.ReadFile("docs/troubleshooting.md")
	if err != nil {
		t.Fatal(err)
	}
	s := string(old)
	i, j := strings.Index(s, tableBegin), strings.Index(s, tableEnd)
	if i < 0 || j < i {
		t.Fatalf("docs/troubleshooting.md lacks the markers %q … %q", tableBegin, tableEnd)
	}
	checkGenerated(t, "docs/troubleshooting.md", s[:i]+tableBegin+"\n"+summaryTable("errors.md")+tableEnd+s[j+len(tableEnd):])
}

func checkGenerated(t *testing.T, path, want string) {
	t.Helper()
	got, err := os.ReadFile(path)
	if *update {
		if err := os.WriteFile(path, []byte(want), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != want {
		t.Errorf("%s is stale: run 'go test -run TestErrorsDoc -update .' and commit the result", path)
	}
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

func httpCol(info tether.CodeInfo) string {
	if info.HTTP == 0 {
		return "—"
	}
	return fmt.Sprint(info.HTTP)
}

// summaryTable is one row per code, each linking to its section of
// errors.md (at link, relative to the page the table is in).
func summaryTable(link string) string {
	var b bytes.Buffer
	b.WriteString("| Code | Name | HTTP | Meaning | Retryable |\n| --- | --- | --- | --- | --- |\n")
	for _, info := range tether.Codes() {
		fmt.Fprintf(&b, "| [%d](%s#%s) | %s | %s | %s | %s |\n", int(info.Code), link, info.Anchor(),
			info.Name, httpCol(info), info.Meaning, yesNo(info.Retryable))
	}
	return b.String()
}

func errorsDoc() string {
	var b bytes.Buffer
	b.WriteString(`# Error codes

<!-- Generated from catalog.go by 'go test -run TestErrorsDoc -update .'; do not edit. -->

Tether speaks Azure IoT Hub's six-digit result codes. This page is generated
from the hub's one catalog of them (` + "`catalog.go`" + `), which the
service API, the device gateway, the connection log, ` + "`tether diagnose`" + `,
` + "`tether check`" + ` and the Go device SDK all read. The first three digits
are the HTTP status class.

Look one up from the command line, by number or by name in any case:

` + "```console" + `
$ tether errors 401003
$ tether errors iothubunauthorized
$ tether errors            # the whole table
$ tether errors 404104 -o json
` + "```" + `

"Retryable" says whether retrying the same operation can succeed; the Go
device SDK never retries a code that is not. Where the HTTP column says "—",
the code appears only on device connections and in the connection log.
Some codes exist only on Azure (AMQP links, jobs, file upload, tiers); they
are listed so that logs and alerts carried over from Azure still resolve.
For what a disconnect's precise reason means, see
[troubleshooting.md](troubleshooting.md#reasons); to find patterns in a
device's history, see [diagnose.md](diagnose.md).

`)
	b.WriteString(summaryTable(""))
	for _, info := range tether.Codes() {
		fmt.Fprintf(&b, "\n## %d %s\n\n%s.\n\n", int(info.Code), info.Name, upperFirst(info.Meaning))
		fmt.Fprintf(&b, "HTTP status: %s. Retryable: %s.\n\n", httpCol(info), yesNo(info.Retryable))
		b.WriteString("Likely causes:\n\n")
		for _, c := range info.Causes {
			fmt.Fprintf(&b, "- %s\n", upperFirst(c))
		}
		b.WriteString("\nWhat to do:\n\n")
		for i, f := range info.Fix {
			fmt.Fprintf(&b, "%d. %s\n", i+1, upperFirst(f))
		}
	}
	return b.String()
}

func upperFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// TestErrorsLinks checks that every link into errors.md from the docs
// names an anchor the generated page has.
func TestErrorsLinks(t *testing.T) {
	anchors := map[string]bool{}
	for _, info := range tether.Codes() {
		anchors[info.Anchor()] = true
	}
	files, err := filepath.Glob("docs/*.md")
	if err != nil {
		t.Fatal(err)
	}
	link := regexp.MustCompile(`errors\.md#([a-z0-9-]+)`)
	n := 0
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range link.FindAllStringSubmatch(string(b), -1) {
			n++
			if !anchors[m[1]] {
				t.Errorf("%s links to errors.md#%s, which the catalog does not generate", f, m[1])
			}
		}
	}
	if n < len(tether.Codes()) {
		t.Errorf("only %d links into errors.md found; the troubleshooting table alone should have %d", n, len(tether.Codes()))
	}
}
