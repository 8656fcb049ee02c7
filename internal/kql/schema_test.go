package kql

import (
	"strings"
	"testing"
)

// TestSchemaMatchesStore applies the store's migrations to a real SQLite
// file and checks that the KQL view of every built-in table names the
// same columns in the same order with matching types, and that the only
// other columns are the declared hidden helpers.
func TestSchemaMatchesStore(t *testing.T) {
	db := openLogsDB(t)
	sqlType := map[string]string{"string": "TEXT", "dynamic": "TEXT", "datetime": "INTEGER", "long": "INTEGER",
		"int": "INTEGER", "bool": "INTEGER", "timespan": "INTEGER", "real": "REAL"}
	for _, tbl := range BuiltinTables() {
		rows, err := db.Query(`SELECT name, type FROM pragma_table_info(?) ORDER BY cid`, tbl.Name)
		if err != nil {
			t.Fatal(err)
		}
		real := map[string]string{}
		var order []string
		for rows.Next() {
			var n, typ string
			if err := rows.Scan(&n, &typ); err != nil {
				t.Fatal(err)
			}
			real[n] = strings.ToUpper(typ)
			order = append(order, n)
		}
		rows.Close()
		if len(order) == 0 {
			t.Fatalf("table %s does not exist in the store's schema", tbl.Name)
		}
		seen := map[string]bool{}
		for _, c := range tbl.Columns {
			seen[c.Name] = true
			got, ok := real[c.Name]
			if !ok {
				t.Errorf("%s.%s is in the KQL view but not in the store", tbl.Name, c.Name)
				continue
			}
			if got != sqlType[c.Type] {
				t.Errorf("%s.%s: KQL type %s wants SQL %s, the store has %s", tbl.Name, c.Name, c.Type, sqlType[c.Type], got)
			}
		}
		for _, h := range hiddenColumns[tbl.Name] {
			seen[h.Name] = true
			if real[h.Name] != sqlType[h.Type] {
				t.Errorf("hidden column %s.%s: store has %q", tbl.Name, h.Name, real[h.Name])
			}
		}
		for _, n := range order {
			if !seen[n] {
				t.Errorf("%s.%s is in the store but not in the KQL view (add it to schema.go, or to hiddenColumns)", tbl.Name, n)
			}
		}
	}
}
