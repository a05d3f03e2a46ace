package devidp

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
)

// HTTPClient returns a client that reaches this provider in-process: requests to the issuer's
// host are served by the handler directly, without a network round trip. It lets a verifier in
// the same process (`overshare demo`, via auth.Config.HTTPClient) run discovery before the
// server that will host the provider is listening. Requests to any other host fail.
func (p *Provider) HTTPClient() *http.Client {
	u, _ := url.Parse(p.issuer) // validated by New
	return &http.Client{Transport: inProcess{p: p, host: u.Host}}
}

type inProcess struct {
	p    *Provider
	host string
}

func (t inProcess) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.URL.Host != t.host {
		return nil, fmt.Errorf("devidp in-process client: %s is not the provider's host %s", req.URL.Host, t.host)
	}
	// A server request has RequestURI set and a non-nil body.
	sreq := req.Clone(req.Context())
	sreq.RequestURI = req.URL.RequestURI()
	if sreq.Body == nil {
		sreq.Body = http.NoBody
	}
	w := &recorder{header: http.Header{}}
	t.p.ServeHTTP(w, sreq)
	if req.Body != nil {
		_ = req.Body.Close() // a RoundTripper must close the request body
	}
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return &http.Response{
		Status:        strconv.Itoa(w.status) + " " + http.StatusText(w.status),
		StatusCode:    w.status,
		Proto:         "HTTP/1.1",
		ProtoMajor:    1,
		ProtoMinor:    1,
		Header:        w.header,
		Body:          io.NopCloser(&w.body),
		ContentLength: int64(w.body.Len()),
		Request:       req,
	}, nil
}

// recorder is the minimal http.ResponseWriter the provider's handlers need.
type recorder struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (r *recorder) Header() http.Header { return r.header }

func (r *recorder) WriteHeader(status int) {
	if r.status == 0 {
		r.status = status
	}
}

func (r *recorder) Write(b []byte) (int, error) {
	r.WriteHeader(http.StatusOK)
	return r.body.Write(b)
}
