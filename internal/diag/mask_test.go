package diag

import "testing"

func TestMaskIP(t *testing.T) {
	for in, want := range map[string]string{
		"73.162.215.91:51234":         "73.162.215.XXX",
		"127.0.0.1":                   "127.0.0.XXX",
		"[2001:db8:1:2:3:4:5:6]:8883": "2001:db8:1:2:XXXX:XXXX:XXXX:XXXX",
		"[::1]:443":                   "0:0:0:0:XXXX:XXXX:XXXX:XXXX",
		"[::ffff:10.1.2.3]:1":         "10.1.2.XXX",
		"pipe":                        "",
		"":                            "",
		"not-an-ip:1":                 "XXX",
	} {
		if got := maskIP(in); got != want {
			t.Errorf("maskIP(%q) = %q, want %q", in, got, want)
		}
	}
}
