package diag

import (
	"fmt"
	"net"
	"strings"
)

// maskIP masks a client address as Azure does: the last IPv4 octet
// becomes XXX ("73.162.215.XXX"); an IPv6 address keeps its first four
// groups (the /64 prefix) and masks the rest. The port is dropped.
func maskIP(addr string) string {
	host := addr
	if h, _, err := net.SplitHostPort(addr); err == nil {
		host = h
	}
	ip := net.ParseIP(host)
	switch {
	case ip == nil:
		if host == "" || host == "@" || strings.HasPrefix(host, "pipe") {
			return ""
		}
		return "XXX"
	case ip.To4() != nil:
		v4 := ip.To4()
		return fmt.Sprintf("%d.%d.%d.XXX", v4[0], v4[1], v4[2])
	default:
		groups := strings.Split(expandIPv6(ip), ":")
		return strings.Join(groups[:4], ":") + ":XXXX:XXXX:XXXX:XXXX"
	}
}

// expandIPv6 writes ip with all eight groups.
func expandIPv6(ip net.IP) string {
	var b strings.Builder
	for i := 0; i < 16; i += 2 {
		if i > 0 {
			b.WriteByte(':')
		}
		b.WriteString(strings.TrimLeft(hex4(ip[i], ip[i+1]), "0"))
		if ip[i] == 0 && ip[i+1] == 0 {
			b.WriteByte('0')
		}
	}
	return b.String()
}

func hex4(a, b byte) string {
	const digits = "0123456789abcdef"
	return string([]byte{digits[a>>4], digits[a&15], digits[b>>4], digits[b&15]})
}
