package wire

// The request headers of Tether's cloud-to-device send route
// (POST /devices/{id}/messages/deviceBound), following the names Azure's
// HTTPS device API uses for message properties. Every header that starts
// with HeaderAppPrefix carries one application property.
const (
	HeaderMessageID       = "iothub-messageid"
	HeaderCorrelationID   = "iothub-correlationid"
	HeaderUserID          = "iothub-userid"
	HeaderExpiry          = "iothub-expiry" // RFC 3339 absolute expiry
	HeaderTTL             = "iothub-ttl"    // seconds to live, 1 to 172800
	HeaderAck             = "iothub-ack"    // none, positive, negative or full
	HeaderContentType     = "Content-Type"
	HeaderContentEncoding = "Content-Encoding"
	HeaderAppPrefix       = "iothub-app-"
)

// C2DResult is the answer to a cloud-to-device send: the queued message
// and how many messages now wait for the device.
type C2DResult struct {
	MessageID    string `json:"messageId"`
	DeviceID     string `json:"deviceId"`
	EnqueuedTime Time   `json:"enqueuedTime"`
	ExpiryTime   Time   `json:"expiryTime"`
	PendingCount int    `json:"pendingCount"`
}

// PurgeResult is Azure's answer to DELETE /devices/{id}/commands.
type PurgeResult struct {
	TotalMessagesPurged int     `json:"totalMessagesPurged"`
	DeviceID            string  `json:"deviceId"`
	ModuleID            *string `json:"moduleId"`
}
