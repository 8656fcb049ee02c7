package gateway

import (
	"fmt"
	"net/url"
	"strings"
)

// identity is what a CONNECT's client id and user name say about the
// device.
type identity struct {
	Host       string
	DeviceID   string
	ModuleID   string
	APIVersion string
	SDK        string // DeviceClientType, kept as sdkVersion
	ModelID    string
}

// parseIdentity reads the client id (deviceId or deviceId/moduleId) and
// the user name in every form the SDKs send:
//
//	host/device/?api-version=V&DeviceClientType=UA      (current)
//	host/device/module/?api-version=V&…                 (modules)
//	host/device/api-version=V&DeviceClientType=UA       (legacy, no '?')
//	host/device/api-version=V/DeviceClientType=UA       (Edge legacy)
//	host/device/                                        (no parameters)
func parseIdentity(clientID, username string) (identity, error) {
	var id identity
	if clientID == "" {
		return id, fmt.Errorf("the client id is empty; it must be the device id")
	}
	id.DeviceID, id.ModuleID, _ = strings.Cut(clientID, "/")
	if strings.Contains(id.ModuleID, "/") {
		return id, fmt.Errorf("client id %q has more than one '/'; use deviceId or deviceId/moduleId", clientID)
	}
	if username == "" {
		return id, fmt.Errorf("the user name is empty; it must be <host>/%s/?api-version=…", clientID)
	}
	host, rest, ok := strings.Cut(username, "/")
	if !ok || host == "" {
		return id, fmt.Errorf("user name %q is not <host>/%s/?api-version=…", username, clientID)
	}
	id.Host = host
	prefix := clientID + "/"
	if !strings.HasPrefix(rest, prefix) && rest != clientID {
		return id, fmt.Errorf("user name %q names another identity than the client id %q", username, clientID)
	}
	params := strings.TrimPrefix(strings.TrimPrefix(rest, clientID), "/")
	params = strings.TrimPrefix(params, "?")
	params = strings.ReplaceAll(params, "/DeviceClientType=", "&DeviceClientType=")
	if params == "" {
		return id, nil
	}
	q, err := url.ParseQuery(params)
	if err != nil {
		return id, fmt.Errorf("user name parameters %q: %v", params, err)
	}
	id.APIVersion = q.Get("api-version")
	id.SDK = q.Get("DeviceClientType")
	id.ModelID = q.Get("model-id")
	return id, nil
}
