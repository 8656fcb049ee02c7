package syntax

import (
	"strings"
	"testing"
)

func TestParsePrintRoundTrip(t *testing.T) {
	for _, q := range []string{
		"AzureDiagnostics | where ResourceProvider == \"MICROSOFT.DEVICES\" and ResourceType == \"IOTHUBS\"",
		"search * | where ( Type == \"AzureDiagnostics\" and ResourceType == \"IOTHUBS\")",
		"let SearchValue =  \"<SearchValue>\";//Please update\nAzureMetrics\n| where * contains tostring(SearchValue)\n| take 1000",
		"T | extend a = parse_json(p).x.y[0], b = -1.5e3 + 5m | project-away a | project-rename c = b",
		"T | summarize count(), max(TimeGenerated) by bin(TimeGenerated, 1h), X | order by count_ desc nulls first, X asc",
		"T | where x !in (\"a\", 'b') and y in~ (\"c\") and z !contains @\"d\\e\" and w between (1 .. 2)",
		"T | top 10 by TimeGenerated | render timechart with (title = \"x\")",
		"T | where datetime(2026-01-01 10:00:00) < TimeGenerated and timespan(1.02:03:04) > 1d | where ['$table'] == \"A\"",
		"union withsource=Src A, B | count",
		"search kind=case_sensitive in (A, B) \"err*\" and Level:\"Error\"",
	} {
		x, err := Parse(q)
		if err != nil {
			t.Errorf("Parse(%q): %v", q, err)
			continue
		}
		p := Print(x)
		y, err := Parse(p)
		if err != nil {
			t.Errorf("Parse(Print(%q)) = Parse(%q): %v", q, p, err)
			continue
		}
		if p2 := Print(y); p2 != p {
			t.Errorf("print not stable:\n%s\n%s", p, p2)
		}
	}
}

func TestParseErrors(t *testing.T) {
	for _, c := range []struct{ q, want string }{
		{"", "line 1, col 1: the query is empty"},
		{"T | where", "line 1, col 10: expected an expression, found the end of the query"},
		{"T\n| wher x == 1", "line 2, col 3: unknown tabular operator 'wher'; did you mean 'where'?"},
		{"T | where x == \"abc", "line 1, col 16: unterminated string literal"},
		{"T | where x > 1w", "invalid number or timespan literal '1w'"},
		{"T | make-series count() on TimeGenerated step 1h", ""},
		{"let T = A | where x;", "tabular let statements are not supported"},
		{"T | where (((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((1)))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))", "nests too deeply"},
		{"T | where x == 1 y", "unexpected 'y'"},
		{"T | sort x", "expected 'by' after sort"},
		{"T\n| where x == \"a\xa4\"", "line 2, col 16: the query text is not valid UTF-8"},
	} {
		_, err := Parse(c.q)
		if c.want == "" {
			if err != nil {
				t.Errorf("Parse(%q): %v", c.q, err)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Parse(%q) = %v, want %q", c.q, err, c.want)
		}
	}
}

func TestLexTimespans(t *testing.T) {
	for _, s := range []string{"5m", "24hr", "60min", "7days", "1day", "1.5h", "100ms", "3ticks", "2microseconds"} {
		toks, err := Lex(s)
		if err != nil || toks[0].Kind != SpanTok || toks[0].Text != s {
			t.Errorf("Lex(%q) = %v, %v", s, toks, err)
		}
	}
}
