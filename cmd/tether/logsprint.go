package main

import (
	"bufio"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"github.com/tether-iot/tether/internal/wire"
)

// cellText is a result value as text: strings as they are, numbers and
// booleans as JSON writes them, null as "", dynamic values as compact
// JSON.
func cellText(v any) string {
	switch v := v.(type) {
	case nil:
		return ""
	case string:
		return v
	case json.Number:
		return v.String()
	case bool:
		if v {
			return "true"
		}
		return "false"
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

// printCSV writes the table as RFC 4180 CSV with a header row, every
// value whole.
func printCSV(w io.Writer, t wire.QueryTable) error {
	cw := csv.NewWriter(w)
	rec := make([]string, len(t.Columns))
	for i, c := range t.Columns {
		rec[i] = c.Name
	}
	if err := cw.Write(rec); err != nil {
		return err
	}
	for _, row := range t.Rows {
		for i := range rec {
			rec[i] = ""
			if i < len(row) {
				rec[i] = cellText(row[i])
			}
		}
		if err := cw.Write(rec); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// tableLayout is how wide table output may be: each cell, and the whole
// line before rows become records.
type tableLayout struct{ cell, term int }

// printQueryTable writes the result as aligned columns, or as one record
// per row ("Column: value" lines) when the columns do not fit the
// terminal; long cells are cut. It ends with the row count and notes on
// what was cut.
func printQueryTable(w io.Writer, res wire.QueryResponse, l tableLayout) error {
	t := res.Tables[0]
	bw := bufio.NewWriter(w)
	cut := 0
	cells := make([][]string, len(t.Rows))
	widths := make([]int, len(t.Columns))
	for i, c := range t.Columns {
		widths[i] = utf8.RuneCountInString(c.Name)
	}
	for r, row := range t.Rows {
		cells[r] = make([]string, len(t.Columns))
		for i := range t.Columns {
			var v any
			if i < len(row) {
				v = row[i]
			}
			s, was := shorten(cellText(v), l.cell)
			if was {
				cut++
			}
			cells[r][i] = s
			widths[i] = max(widths[i], utf8.RuneCountInString(s))
		}
	}
	total, empty := 0, false
	for _, n := range widths {
		total += n + 2
	}
	switch {
	case len(t.Columns) == 0:
	case total-2 <= l.term || len(t.Rows) == 0:
		for i, c := range t.Columns {
			writeCell(bw, c.Name, widths[i], i == len(t.Columns)-1)
		}
		for _, row := range cells {
			for i, s := range row {
				writeCell(bw, s, widths[i], i == len(row)-1)
			}
		}
	default:
		name := 0
		for _, c := range t.Columns {
			name = max(name, utf8.RuneCountInString(c.Name))
		}
		for r, row := range cells {
			fmt.Fprintf(bw, "── row %d ──\n", r+1)
			for i, s := range row {
				if s == "" {
					empty = true
					continue
				}
				fmt.Fprintf(bw, "%-*s  %s\n", name+1, t.Columns[i].Name+":", s)
			}
		}
	}
	switch n := len(t.Rows); n {
	case 0:
		fmt.Fprintln(bw, "(no rows)")
	case 1:
		fmt.Fprintln(bw, "(1 row)")
	default:
		fmt.Fprintf(bw, "(%d rows)\n", n)
	}
	if empty {
		fmt.Fprintln(bw, "(rows are shown as records because the columns are wider than the terminal ($COLUMNS); empty and null values are left out)")
	}
	if res.Truncated {
		fmt.Fprintf(bw, "(truncated: the hub's row cap stopped the result at %d rows; narrow the query, e.g. | take, | summarize, or a shorter --timespan)\n", len(t.Rows))
	}
	if cut > 0 {
		what := "cells"
		if cut == 1 {
			what = "cell"
		}
		fmt.Fprintf(bw, "(%d %s cut at %d characters, marked …; -o csv or -o json prints them whole, --max-width changes the cut)\n", cut, what, l.cell)
	}
	if v, ok := res.Render["visualization"].(string); ok {
		fmt.Fprintf(bw, "(the query asks to render a %s; the CLI prints its data)\n", v)
	}
	return bw.Flush()
}

func writeCell(w io.Writer, s string, width int, last bool) {
	if last {
		fmt.Fprintln(w, s)
		return
	}
	fmt.Fprint(w, s, strings.Repeat(" ", width-utf8.RuneCountInString(s)+2))
}

// shorten puts s on one line and cuts it to n characters, the last one
// an ellipsis, reporting whether it cut.
func shorten(s string, n int) (string, bool) {
	s = strings.NewReplacer("\r\n", " ", "\n", " ", "\r", " ", "\t", " ").Replace(s)
	if utf8.RuneCountInString(s) <= n {
		return s, false
	}
	r := []rune(s)
	return string(r[:n-1]) + "…", true
}
