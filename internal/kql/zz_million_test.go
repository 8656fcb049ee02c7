package kql

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"
)

// Throwaway: measure the three queries on 1M generated rows.
func TestZZMillion(t *testing.T) {
	if os.Getenv("KQL_MILLION") == "" {
		t.Skip()
	}
	db := openLogsDB(t)
	db.SetMaxOpenConns(1)
	start := time.Now()
	tx, _ := db.Begin()
	st, _ := tx.Prepare(`INSERT INTO AzureDiagnostics (TimeGenerated, ResourceId, _ResourceId, Category, OperationName, Level, ResultType, ResultDescription, properties_s, _DeviceId) VALUES (?, 'R', 'R', 'Connections', ?, ?, ?, ?, ?, ?)`)
	n := 1000000
	for i := 0; i < n; i++ {
		dev := fmt.Sprintf("dev-%d", i%10000)
		op, lvl, rt, rd := "deviceConnect", "Information", "", ""
		if i%2 == 1 {
			op = "deviceDisconnect"
		}
		if i%10 == 3 {
			lvl, rt, rd = "Error", "404104", "DeviceConnectionClosedRemotely"
		}
		ts := testNow.Add(-time.Duration(int64(i)*int64(24*time.Hour/time.Microsecond)/int64(n))*time.Microsecond).UnixNano() / 100 * 100
		if _, err := st.Exec(ts, op, lvl, rt, rd, `{"deviceId":"`+dev+`","protocol":"Mqtt","sdkVersion":"x"}`, dev); err != nil {
			t.Fatal(err)
		}
	}
	tx.Commit()
	t.Logf("insert %v", time.Since(start))
	lo, hi := testNow.Add(-24*time.Hour).UnixNano(), testNow.UnixNano()
	for _, q := range []string{
		"SELECT count(*) FROM AzureDiagnostics WHERE kql_json_str(properties_s, 'deviceId') = 'dev-42' AND TimeGenerated >= ?1 AND TimeGenerated <= ?2",
		"SELECT count(*) FROM AzureDiagnostics WHERE (CASE WHEN json_valid(properties_s) THEN CASE json_type(properties_s, '$.deviceId') WHEN 'true' THEN 'true' WHEN 'false' THEN 'false' WHEN 'null' THEN '' ELSE coalesce(properties_s ->> '$.deviceId', '') END ELSE '' END) = 'dev-42' AND TimeGenerated >= ?1 AND TimeGenerated <= ?2",
		"SELECT count(*) FROM AzureDiagnostics WHERE TimeGenerated >= ?1 AND TimeGenerated <= ?2",
	} {
		s := time.Now()
		var x any
		rows, err := db.Query(q, lo, hi)
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for rows.Next() {
			rows.Scan(&x)
			n++
		}
		rows.Close()
		t.Logf("%v rows=%d %s", time.Since(s), n, q)
	}
	for _, q := range []string{} {
		_ = q
	}
	for _, q := range []string{
		`search * | where ( Type == "AzureDiagnostics" and ResourceType == "IOTHUBS") | where ( Category == "Connections" and Level == "Error")`,
		`AzureDiagnostics | where tostring(parse_json(properties_s).deviceId) == "dev-42"`,
		`AzureDiagnostics | extend DeviceId = tostring(parse_json(properties_s).deviceId) | summarize count() by DeviceId | top 5 by count_`,
	} {
		for i := 0; i < 2; i++ {
			s := time.Now()
			res, err := Query(context.Background(), db, q, Options{Now: testNow})
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("%v rows=%d trunc=%v  %s", time.Since(s), len(res.Rows), res.Truncated, q[:min(60, len(q))])
		}
	}
}
