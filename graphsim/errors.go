package graphsim

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// graphError is Graph's error body. innerError always carries the date and
// both request ids, as Graph's does; Code is set only where Graph nests one
// (resync, throttling).
type graphError struct {
	Error graphErrorBody `json:"error"`
}

type graphErrorBody struct {
	Code       string          `json:"code"`
	Message    string          `json:"message"`
	InnerError graphInnerError `json:"innerError"`
}

type graphInnerError struct {
	Code            string `json:"code,omitempty"`
	Date            string `json:"date"`
	RequestID       string `json:"request-id"`
	ClientRequestID string `json:"client-request-id"`
}

// gerr is an error answer waiting to be written.
type gerr struct {
	status     int
	code       string
	message    string
	innerCode  string
	retryAfter string
	headers    map[string]string
}

func newErr(status int, code, message string) *gerr {
	return &gerr{status: status, code: code, message: message}
}

// writeGraphError writes Graph's error shape. The request ids come from the
// response headers set by the Graph middleware.
func writeGraphError(w http.ResponseWriter, e *gerr) {
	h := w.Header()
	for k, v := range e.headers {
		h.Set(k, v)
	}
	if e.retryAfter != "" {
		h.Set("Retry-After", e.retryAfter)
	}
	body := graphError{Error: graphErrorBody{
		Code:    e.code,
		Message: e.message,
		InnerError: graphInnerError{
			Code:            e.innerCode,
			Date:            time.Now().UTC().Format("2006-01-02T15:04:05"),
			RequestID:       h.Get("request-id"),
			ClientRequestID: h.Get("client-request-id"),
		},
	}}
	writeJSON(w, e.status, body)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := marshal(v)
	if err != nil {
		status = http.StatusInternalServerError
		b = []byte(`{"error":{"code":"generalException","message":"An unexpected error occurred."}}`)
	}
	writeRawJSON(w, status, b)
}

func writeRawJSON(w http.ResponseWriter, status int, b []byte) {
	h := w.Header()
	h.Set("Content-Type", "application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8")
	h.Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// Errors Graph gives, with its words.
var (
	errTokenEmpty = func() *gerr {
		return newErr(401, "InvalidAuthenticationToken", "Access token is empty.")
	}
	errTokenMalformed = func() *gerr {
		return newErr(401, "InvalidAuthenticationToken", "CompactToken parsing failed with error code: 80049217")
	}
	errTokenInvalid = func() *gerr {
		return newErr(401, "InvalidAuthenticationToken", "Access token validation failure. Invalid audience.")
	}
	errTokenSignature = func() *gerr {
		return newErr(401, "InvalidAuthenticationToken", "Access token validation failure.")
	}
	errTokenExpired = func() *gerr {
		return newErr(401, "InvalidAuthenticationToken", "Access token has expired or is not yet valid.")
	}
)

func errSegment(seg string) *gerr {
	return newErr(400, "BadRequest", "Resource not found for the segment '"+seg+"'.")
}

func errMethod() *gerr {
	return newErr(405, "BadRequest", "Specified HTTP method is not allowed for the request target.")
}

func errItemNotFound() *gerr {
	return newErr(404, "itemNotFound", "The resource could not be found.")
}

func errInvalidRequest(msg string) *gerr {
	return newErr(400, "invalidRequest", msg)
}

// marshal is json.Marshal without HTML escaping, so links keep their "&"
// as Graph prints them.
func marshal(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

func errPayload() *gerr {
	return newErr(400, "BadRequest", "Unable to read JSON request payload. Please ensure Content-Type header is set and payload is of valid JSON format.")
}

// readBody reads a request body of at most limit bytes, gunzipping it when
// Content-Encoding says so (the SDK's compression handler gzips every body).
func readBody(r *http.Request, limit int64) ([]byte, *gerr) {
	var rd io.Reader = io.LimitReader(r.Body, limit+1)
	if strings.EqualFold(strings.TrimSpace(r.Header.Get("Content-Encoding")), "gzip") {
		zr, err := gzip.NewReader(rd)
		if err != nil {
			return nil, newErr(400, "BadRequest", "The request body is not valid gzip.")
		}
		defer zr.Close()
		rd = io.LimitReader(zr, limit+1)
	}
	b, err := io.ReadAll(rd)
	if err != nil {
		return nil, newErr(400, "BadRequest", "The request body could not be read.")
	}
	if int64(len(b)) > limit {
		return nil, newErr(413, "RequestEntityTooLarge", "The request body is too large.")
	}
	return b, nil
}
