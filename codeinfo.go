package tether

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// CodeInfo is one entry of the catalog: what a result code means, what
// usually causes it, what to do about it, and whether retrying helps.
type CodeInfo struct {
	Code      ResultCode `json:"code"`
	Name      string     `json:"name"`           // Azure's error name, as logged in ResultDescription
	HTTP      int        `json:"http,omitempty"` // the HTTP status on the REST API; 0 where Azure has none
	Meaning   string     `json:"meaning"`        // one line: what happened
	Causes    []string   `json:"causes"`         // the likely causes, most common first
	Fix       []string   `json:"fix"`            // the resolution steps, in order
	Retryable bool       `json:"retryable"`      // whether retrying the same thing can succeed
}

// DocsFile is the generated page that documents every code, relative to
// the repository root.
const DocsFile = "docs/errors.md"

// Anchor is the Markdown anchor of c's section in docs/errors.md: the
// heading "401003 IoTHubUnauthorized" becomes "401003-iothubunauthorized".
func (c CodeInfo) Anchor() string {
	return fmt.Sprintf("%d-%s", int(c.Code), strings.ToLower(c.Name))
}

// DocsLink is the path of c's section in the docs: docs/errors.md#anchor.
func (c CodeInfo) DocsLink() string { return DocsFile + "#" + c.Anchor() }

// Known reports whether c is in the catalog.
func (c ResultCode) Known() bool {
	_, ok := catalog[c]
	return ok
}

// LookupCode finds a catalog entry by its number ("401003") or its name
// in any case ("IoTHubUnauthorized", "iothubunauthorized"). When nothing
// matches, the error is an *Error of kind NotFound whose message suggests
// the closest codes.
func LookupCode(s string) (CodeInfo, error) {
	q := strings.TrimSpace(s)
	if n, err := strconv.Atoi(q); err == nil {
		if info, ok := catalog[ResultCode(n)]; ok {
			return info, nil
		}
	}
	for _, info := range catalog {
		if strings.EqualFold(info.Name, q) {
			return info, nil
		}
	}
	msg := fmt.Sprintf("no result code %q in the catalog", s)
	if sug := suggest(q); len(sug) > 0 {
		msg += "; did you mean " + strings.Join(sug, ", ") + "?"
	} else {
		msg += "; run 'tether errors' for the list"
	}
	return CodeInfo{}, &Error{Kind: KindNotFound, Message: msg}
}

// suggest returns up to three entries close to q: by a shared prefix of
// the number (the same status class), or by name (a substring, or a small
// edit distance).
func suggest(q string) []string {
	type scored struct {
		info  CodeInfo
		score int
	}
	lq := strings.ToLower(q)
	var cand []scored
	for _, info := range Codes() {
		num, name := strconv.Itoa(int(info.Code)), strings.ToLower(info.Name)
		score := -1
		switch {
		case lq == "":
		case isDigits(lq) && len(lq) >= 3 && strings.HasPrefix(num, lq[:3]):
			score = 10 - commonPrefix(num, lq)
		case !isDigits(lq) && len(lq) >= 3 && strings.Contains(name, lq):
			score = 1
		case !isDigits(lq):
			if d := editDistance(lq, name); d <= max(2, len(name)/4) {
				score = d
			}
		}
		if score >= 0 {
			cand = append(cand, scored{info, score})
		}
	}
	sort.SliceStable(cand, func(i, j int) bool { return cand[i].score < cand[j].score })
	var out []string
	for i := 0; i < len(cand) && i < 3; i++ {
		out = append(out, cand[i].info.Code.String())
	}
	return out
}

func isDigits(s string) bool {
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return s != ""
}

func commonPrefix(a, b string) int {
	n := 0
	for n < len(a) && n < len(b) && a[n] == b[n] {
		n++
	}
	return n
}

// editDistance is the Levenshtein distance of a and b (bytes).
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
