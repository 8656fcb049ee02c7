package diag

import (
	"fmt"
	"sync"
	"time"
)

// Sequencer makes the sequence numbers of lifecycle events: 64 hex
// digits, so they sort as strings, strictly increasing for the life of
// the data folder. The first 16 digits are a time in nanoseconds (never
// going back, even if the clock does), the next 16 a counter, the rest
// zero, as in Azure's sequenceNumber.
type Sequencer struct {
	mu       sync.Mutex
	last     int64
	counter  uint64
	lastText string
}

// Next returns the next sequence number at time now.
func (s *Sequencer) Next(now time.Time) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	t := now.UnixNano()
	if t <= s.last {
		t = s.last
		s.counter++
	} else {
		s.counter = 0
	}
	s.last = t
	s.lastText = fmt.Sprintf("%016x%016x%032x", uint64(t), s.counter, 0)
	return s.lastText
}

// Resume makes the sequencer continue after a number issued before a
// restart.
func (s *Sequencer) Resume(last string) error {
	var t, c uint64
	if _, err := fmt.Sscanf(last, "%016x%016x", &t, &c); err != nil || len(last) != 64 {
		return fmt.Errorf("diag: sequence number %q is not 64 hex digits", last)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if int64(t) > s.last || (int64(t) == s.last && c > s.counter) {
		s.last, s.counter, s.lastText = int64(t), c, last
	}
	return nil
}
