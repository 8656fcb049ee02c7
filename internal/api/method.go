package api

import (
	"encoding/json"
	"net/http"
	"strings"

	"github.com/tether-iot/tether"
	"github.com/tether-iot/tether/internal/wire"
)

// MethodCall is a direct method invocation as the service API takes it.
type MethodCall = wire.MethodCall

// MethodResult is the device's answer.
type MethodResult = wire.MethodResult

// Method call limits, as in Azure IoT Hub.
const (
	minResponseTimeout     = 5
	maxResponseTimeout     = 300
	defaultResponseTimeout = 30
	maxConnectTimeout      = 300
	methodNameSpecials     = "$()<>@,;:\\\"/[]?={} \t"
)

func validateMethodCall(c *MethodCall) error {
	if c.MethodName == "" {
		return tether.Errorf(tether.ArgumentInvalid, "methodName is required")
	}
	for _, r := range c.MethodName {
		if r < 0x21 || r > 0x7e || strings.ContainsRune(methodNameSpecials, r) {
			return tether.Errorf(tether.ArgumentInvalid, "methodName %q has %q; use printable ASCII without $ ( ) < > @ , ; : \\ \" / [ ] ? = { } or spaces", c.MethodName, r)
		}
	}
	if c.ResponseTimeoutInSeconds == 0 {
		c.ResponseTimeoutInSeconds = defaultResponseTimeout
	}
	if c.ResponseTimeoutInSeconds < minResponseTimeout || c.ResponseTimeoutInSeconds > maxResponseTimeout {
		return tether.Errorf(tether.ArgumentInvalid, "responseTimeoutInSeconds is %d; it must be %d to %d", c.ResponseTimeoutInSeconds, minResponseTimeout, maxResponseTimeout)
	}
	if c.ConnectTimeoutInSeconds < 0 || c.ConnectTimeoutInSeconds > maxConnectTimeout {
		return tether.Errorf(tether.ArgumentInvalid, "connectTimeoutInSeconds is %d; it must be 0 to %d", c.ConnectTimeoutInSeconds, maxConnectTimeout)
	}
	if len(c.Payload) == 0 {
		c.Payload = json.RawMessage("null")
	}
	return nil
}

func (a *API) invokeMethod(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	var call MethodCall
	if err := decodeBody(r, &call); err != nil {
		return err
	}
	if err := validateMethodCall(&call); err != nil {
		return err
	}
	info := &MethodInfo{MethodName: call.MethodName, RequestSize: len(call.Payload)}
	if n := note(r); n != nil {
		n.method = info
	}
	if _, err := a.o.Devices.Device(r.Context(), id); err != nil {
		return err
	}
	if a.o.Methods == nil {
		return tether.Errorf(tether.DeviceNotOnline, "Device '%s' is not online: it is not connected or has not subscribed to direct methods", id)
	}
	res, err := a.o.Methods.InvokeMethod(r.Context(), id, call)
	if err != nil {
		return err
	}
	info.ResponseSize, info.DeviceStatus = len(res.Payload), &res.Status
	return writeJSON(w, http.StatusOK, "", res)
}
