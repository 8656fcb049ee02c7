package kql

import (
	"strconv"

	"github.com/tether-iot/tether/internal/kql/syntax"
)

// passThrough are the functions whose result column is named after their
// first argument (tostring(x) is x, bin(TimeGenerated, 1h) is
// TimeGenerated).
var passThrough = map[string]bool{
	"tostring": true, "parse_json": true, "todynamic": true, "parsejson": true, "toobject": true,
	"toint": true, "tolong": true, "todouble": true, "toreal": true, "todatetime": true,
	"totimespan": true, "tobool": true, "toboolean": true, "bin": true, "floor": true,
}

// aggPrefix is how an aggregate names its column: prefix + "_" + the
// argument's name.
var aggPrefix = map[string]string{
	"sum": "sum", "max": "max", "min": "min", "avg": "avg", "dcount": "dcount", "sumif": "sumif",
	"make_list": "list", "make_set": "set",
}

// inferName is the name Log Analytics gives an unnamed expression, or ""
// when it would be ColumnN (kql-semantics.md section 5).
func inferName(x syntax.Expr) string {
	switch x := x.(type) {
	case *syntax.Ident:
		return x.Name
	case *syntax.Paren:
		return inferName(x.X)
	case *syntax.Member:
		if b := inferName(x.X); b != "" {
			return b + "_" + x.Name
		}
	case *syntax.Index:
		if s, ok := x.I.(*syntax.StringLit); ok {
			if b := inferName(x.X); b != "" {
				return b + "_" + s.Value
			}
		}
	case *syntax.Call:
		switch {
		case x.Name == "count":
			return "count_"
		case x.Name == "countif":
			return "countif_"
		case passThrough[x.Name] && len(x.Args) > 0:
			return inferName(x.Args[0])
		case aggPrefix[x.Name] != "":
			n := ""
			if len(x.Args) > 0 {
				n = inferName(x.Args[0])
			}
			return aggPrefix[x.Name] + "_" + n
		}
	}
	return ""
}

// nextColumnName returns the first of Column1, Column2, ... not in use.
func nextColumnName(used []string) string {
	in := map[string]bool{}
	for _, u := range used {
		in[u] = true
	}
	for i := 1; ; i++ {
		n := "Column" + strconv.Itoa(i)
		if !in[n] {
			return n
		}
	}
}
