package sas

import (
	"fmt"
	"strings"
)

// connKeys returns the keys of a connection string, as Azure spells them.
func connKeys() []string {
	return []string{"HostName", "DeviceId", "ModuleId", "SharedAccessKeyName",
		"SharedAccessKey", "SharedAccessSignature", "GatewayHostName", "x509"}
}

// canonicalKey returns the Azure spelling of a connection string key
// matched case-insensitively, or "" if name is not one.
func canonicalKey(name string) string {
	for _, k := range connKeys() {
		if strings.EqualFold(name, k) {
			return k
		}
	}
	return ""
}

// maxShownName is the longest unknown key name an error repeats. A
// longer one may be a key that lost its name: a base64 key of 16 bytes
// or more is at least 22 characters before its padding '='.
const maxShownName = 21

// describeUnknown quotes an unknown key name for an error, with a
// suggestion if it looks like a misspelling of a known key. A long name
// is quoted only if it is such a misspelling.
func describeUnknown(name string) string {
	hint := suggest(name)
	if len(name) > maxShownName && hint == "" {
		return fmt.Sprintf("of %d characters (not shown: it may be a secret)", len(name))
	}
	return fmt.Sprintf("%q", name) + hint
}

// suggest returns " (did you mean X?)" for the known key closest to a
// misspelled name, or "" if none is close.
func suggest(name string) string {
	best, bestDist := "", 3 // suggest only within two edits
	for _, k := range connKeys() {
		if d := editDistance(strings.ToLower(name), strings.ToLower(k)); d < bestDist {
			best, bestDist = k, d
		}
	}
	if best == "" {
		return ""
	}
	return " (did you mean " + best + "?)"
}

// editDistance is the Levenshtein distance between a and b, in bytes.
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
