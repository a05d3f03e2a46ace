package graphsim

import (
	"bytes"
	"context"
	"net/http"
	"net/url"
	"runtime/debug"
	"strconv"
	"strings"
	"time"
)

// greq is one Graph request on its way through the simulator: an outer HTTP
// request, or one request inside a $batch.
type greq struct {
	r       *http.Request
	query   url.Values
	claims  *tokenClaims
	batched bool
	origin  string // https://host:port for absolute links
	repeat  bool   // fault "repeat": the next link points at this request again
}

// selfURL is the absolute URL of this request, as a repeated nextLink.
func (g *greq) selfURL() string {
	return g.origin + g.r.URL.RequestURI()
}

// route is a resolved Graph endpoint.
type route struct {
	endpoint string // stats key, e.g. "GET /drives/{id}/root/delta"
	cost     int    // resource units (docs/graph-behaviour.md)
	access   access
	paged    bool
	drive    string // the drive the call reads or changes, for its lock (locks.go)
	write    bool   // the call changes sharing: refused on a read-only drive
	handle   func(w http.ResponseWriter, g *greq) *gerr
}

// access names which application permissions an endpoint needs.
type access int

const (
	accessDirectory    access = iota // User.Read.All or Directory.Read.All (or stronger)
	accessFilesRead                  // Files.Read.All or Sites.Read.All (or stronger)
	accessFilesWrite                 // Files.ReadWrite.All or Sites.ReadWrite.All (or stronger)
	accessFullControl                // Sites.FullControl.All
	accessOrganization               // Organization.Read.All or Directory.Read.All (or stronger)
	accessSkus                       // LicenseAssignment.Read.All or an organization reader
	accessNone                       // checked by the handler
)

var accessRoles = map[access][]string{
	accessDirectory:   {"User.Read.All", "User.ReadWrite.All", "Directory.Read.All", "Directory.ReadWrite.All"},
	accessFilesRead:   {"Files.Read.All", "Files.ReadWrite.All", "Sites.Read.All", "Sites.ReadWrite.All", "Sites.Manage.All", "Sites.FullControl.All"},
	accessFilesWrite:  {"Files.ReadWrite.All", "Sites.ReadWrite.All", "Sites.Manage.All", "Sites.FullControl.All"},
	accessFullControl: {"Sites.FullControl.All"},
	// Learn, "Get organization" and "List subscribedSkus", Permissions
	// (application): User.Read.All reads neither.
	accessOrganization: {"Organization.Read.All", "Organization.ReadWrite.All", "Directory.Read.All", "Directory.ReadWrite.All"},
	accessSkus:         {"LicenseAssignment.Read.All", "Organization.Read.All", "Organization.ReadWrite.All", "Directory.Read.All", "Directory.ReadWrite.All"},
}

func accessDenied(a access, roles []string) *gerr {
	if len(roles) == 0 {
		return newErr(401, "InvalidAuthenticationToken", "Either scp or roles claim need to be present in the token.")
	}
	if a == accessDirectory || a == accessOrganization || a == accessSkus {
		return newErr(403, "Authorization_RequestDenied", "Insufficient privileges to complete the operation.")
	}
	return newErr(403, "accessDenied", "Access denied")
}

// statusWriter remembers the status for the stats.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

func (w *statusWriter) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// bufWriter buffers a whole response: for $batch items and for faults that
// mangle a finished answer.
type bufWriter struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func newBufWriter() *bufWriter { return &bufWriter{header: http.Header{}} }

func (b *bufWriter) Header() http.Header { return b.header }
func (b *bufWriter) WriteHeader(code int) {
	if b.status == 0 {
		b.status = code
	}
}
func (b *bufWriter) Write(p []byte) (int, error) {
	if b.status == 0 {
		b.status = http.StatusOK
	}
	return b.body.Write(p)
}

func setRequestIDs(h http.Header, r *http.Request) {
	id := newUUID()
	h.Set("request-id", id)
	crid := r.Header.Get("client-request-id")
	if crid == "" {
		crid = id
	}
	h.Set("client-request-id", crid)
	h.Set("x-ms-ags-diagnostic", `{"ServerInfo":{"DataCenter":"Local","Slice":"E","Ring":"5","ScaleUnit":"000","RoleInstance":"graphsim"}}`)
}

func originOf(r *http.Request, fallback string) string {
	if r.Host != "" {
		return "https://" + r.Host
	}
	return fallback
}

// serveGraph is the outer Graph pipeline: ids, recovery, token, route,
// faults, permissions, throttling, handler, stats.
func (s *Server) serveGraph(rw http.ResponseWriter, r *http.Request) {
	setRequestIDs(rw.Header(), r)
	w := &statusWriter{ResponseWriter: rw}
	endpoint := "unknown"
	defer func() {
		if v := recover(); v != nil {
			if v == http.ErrAbortHandler { //nolint:errorlint // sentinel panic value
				s.stats.request(endpoint, w.status, false)
				panic(v)
			}
			s.log.Error("graph handler panic", "panic", v, "stack", string(debug.Stack()))
			if w.status == 0 {
				writeGraphError(w, newErr(500, "generalException", "An unexpected error occurred."))
			}
		}
		s.stats.request(endpoint, w.status, false)
	}()
	defer drainClose(r.Body)

	rt, rerr := s.resolve(r)
	if rt != nil {
		endpoint = rt.endpoint
	}
	claims, terr := s.checkToken(r.Header.Get("Authorization"), time.Now())
	if terr != nil {
		w.Header().Set("WWW-Authenticate", `Bearer realm="", authorization_uri="`+s.baseURL+`/common/oauth2/authorize", client_id="00000003-0000-0000-c000-000000000000"`)
		writeGraphError(w, terr)
		return
	}
	if rerr != nil {
		writeGraphError(w, rerr)
		return
	}
	g := &greq{r: r, query: r.URL.Query(), claims: claims, origin: originOf(r, s.baseURL)}

	switch fault := s.faults.pick(rt.paged); fault {
	case "":
	case "429":
		e := newErr(429, "TooManyRequests", "Please retry again later.")
		e.innerCode, e.retryAfter = "429", "1"
		writeGraphError(w, e)
		return
	case "503":
		e := newErr(503, "serviceNotAvailable", "The service is temporarily unavailable. Please retry later.")
		e.retryAfter = "1"
		writeGraphError(w, e)
		return
	case "504":
		writeGraphError(w, newErr(504, "UnknownError", "The gateway did not receive a timely response from the upstream server."))
		return
	case "401":
		writeGraphError(w, errTokenExpired())
		return
	case "slow":
		select {
		case <-time.After(1500 * time.Millisecond):
		case <-r.Context().Done():
			return
		}
	case "repeat":
		g.repeat = true
	case "reset", "truncated":
		buf := newBufWriter()
		s.execute(buf, g, rt)
		h := w.Header()
		for k, v := range buf.header {
			h[k] = v
		}
		body := buf.body.Bytes()
		half := body[:len(body)/2]
		if fault == "truncated" {
			h.Set("Content-Length", strconv.Itoa(len(half)))
			w.WriteHeader(buf.status)
			_, _ = w.Write(half)
			return
		}
		h.Set("Content-Length", strconv.Itoa(len(body)))
		w.WriteHeader(buf.status)
		_, _ = w.Write(half)
		w.Flush()
		// Closes the connection (HTTP/1.1) or resets the stream (HTTP/2)
		// with the body half sent.
		panic(http.ErrAbortHandler)
	}
	s.execute(w, g, rt)
}

// execute checks permissions, charges the budget and runs the handler; it is
// shared by outer requests and $batch items.
func (s *Server) execute(w http.ResponseWriter, g *greq, rt *route) {
	if rt.access != accessNone && !g.claims.hasAny(accessRoles[rt.access]...) {
		writeGraphError(w, accessDenied(rt.access, g.claims.Roles))
		return
	}
	if rt.cost > 0 {
		ch := s.bucket.charge(rt.cost)
		s.stats.charged(rt.cost, !ch.ok)
		for k, v := range ch.headers {
			w.Header().Set(k, v)
		}
		if !ch.ok {
			e := newErr(429, "activityLimitReached", "The request has been throttled")
			e.innerCode = "throttledRequest"
			e.retryAfter = formatSeconds(ch.retryAfter)
			writeGraphError(w, e)
			return
		}
	}
	if e := s.lockedDrive(rt); e != nil {
		writeGraphError(w, e)
		return
	}
	if e := rt.handle(w, g); e != nil {
		writeGraphError(w, e)
	}
}

// segments splits the escaped path after /v1.0 and unescapes each segment,
// so "b%21abc" becomes "b!abc" and an escaped "/" inside a token survives.
func segments(escapedPath string) ([]string, *gerr) {
	rest := strings.Trim(strings.TrimPrefix(escapedPath, "/v1.0"), "/")
	if rest == "" {
		return nil, newErr(400, "BadRequest", "Invalid request.")
	}
	raw := strings.Split(rest, "/")
	segs := make([]string, len(raw))
	for i, s := range raw {
		u, err := url.PathUnescape(s)
		if err != nil {
			return nil, newErr(400, "BadRequest", "Invalid URI: the segment '"+s+"' is not correctly escaped.")
		}
		segs[i] = u
	}
	return segs, nil
}

func is(seg, name string) bool { return strings.EqualFold(seg, name) }

// resolve maps method and path to a route. Graph's path segments are
// case-insensitive; ids are not.
func (s *Server) resolve(r *http.Request) (*route, *gerr) {
	segs, e := segments(r.URL.EscapedPath())
	if e != nil {
		return nil, e
	}
	m := r.Method
	switch {
	case is(segs[0], "users"):
		return s.resolveUsers(m, segs, r.URL.Query())
	case is(segs[0], "subscribedSkus"):
		if len(segs) > 1 {
			return nil, errSegment(segs[1])
		}
		if m != http.MethodGet {
			return nil, errMethod()
		}
		return &route{endpoint: "GET /subscribedSkus", access: accessSkus, handle: s.listSkus}, nil
	case is(segs[0], "organization"):
		if len(segs) > 2 {
			return nil, errSegment(segs[2])
		}
		if m != http.MethodGet {
			return nil, errMethod()
		}
		if len(segs) == 2 {
			id := segs[1]
			return &route{endpoint: "GET /organization/{id}", access: accessOrganization,
				handle: func(w http.ResponseWriter, g *greq) *gerr { return s.getOrganization(w, g, id) }}, nil
		}
		return &route{endpoint: "GET /organization", access: accessOrganization, handle: s.listOrganization}, nil
	case is(segs[0], "drives"):
		return s.resolveDrives(m, segs, r.URL.Query())
	case is(segs[0], "$batch"):
		if len(segs) > 1 {
			return nil, errSegment(segs[1])
		}
		if m != http.MethodPost {
			return nil, errMethod()
		}
		return &route{endpoint: "POST /$batch", access: accessNone, handle: s.batch}, nil
	case is(segs[0], "subscriptions"):
		return s.resolveSubscriptions(m, segs)
	case is(segs[0], "me"):
		return nil, newErr(400, "BadRequest", "/me request is only valid with delegated authentication flow.")
	}
	return nil, errSegment(segs[0])
}

func (s *Server) resolveUsers(m string, segs []string, q url.Values) (*route, *gerr) {
	switch len(segs) {
	case 1:
		if m != http.MethodGet {
			return nil, errMethod()
		}
		return &route{endpoint: "GET /users", access: accessDirectory, paged: true, handle: s.listUsers}, nil
	case 2:
		if m != http.MethodGet {
			return nil, errMethod()
		}
		id := segs[1]
		return &route{endpoint: "GET /users/{id}", access: accessDirectory,
			handle: func(w http.ResponseWriter, g *greq) *gerr { return s.getUser(w, g, id) }}, nil
	case 3:
		if !is(segs[2], "drive") {
			return nil, errSegment(segs[2])
		}
		if m != http.MethodGet {
			return nil, errMethod()
		}
		id := segs[1]
		var drive string
		if d, ok := s.tenant.DriveOfUser(id); ok {
			drive = d.ID
		}
		return &route{endpoint: "GET /users/{id}/drive", cost: 1, access: accessFilesRead, drive: drive,
			handle: func(w http.ResponseWriter, g *greq) *gerr { return s.getUserDrive(w, g, id) }}, nil
	}
	if !is(segs[2], "drive") {
		return nil, errSegment(segs[2])
	}
	// /users/{id}/drive/... is /drives/{that user's drive}/...
	driveID := "b!unknown-user-drive"
	if u, ok := s.tenant.User(segs[1]); ok && u.HasDrive {
		if d, ok := s.tenant.DriveOfUser(u.ID); ok {
			driveID = d.ID
		}
	}
	return s.resolveDrives(m, append([]string{"drives", driveID}, segs[3:]...), q)
}

// deltaSegment recognises delta, delta(), delta(token='…') and returns the
// token given in the function form.
func deltaSegment(seg string) (ok bool, token string) {
	low := strings.ToLower(seg)
	switch {
	case low == "delta" || low == "delta()" || low == "microsoft.graph.delta" || low == "microsoft.graph.delta()":
		return true, ""
	case strings.HasPrefix(low, "delta(token=") && strings.HasSuffix(seg, ")"):
		t := seg[len("delta(token=") : len(seg)-1]
		t = strings.Trim(t, `'"`)
		return true, t
	}
	return false, ""
}

func (s *Server) resolveDrives(m string, segs []string, q url.Values) (*route, *gerr) {
	rt, e := s.resolveDriveRoute(m, segs, q)
	if rt != nil {
		rt.drive = segs[1]
		rt.write = m == http.MethodDelete || m == http.MethodPatch
	}
	return rt, e
}

func (s *Server) resolveDriveRoute(m string, segs []string, q url.Values) (*route, *gerr) {
	if len(segs) == 1 {
		return nil, newErr(400, "invalidRequest", "Listing drives is not supported for application-only calls; use /users/{id}/drive.")
	}
	driveID := segs[1]
	if len(segs) == 2 {
		if m != http.MethodGet {
			return nil, errMethod()
		}
		return &route{endpoint: "GET /drives/{id}", cost: 1, access: accessFilesRead,
			handle: func(w http.ResponseWriter, g *greq) *gerr { return s.getDrive(w, g, driveID) }}, nil
	}
	// /drives/{d}/root[/...] is /drives/{d}/items/root[/...].
	var itemID string
	var rest []string
	switch {
	case is(segs[2], "root"):
		itemID, rest = "root", segs[3:]
	case is(segs[2], "items") && len(segs) >= 4:
		itemID, rest = segs[3], segs[4:]
	default:
		return nil, errSegment(segs[2])
	}
	if is(itemID, "root") {
		itemID = "root"
	}
	if len(rest) == 0 {
		if m != http.MethodGet {
			return nil, errMethod()
		}
		return &route{endpoint: "GET /drives/{id}/items/{id}", cost: 1, access: accessFilesRead,
			handle: func(w http.ResponseWriter, g *greq) *gerr { return s.getItem(w, g, driveID, itemID) }}, nil
	}
	if ok, pathToken := deltaSegment(rest[0]); ok {
		if len(rest) > 1 {
			return nil, errSegment(rest[1])
		}
		if m != http.MethodGet {
			return nil, errMethod()
		}
		return s.deltaRoute(driveID, itemID, pathToken, q), nil
	}
	if !is(rest[0], "permissions") {
		return nil, errSegment(rest[0])
	}
	switch len(rest) {
	case 1:
		if m != http.MethodGet {
			return nil, errMethod()
		}
		return &route{endpoint: "GET /drives/{id}/items/{id}/permissions", cost: 5, access: accessFilesRead,
			handle: func(w http.ResponseWriter, g *greq) *gerr { return s.listPermissions(w, g, driveID, itemID) }}, nil
	case 2:
		permID := rest[1]
		switch m {
		case http.MethodGet:
			return &route{endpoint: "GET /drives/{id}/items/{id}/permissions/{id}", cost: 5, access: accessFilesRead,
				handle: func(w http.ResponseWriter, g *greq) *gerr { return s.getPermission(w, g, driveID, itemID, permID) }}, nil
		case http.MethodDelete:
			return &route{endpoint: "DELETE /drives/{id}/items/{id}/permissions/{id}", cost: 5, access: accessFilesWrite,
				handle: func(w http.ResponseWriter, g *greq) *gerr { return s.deletePermission(w, g, driveID, itemID, permID) }}, nil
		case http.MethodPatch:
			return &route{endpoint: "PATCH /drives/{id}/items/{id}/permissions/{id}", cost: 5, access: accessFilesWrite,
				handle: func(w http.ResponseWriter, g *greq) *gerr { return s.patchPermission(w, g, driveID, itemID, permID) }}, nil
		}
		return nil, errMethod()
	}
	return nil, errSegment(rest[2])
}

// withTimeout bounds work done on behalf of a request that has no deadline.
func withTimeout(ctx context.Context, d time.Duration) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, d)
}
