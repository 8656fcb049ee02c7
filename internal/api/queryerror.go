package api

import (
	"context"
	"errors"
	"net/http"

	"github.com/tether-iot/tether"
	"github.com/tether-iot/tether/internal/wire"
)

// writeQueryError writes err in Log Analytics' error shape:
//
//   - a refused query: 400 BadArgumentError with the precise code, message,
//     line and column in innererror; a timeout: 504 GatewayTimeout;
//   - a bad request (body, Prefer header): 400 BadArgumentError;
//   - the hub's coded errors (authorization, body too large): their HTTP
//     status, the Log Analytics class as code and Tether's error name as
//     the inner code (also in the iothub-errorcode header);
//   - anything else: 500, logged, shown as "internal error".
//
// When the client went away there is no one to answer; it is logged at
// debug level.
func (a *API) writeQueryError(w http.ResponseWriter, r *http.Request, err error) {
	if errors.Is(err, context.Canceled) && r.Context().Err() != nil {
		a.log.Debug("query cancelled: the client went away", "err", err)
		return
	}
	status, body := queryErrorBody(err)
	if status >= 500 && status != http.StatusGatewayTimeout {
		a.log.Error("query failed", "method", r.Method, "path", r.URL.Path, "err", err)
	} else {
		a.log.Debug("query refused", "status", status, "err", err)
	}
	if in := body.Error.InnerError; in != nil && status != http.StatusBadRequest && status != http.StatusGatewayTimeout {
		w.Header().Set("iothub-errorcode", in.Code)
	}
	writeJSON(w, status, "", body)
}

func queryErrorBody(err error) (int, wire.QueryErrorBody) {
	var (
		qe *QueryError
		re *requestError
		te *tether.Error
	)
	switch {
	case errors.As(err, &qe):
		in := &wire.QueryInnerError{Code: qe.Code, Message: qe.Message, Line: qe.Line, Pos: qe.Pos}
		if qe.Code == CodeQueryTimeout {
			return http.StatusGatewayTimeout, laError("GatewayTimeout", qe.Error(), in)
		}
		return http.StatusBadRequest, laError("BadArgumentError", qe.Error(), in)
	case errors.Is(err, context.DeadlineExceeded):
		return http.StatusGatewayTimeout, laError("GatewayTimeout", "the query ran out of time",
			&wire.QueryInnerError{Code: CodeQueryTimeout, Message: "the query ran out of time"})
	case errors.As(err, &re):
		return http.StatusBadRequest, laError("BadArgumentError", re.msg, &wire.QueryInnerError{Code: "InvalidRequest", Message: re.msg})
	case errors.As(err, &te):
		status := statusOf(te.Code)
		if status >= 500 && te.Code != tether.ServiceUnavailable {
			break
		}
		return status, laError(laClass(status), te.Message, &wire.QueryInnerError{Code: te.Code.Name(), Message: te.Message})
	}
	return http.StatusInternalServerError, laError("InternalServerError", "internal error", nil)
}

func laError(code, msg string, in *wire.QueryInnerError) wire.QueryErrorBody {
	return wire.QueryErrorBody{Error: wire.QueryErrorDetail{Code: code, Message: msg, InnerError: in}}
}

// laClass is the Log Analytics error class of an HTTP status.
func laClass(status int) string {
	switch status {
	case http.StatusUnauthorized:
		return "AuthenticationFailed"
	case http.StatusForbidden:
		return "InsufficientAccessError"
	case http.StatusRequestEntityTooLarge:
		return "PayloadTooLargeError"
	case http.StatusServiceUnavailable:
		return "ServiceUnavailableError"
	case http.StatusTooManyRequests:
		return "ThrottledError"
	}
	return "BadArgumentError"
}
