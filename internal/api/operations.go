package api

import (
	"context"
	"io"
	"net/http"
	"time"

	"github.com/tether-iot/tether"
)

// Operations hears of the service calls the diagnostics log records —
// registry, twin, direct-method and cloud-to-device calls — once each is
// answered, refused ones (bad token, bad input, unknown device) included.
// Its methods must not block.
type Operations interface {
	Registry(op string, c Call) // op: create, get, update, delete, list
	Twin(op string, c Call)     // op: read, update, replace
	Method(c Call, m MethodInfo)
	// C2DSent: m is the message as queued; on failure, what was known of
	// it.
	C2DSent(c Call, m tether.C2DMessage)
}

// Call is what one service call did.
type Call struct {
	Time          time.Time // when it arrived
	Duration      time.Duration
	DeviceID      string // from the path; unchecked when the call was refused
	RemoteAddr    string
	UserAgent     string
	Status        int   // the HTTP status answered
	Err           error // nil: it succeeded
	RequestBytes  int64 // of the request body read
	ResponseBytes int64 // of the answer body written
}

// MethodInfo is what a direct method call sent and got.
type MethodInfo struct {
	MethodName   string
	RequestSize  int  // of the payload
	ResponseSize int  // of the device's payload
	DeviceStatus *int // nil: the device did not answer
}

// opNote carries what a handler learns for its report.
type opNote struct {
	method *MethodInfo
	c2d    *tether.C2DMessage
}

type opKey struct{}

// note returns the request's note, nil when no one listens.
func note(r *http.Request) *opNote {
	n, _ := r.Context().Value(opKey{}).(*opNote)
	return n
}

// handleOp is handle for a call that Operations hears of: report gets the
// outcome once the answer is written.
func (a *API) handleOp(pattern string, need tether.Rights, report func(r *http.Request, c Call, n *opNote), h handlerFunc) {
	if a.o.Operations == nil {
		a.handle(pattern, need, h)
		return
	}
	a.mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		start, at := time.Now(), a.o.Now()
		n := &opNote{}
		r = r.WithContext(context.WithValue(r.Context(), opKey{}, n))
		body := &countingBody{ReadCloser: r.Body}
		if r.Body != nil {
			r.Body = body
		}
		cw := &countingWriter{ResponseWriter: w}
		err := a.serve(cw, r, need, h)
		status := cw.status
		if status == 0 {
			status = http.StatusOK
		}
		report(r, Call{Time: at, Duration: time.Since(start), DeviceID: r.PathValue("id"), RemoteAddr: r.RemoteAddr,
			UserAgent: r.UserAgent(), Status: status, Err: err, RequestBytes: body.n, ResponseBytes: cw.n}, n)
	})
}

// The reports of each kind of call.

func (a *API) registryOp(op string) func(*http.Request, Call, *opNote) {
	return func(_ *http.Request, c Call, _ *opNote) { a.o.Operations.Registry(op, c) }
}

// putDeviceOp tells a create from an update by If-Match, as putDevice does.
func (a *API) putDeviceOp(r *http.Request, c Call, _ *opNote) {
	op := "create"
	if ifMatch(r) != "" {
		op = "update"
	}
	a.o.Operations.Registry(op, c)
}

func (a *API) twinOp(op string) func(*http.Request, Call, *opNote) {
	return func(_ *http.Request, c Call, _ *opNote) { a.o.Operations.Twin(op, c) }
}

func (a *API) methodOp(_ *http.Request, c Call, n *opNote) {
	var m MethodInfo
	if n.method != nil {
		m = *n.method
	}
	a.o.Operations.Method(c, m)
}

func (a *API) c2dOp(_ *http.Request, c Call, n *opNote) {
	var m tether.C2DMessage
	if n.c2d != nil {
		m = *n.c2d
	}
	a.o.Operations.C2DSent(c, m)
}

// countingBody counts the bytes of a request body read.
type countingBody struct {
	io.ReadCloser
	n int64
}

func (b *countingBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	b.n += int64(n)
	return n, err
}

// countingWriter notes the status and counts the body of an answer.
type countingWriter struct {
	http.ResponseWriter
	status int
	n      int64
}

func (w *countingWriter) WriteHeader(status int) {
	if w.status == 0 {
		w.status = status
	}
	w.ResponseWriter.WriteHeader(status)
}

func (w *countingWriter) Write(p []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	n, err := w.ResponseWriter.Write(p)
	w.n += int64(n)
	return n, err
}

func (w *countingWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
