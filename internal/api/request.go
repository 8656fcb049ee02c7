package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strings"

	"github.com/tether-iot/tether"
)

// maxBody caps request bodies; twins are at most 32 KB per section.
const maxBody = 256 * 1024

var apiVersionRE = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}(-preview)?$`)

// checkAPIVersion requires an api-version query parameter of Azure's form,
// as Azure does; any such version is accepted.
func checkAPIVersion(r *http.Request) error {
	v := r.URL.Query().Get("api-version")
	if v == "" {
		return tether.Errorf(tether.InvalidProtocolVersion, "the api-version query parameter is missing; add ?api-version=2021-04-12")
	}
	if !apiVersionRE.MatchString(v) {
		return tether.Errorf(tether.InvalidProtocolVersion, "api-version %q is not of the form YYYY-MM-DD (for example 2021-04-12)", v)
	}
	return nil
}

// decodeBody reads a JSON object into v, with errors that name the field
// and the problem.
func decodeBody(r *http.Request, v any) error {
	body, err := io.ReadAll(http.MaxBytesReader(nil, r.Body, maxBody))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return tether.Errorf(tether.MessageTooLarge, "request body is over the limit of %d bytes", maxBody)
		}
		return tether.Errorf(tether.ArgumentInvalid, "reading request body: %v", err)
	}
	if len(strings.TrimSpace(string(body))) == 0 {
		return tether.Errorf(tether.ArgumentInvalid, "request body is empty; a JSON object is required")
	}
	if err := json.Unmarshal(body, v); err != nil {
		return tether.Errorf(tether.ArgumentInvalid, "request body is not valid: %s", describeJSONError(err))
	}
	return nil
}

func describeJSONError(err error) string {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		return fmt.Sprintf("malformed JSON at byte %d: %v", se.Offset, se)
	case errors.As(err, &te):
		if te.Field == "" {
			return fmt.Sprintf("expected a JSON %s, got %s", jsonKind(te.Type.Kind().String()), te.Value)
		}
		return fmt.Sprintf("field %q must be %s, got %s", te.Field, jsonKind(te.Type.Kind().String()), te.Value)
	}
	return err.Error()
}

func jsonKind(goKind string) string {
	switch goKind {
	case "string":
		return "a string"
	case "bool":
		return "true or false"
	case "int", "int32", "int64", "float64":
		return "a number"
	case "map", "struct":
		return "an object"
	case "slice":
		return "an array"
	}
	return goKind
}

// ifMatch returns the unquoted If-Match value, "*" for a quoted or bare
// star, and "" when the header is absent.
func ifMatch(r *http.Request) string {
	v := strings.TrimSpace(r.Header.Get("If-Match"))
	v = strings.TrimPrefix(v, "W/")
	if len(v) >= 2 && v[0] == '"' && v[len(v)-1] == '"' {
		v = v[1 : len(v)-1]
	}
	return v
}

// checkETag compares an If-Match value with the entity's ETag.
func checkETag(want, have string) error {
	if want == "" || want == "*" || want == have {
		return nil
	}
	return tether.Errorf(tether.PreconditionFailed, "The etag in the request (%q) does not match the etag of the existing resource (%q), as per RFC7232", want, have)
}
