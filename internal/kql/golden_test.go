package kql

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tether-iot/tether/internal/kql/syntax"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/golden")

// testNow is the clock reading of every golden and result test.
var testNow = time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)

// archive is a minimal txtar: a comment, then "-- name --" sections.
type archive struct {
	comment  string
	sections []section
}

type section struct{ name, body string }

func parseArchive(s string) archive {
	var a archive
	lines := strings.SplitAfter(s, "\n")
	cur := -1
	for _, l := range lines {
		t := strings.TrimRight(l, "\n")
		if strings.HasPrefix(t, "-- ") && strings.HasSuffix(t, " --") && len(t) > 6 {
			a.sections = append(a.sections, section{name: t[3 : len(t)-3]})
			cur = len(a.sections) - 1
			continue
		}
		if cur < 0 {
			a.comment += l
		} else {
			a.sections[cur].body += l
		}
	}
	return a
}

func (a archive) get(name string) (string, bool) {
	for _, s := range a.sections {
		if s.name == name {
			return s.body, true
		}
	}
	return "", false
}

func (a archive) format() string {
	var b strings.Builder
	b.WriteString(a.comment)
	for _, s := range a.sections {
		b.WriteString("-- " + s.name + " --\n" + s.body)
		if s.body != "" && !strings.HasSuffix(s.body, "\n") {
			b.WriteString("\n")
		}
	}
	return b.String()
}

// goldenOutput parses, prints and compiles a query into the sections the
// golden files hold.
func goldenOutput(query string) []section {
	out := []section{{name: "query", body: query}}
	q, err := syntax.Parse(query)
	if err != nil {
		return append(out, section{name: "error", body: err.Error() + "\n"})
	}
	out = append(out, section{name: "print", body: syntax.Print(q) + "\n"})
	p, err := Compile(query, Options{Now: testNow})
	if err != nil {
		e := err.(*Error)
		return append(out, section{name: "error", body: e.Code + ": " + e.Error() + "\n"})
	}
	args, _ := json.Marshal(p.Args)
	cols, _ := json.Marshal(p.Columns)
	out = append(out, section{name: "sql", body: p.SQL + "\n"}, section{name: "args", body: string(args) + "\n"},
		section{name: "columns", body: string(cols) + "\n"})
	if len(p.fill) > 0 {
		// The output columns the SQL leaves out, with the value Execute
		// fills in: "Name=value" in column order.
		var f []string
		for _, fc := range p.fill {
			f = append(f, fmt.Sprintf("%s=%v", p.Columns[fc.i].Name, fc.val))
		}
		out = append(out, section{name: "fixed", body: strings.Join(f, " ") + "\n"})
	}
	if p.Render != nil {
		r, _ := json.Marshal(p.Render)
		out = append(out, section{name: "render", body: string(r) + "\n"})
	}
	return out
}

// TestGolden checks parse → print → SQL for every file in testdata/golden
// (the corpus queries Q01-Q14, G1-G3, and ours). Run with -update to
// rewrite them after a deliberate change, and review the diff.
func TestGolden(t *testing.T) {
	files, _ := filepath.Glob("testdata/golden/*.txtar")
	if len(files) < 17 {
		t.Fatalf("found %d golden files, want at least the 17 corpus queries", len(files))
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			a := parseArchive(string(data))
			query, ok := a.get("query")
			if !ok {
				t.Fatal("no query section")
			}
			want := archive{comment: a.comment, sections: goldenOutput(query)}
			if *update {
				if err := os.WriteFile(f, []byte(want.format()), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			if got := want.format(); got != string(data) {
				t.Errorf("%s is out of date (run go test -run TestGolden -update and review the diff)\n--- want\n%s\n--- got\n%s", f, data, got)
			}
		})
	}
}
