package wire

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/tether-iot/tether"
)

// ErrorBody is Azure's classic error body, the one shape every SDK parses.
type ErrorBody struct {
	Message          string
	ExceptionMessage string
}

// NewErrorBody formats an error body for code and msg.
func NewErrorBody(name, msg, trackingID string, now time.Time) ErrorBody {
	return ErrorBody{
		Message:          "ErrorCode:" + name + ";" + msg,
		ExceptionMessage: "Tracking ID:" + trackingID + "-G:0-TimeStamp:" + now.UTC().Format("01/02/2006 15:04:05"),
	}
}

// ParseError turns an error response into a *tether.Error. It reads the
// classic body and the newer JSON-in-Message shapes; the iothub-errorcode
// header, when given, names the code if the body does not.
func ParseError(status int, header string, body []byte) *tether.Error {
	var eb struct{ Message json.RawMessage }
	name, msg := header, strings.TrimSpace(string(body))
	if json.Unmarshal(body, &eb) == nil && len(eb.Message) > 0 {
		var s string
		var inner struct {
			ErrorCode json.Number `json:"errorCode"`
			Message   string      `json:"message"`
		}
		switch {
		case json.Unmarshal(eb.Message, &s) == nil && strings.HasPrefix(s, "ErrorCode:"):
			head, rest, _ := strings.Cut(s, ";")
			name, msg = strings.TrimPrefix(head, "ErrorCode:"), rest
		case json.Unmarshal(eb.Message, &s) == nil && json.Unmarshal([]byte(s), &inner) == nil,
			json.Unmarshal(eb.Message, &inner) == nil:
			name, msg = inner.ErrorCode.String(), inner.Message
		case s != "":
			msg = s
		}
	}
	code := codeByName(name, status)
	if msg == "" {
		msg = fmt.Sprintf("HTTP %d", status)
	}
	return &tether.Error{Kind: code.Kind(), Code: code, Message: msg}
}

func codeByName(name string, status int) tether.ResultCode {
	if n, err := strconv.Atoi(name); err == nil && n >= 100000 {
		return tether.ResultCode(n)
	}
	if info, err := tether.LookupCode(name); err == nil {
		return info.Code
	}
	switch status {
	case 400:
		return tether.ArgumentInvalid
	case 401:
		return tether.IoTHubUnauthorizedAccess
	case 404:
		return tether.DeviceNotFound
	case 409:
		return tether.DeviceAlreadyExists
	case 412:
		return tether.PreconditionFailed
	case 429:
		return tether.ThrottlingException
	}
	return tether.ServerError
}
