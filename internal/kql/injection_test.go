package kql

import (
	"context"
	"strings"
	"testing"
)

// TestNoInjection checks that query text never reaches SQL: values are
// bound, names must resolve against the schema, and quotes in names or
// values change nothing.
func TestNoInjection(t *testing.T) {
	db := seed(t, testNow)
	for _, q := range []string{
		`AzureDiagnostics | where Category == "'; DROP TABLE AzureDiagnostics; --"`,
		`AzureDiagnostics | where Category == '"); DELETE FROM AzureDiagnostics; --'`,
		`AzureDiagnostics | extend ['x"; DROP TABLE AzureMetrics; --'] = 1 | where ['x"; DROP TABLE AzureMetrics; --'] == 2`,
		`AzureDiagnostics | project ['a" FROM AzureMetrics; --'] = Category | where ['a" FROM AzureMetrics; --'] contains "'"`,
		`search "') OR 1=1 --"`,
		`AzureDiagnostics | summarize count() by ['"'] = Level | where ['"'] == "x"`,
	} {
		p, err := Compile(q, Options{Now: testNow})
		if err != nil {
			t.Fatalf("Compile(%q): %v", q, err)
		}
		for _, bad := range []string{"DROP", "DELETE", "1=1"} {
			if strings.Contains(p.SQL, bad) {
				t.Errorf("query text reached the SQL of %q:\n%s", q, p.SQL)
			}
		}
		res, err := Execute(context.Background(), db, p)
		if err != nil {
			t.Fatalf("Execute(%q): %v", q, err)
		}
		if len(res.Rows) != 0 {
			t.Errorf("%q returned %d rows, want none", q, len(res.Rows))
		}
	}
	for _, table := range []string{"AzureDiagnostics", "AzureMetrics"} {
		var n int
		if err := db.QueryRow(`SELECT count(*) FROM ` + table).Scan(&n); err != nil || n == 0 {
			t.Errorf("%s after the queries: %d rows, %v", table, n, err)
		}
	}
	// An unknown name is an error, never SQL.
	if _, err := Compile(`AzureDiagnostics | where ['Category" OR 1=1 --'] == "x"`, Options{Now: testNow}); err == nil || !strings.Contains(err.Error(), "is not a column of AzureDiagnostics") {
		t.Errorf("unknown bracketed name: %v", err)
	}
	if _, err := Compile(`['AzureDiagnostics; DROP TABLE x']`, Options{Now: testNow}); err == nil || !strings.Contains(err.Error(), "unknown table") {
		t.Errorf("unknown bracketed table: %v", err)
	}
}

func TestTableChecks(t *testing.T) {
	for _, tables := range [][]Table{
		{{Name: "X"}, {Name: "X"}},
		{{Name: "X", Columns: []Column{{"a", "string"}, {"A", "long"}}}},
		{{Name: "X", Columns: []Column{{"a", "varchar"}}}},
	} {
		if _, err := Compile(`AzureMetrics`, Options{Now: testNow, Tables: tables}); err == nil {
			t.Errorf("tables %v were accepted", tables)
		}
	}
}
