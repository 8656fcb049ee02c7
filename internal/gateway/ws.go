package gateway

import (
	"context"
	"net/http"
	"strings"

	"github.com/coder/websocket"

	"github.com/tether-iot/tether"
)

// ServeWS serves MQTT over WebSockets at /$iothub/websocket. The
// subprotocol is matched case-insensitively ("mqtt", or "MQTT" from the C
// SDK) and echoed exactly as offered. The connection lives as long as
// this call.
func (g *Gateway) ServeWS(w http.ResponseWriter, r *http.Request) {
	offered := ""
	for _, h := range r.Header.Values("Sec-WebSocket-Protocol") {
		for _, p := range strings.Split(h, ",") {
			if p = strings.TrimSpace(p); strings.EqualFold(p, "mqtt") && offered == "" {
				offered = p
			}
		}
	}
	if offered == "" {
		g.emit(tether.ConnectionEvent{Kind: tether.EventConnectFailed, Time: g.o.Now(), ConnectionID: g.newConnID(),
			Protocol: tether.ProtocolMQTTWS, RemoteAddr: r.RemoteAddr, Reason: tether.ReasonProtocolError, Code: tether.ArgumentInvalid,
			Detail: "WebSocket upgrade without the mqtt subprotocol (Sec-WebSocket-Protocol: mqtt)"})
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		name := tether.ArgumentInvalid.Name()
		w.Header().Set("iothub-errorcode", name)
		w.WriteHeader(tether.ArgumentInvalid.Info().HTTP)
		w.Write([]byte(`{"Message":"ErrorCode:` + name + `;MQTT over WebSockets needs Sec-WebSocket-Protocol: mqtt"}` + "\n"))
		return
	}
	ws, err := websocket.Accept(w, r, &websocket.AcceptOptions{Subprotocols: []string{offered}, CompressionMode: websocket.CompressionDisabled})
	if err != nil {
		g.log.Debug("websocket accept", "err", err)
		return
	}
	ws.SetReadLimit(maxPacket + 1024)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	nc := websocket.NetConn(ctx, ws, websocket.MessageBinary)
	c := g.newConn(nc, tether.ProtocolMQTTWS, g.o.Now())
	c.remote = r.RemoteAddr
	if r.TLS != nil {
		c.tlsVersion = tlsVersionName(r.TLS.Version)
		c.cipher = tlsCipherName(r.TLS.CipherSuite)
	}
	g.wg.Add(1)
	defer g.wg.Done()
	c.serve()
}
