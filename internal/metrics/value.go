package metrics

// Value reads one metric now, by its Azure name: a gauge's value or a
// counter's running total (summed over its labels). It reports false for
// an unknown name.
func (m *Metrics) Value(name string) (float64, bool) {
	switch name {
	case "connectedDeviceCount":
		return float64(m.o.Connected()), true
	case "totalDeviceCount":
		return float64(m.total.Load()), true
	case "connections.attempts":
		return float64(m.attemptsN.Load()), true
	case "connections.disconnects":
		return float64(m.discsN.Load()), true
	}
	c, ok := m.counters[name]
	if !ok {
		return 0, false
	}
	return float64(c.Load()), true
}
