package kql

import (
	"context"
	"errors"
	"testing"
	"time"
)

// FuzzCompile checks that Compile never panics, returns only *Error, and
// that every plan it produces is a query Execute accepts and runs without
// an execution error on the seeded store (within a second; a query that
// runs longer is interrupted and not counted). The seed corpus under testdata/fuzz/FuzzCompile holds
// the corpus queries and the trap tests.
func FuzzCompile(f *testing.F) {
	f.Add(`AzureDiagnostics | where Category == "Connections" | summarize count() by bin(TimeGenerated, 1h)`)
	db := trapDB(f)
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
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		if _, err := Execute(ctx, db, p); err != nil {
			var e *Error
			if errors.As(err, &e) && (e.Code == CodeTimeout || e.Code == CodeCanceled) {
				return
			}
			t.Fatalf("the plan of %q failed: %v\n%s", q, err, p.SQL)
		}
	})
}
