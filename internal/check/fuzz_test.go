package check

import (
	"net"
	"testing"
	"time"
)

// FuzzRead feeds arbitrary bytes, as a broken or hostile hub might send,
// to the check's packet reader: it must return packets or errors, never
// panic or hang.
func FuzzRead(f *testing.F) {
	f.Add([]byte{0x20, 0x02, 0x00, 0x05})                // CONNACK 5
	f.Add([]byte{0x40, 0x02, 0x00, 0x01})                // PUBACK 1
	f.Add([]byte{0x90, 0x03, 0x00, 0x01, 0x80})          // SUBACK refused
	f.Add([]byte{0x30, 0x05, 0x00, 0x01, 'a', 'x', 'y'}) // PUBLISH
	f.Add([]byte{0xd0, 0x00})                            // PINGRESP
	f.Add([]byte{0x30, 0xff, 0xff, 0xff, 0xff, 0x7f})    // a length that never ends
	f.Add([]byte{0x32, 0x04, 0x00, 0x05, 'a', 'b'})      // QoS 1 PUBLISH cut short
	f.Fuzz(func(t *testing.T, data []byte) {
		a, b := net.Pipe()
		go func() {
			b.Write(data)
			b.Close()
		}()
		m := &mqttConn{nc: a}
		for i := 0; i < 100; i++ {
			if _, err := m.read(time.Now().Add(time.Second)); err != nil {
				break
			}
		}
		a.Close()
	})
}
