package syntax

import "testing"

// FuzzParse checks that the lexer and parser never panic, and that every
// query they accept prints to text that parses again and prints the same.
// The seed corpus under testdata/fuzz/FuzzParse holds the corpus queries.
func FuzzParse(f *testing.F) {
	f.Add("AzureDiagnostics | where Category == \"Connections\" and Level == \"Error\"")
	f.Fuzz(func(t *testing.T, src string) {
		q, err := Parse(src)
		if err != nil {
			if _, ok := err.(*Error); !ok {
				t.Fatalf("Parse returned %T, want *Error", err)
			}
			return
		}
		p := Print(q)
		q2, err := Parse(p)
		if err != nil {
			t.Fatalf("Parse(Print(%q)) = Parse(%q): %v", src, p, err)
		}
		if p2 := Print(q2); p2 != p {
			t.Fatalf("Print is not stable for %q:\n%s\n%s", src, p, p2)
		}
	})
}
