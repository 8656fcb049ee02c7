package metrics

// A Name pairs Azure's metric name with Tether's Prometheus name.
type Name struct {
	Azure, Prometheus, Unit, Help string
	Snapshot                      bool // a gauge: Average/Minimum/Maximum are meaningful, not Total
}

// Names lists the metrics, in the order of Azure's reference.
var Names = []Name{
	{"connectedDeviceCount", "tether_connected_devices", "Count", "Devices connected now.", true},
	{"totalDeviceCount", "tether_registered_devices", "Count", "Devices in the registry.", true},
	{"d2c.telemetry.ingress.allProtocol", "tether_d2c_telemetry_ingress_attempts_total", "Count", "Telemetry messages devices tried to send.", false},
	{"d2c.telemetry.ingress.success", "tether_d2c_telemetry_ingress_success_total", "Count", "Telemetry messages accepted into the stream.", false},
	{"d2c.telemetry.ingress.sendThrottle", "tether_d2c_telemetry_ingress_throttled_total", "Count", "Telemetry messages refused by throttling.", false},
	{"deviceDataUsage", "tether_device_data_bytes_total", "Bytes", "Bytes of telemetry accepted.", false},
	{"c2d.commands.egress.complete.success", "tether_c2d_commands_completed_total", "Count", "Cloud-to-device messages completed by devices.", false},
	{"c2d.methods.success", "tether_c2d_methods_success_total", "Count", "Direct method calls the device answered.", false},
	{"c2d.methods.failure", "tether_c2d_methods_failure_total", "Count", "Direct method calls that failed (offline, timeout).", false},
	{"d2c.twin.read.success", "tether_d2c_twin_read_success_total", "Count", "Twin reads by devices.", false},
	{"d2c.twin.read.failure", "tether_d2c_twin_read_failure_total", "Count", "Failed twin reads by devices.", false},
	{"d2c.twin.update.success", "tether_d2c_twin_update_success_total", "Count", "Reported-property updates by devices.", false},
	{"d2c.twin.update.failure", "tether_d2c_twin_update_failure_total", "Count", "Failed reported-property updates.", false},
	{"c2d.twin.read.success", "tether_c2d_twin_read_success_total", "Count", "Twin reads by back-end services.", false},
	{"c2d.twin.read.failure", "tether_c2d_twin_read_failure_total", "Count", "Failed twin reads by back-end services.", false},
	{"c2d.twin.update.success", "tether_c2d_twin_update_success_total", "Count", "Twin updates and replacements by back-end services.", false},
	{"c2d.twin.update.failure", "tether_c2d_twin_update_failure_total", "Count", "Failed twin updates and replacements by back-end services.", false},
	{"C2DMessagesExpired", "tether_c2d_messages_expired_total", "Count", "Cloud-to-device messages that expired before the device completed them.", false},
	{"connections.attempts", "tether_connection_attempts_total", "Count", "Connection attempts, by result code (label result: 0 for success).", false},
	{"connections.disconnects", "tether_disconnects_total", "Count", "Disconnects, by canonical reason and result code.", false},
}

func azureName(prom string) string {
	for _, n := range Names {
		if n.Prometheus == prom {
			return n.Azure
		}
	}
	return prom
}
