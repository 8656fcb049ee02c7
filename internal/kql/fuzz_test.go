package kql

import (
	"context"
	"errors"
	"testing"
)

// FuzzCompile checks that Compile never panics, returns only *Error, and
// that every plan it produces is SQL that SQLite accepts (prepared with
// EXPLAIN, not run). The seed corpus under testdata/fuzz/FuzzCompile holds
// the corpus queries and the trap tests.
func FuzzCompile(f *testing.F) {
	f.Add(`AzureDiagnostics | where Category == "Connections" | summarize count() by bin(TimeGenerated, 1h)`)
	db := openLogsDB(f)
	if _, err := db.Exec(`CREATE TABLE T (TimeGenerated INTEGER NOT NULL, s TEXT NOT NULL DEFAULT '', n INTEGER, r REAL, b INTEGER, d TEXT)`); err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, q string) {
		p, err := Compile(q, Options{Now: testNow, Tables: []Table{trapTable}})
		if err != nil {
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("Compile returned %T (%v), want *Error", err, err)
			}
			return
		}
		if err := readOnly(p.SQL); err != nil {
			t.Fatalf("Execute would refuse the plan of %q: %v\n%s", q, err, p.SQL)
		}
		rows, err := db.QueryContext(context.Background(), "EXPLAIN "+p.SQL, p.Args...)
		if err != nil {
			t.Fatalf("the plan of %q is not valid SQL: %v\n%s", q, err, p.SQL)
		}
		rows.Close()
	})
}
