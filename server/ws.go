package server

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"sync"
	"time"

	coderws "github.com/coder/websocket"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler/transport"

	"github.com/overshare/overshare/auth"
	"github.com/overshare/overshare/graph"
)

// Websockets speak graphql-transport-ws (the protocol of the graphql-ws library). gqlgen runs
// the protocol; this file adds what it leaves out: authentication in connection_init, the
// protocol's close codes, the initialisation timeout, and closing a connection when its token
// expires. It does so by wrapping the connection gqlgen reads and writes, so every message is
// seen before gqlgen acts on it.

// graphql-transport-ws close codes.
const (
	closeBadRequest        = 4400 // an invalid or unexpected message
	closeUnauthorized      = 4401 // subscribe before connection_ack; here also: the token expired
	closeForbidden         = 4403 // connection_init refused (missing, invalid or role-less token)
	closeInitTimeout       = 4408 // no connection_init in time
	closeSubscriberExists  = 4409 // a second subscribe with an id in use
	closeTooManyInitialise = 4429 // a second connection_init
	closeGoingAway         = 1001 // server shutdown
)

const subprotocol = "graphql-transport-ws"

type wsStateKey struct{}

// wsState links gqlgen's InitFunc, which sees only a context, to the connection it belongs to.
type wsState struct {
	conn *wsConn
}

// wsTransport is gqlgen's websocket transport with the connection wrapped.
type wsTransport struct {
	inner transport.Websocket
}

func (t wsTransport) Supports(r *http.Request) bool { return t.inner.Supports(r) }

func (t wsTransport) Do(w http.ResponseWriter, r *http.Request, exec graphql.GraphExecutor) {
	st := &wsState{}
	t.inner.Do(w, r.WithContext(context.WithValue(r.Context(), wsStateKey{}, st)), exec)
}

// wsImplementation accepts the upgrade and wraps the connection.
type wsImplementation struct {
	s           *Server
	accept      coderws.AcceptOptions
	initTimeout time.Duration
}

func (i wsImplementation) Accept(w http.ResponseWriter, r *http.Request, opts transport.WebsocketAcceptOptions) (transport.WebsocketConn, error) {
	st, _ := r.Context().Value(wsStateKey{}).(*wsState)
	if st == nil {
		return nil, errors.New("websocket accepted outside wsTransport")
	}
	for k, vs := range opts.ResponseHeader {
		for _, v := range vs {
			w.Header().Add(k, v)
		}
	}
	ao := i.accept
	ao.Subprotocols = []string{subprotocol}
	c, err := coderws.Accept(w, r, &ao)
	if err != nil {
		return nil, err
	}
	conn := &wsConn{c: c, s: i.s, ids: map[string]bool{}}
	if !i.s.trackConn(conn) {
		conn.closeWith(closeGoingAway, "the server is shutting down")
		return conn, nil
	}
	st.conn = conn
	conn.mu.Lock()
	defer conn.mu.Unlock()
	conn.timer = time.AfterFunc(i.initTimeout, func() {
		conn.mu.Lock()
		seen := conn.initSeen
		conn.mu.Unlock()
		if !seen {
			conn.closeWith(closeInitTimeout, "Connection initialisation timeout")
		}
	})
	return conn, nil
}

// wsConn is one websocket connection as gqlgen sees it.
type wsConn struct {
	c *coderws.Conn
	s *Server

	mu       sync.Mutex
	closed   bool
	initSeen bool
	acked    bool
	ids      map[string]bool // subscriptions in progress
	timer    *time.Timer     // initialisation timeout, then token expiry
	subject  string          // the principal, once connection_init is accepted; guarded by Server.wsMu
}

var errClosedByServer = errors.New("websocket closed by the server")

type wsMessage struct {
	Type string          `json:"type"`
	ID   string          `json:"id,omitempty"`
	Raw  json.RawMessage `json:"payload,omitempty"`
}

// NextReader checks each client message against the protocol before gqlgen reads it. A
// subscribe over the connection's limit is answered with an error here and never reaches gqlgen.
func (c *wsConn) NextReader() (int, io.Reader, error) {
	for {
		typ, r, refused, err := c.nextMessage()
		if !refused {
			return typ, r, err
		}
	}
}

// nextMessage reads and checks one client message; refused means it was answered here.
func (c *wsConn) nextMessage() (int, io.Reader, bool, error) {
	typ, data, err := c.c.Read(context.Background())
	if err != nil {
		switch coderws.CloseStatus(err) {
		case coderws.StatusNormalClosure, coderws.StatusNoStatusRcvd:
			return int(typ), nil, false, transport.ErrWebsocketClosed
		}
		return int(typ), nil, false, err
	}
	var m wsMessage
	if err := json.Unmarshal(data, &m); err != nil || m.Type == "" {
		c.closeWith(closeBadRequest, "Invalid message received")
		return 0, nil, false, errClosedByServer
	}
	c.mu.Lock()
	code, reason, tooMany := 0, "", false
	switch m.Type {
	case "connection_init":
		if c.initSeen {
			code, reason = closeTooManyInitialise, "Too many initialisation requests"
		}
		c.initSeen = true
	case "subscribe":
		switch {
		case !c.acked:
			code, reason = closeUnauthorized, "Unauthorized"
		case m.ID == "":
			code, reason = closeBadRequest, "Invalid message received: subscribe without an id"
		case c.ids[m.ID]:
			code, reason = closeSubscriberExists, fmt.Sprintf("Subscriber for %.64s already exists", m.ID)
		case len(c.ids) >= c.s.cfg.MaxSubscriptionsPerSocket:
			tooMany = true
		default:
			c.ids[m.ID] = true
		}
	case "complete":
		delete(c.ids, m.ID)
	case "ping", "pong":
	default:
		code, reason = closeBadRequest, fmt.Sprintf("Invalid message type %.32q", m.Type)
	}
	c.mu.Unlock()
	switch {
	case code != 0:
		c.closeWith(code, reason)
		return 0, nil, false, errClosedByServer
	case tooMany:
		msg := fmt.Sprintf("this connection already runs %d subscriptions, the limit; complete one first", c.s.cfg.MaxSubscriptionsPerSocket)
		return 0, nil, true, c.writeError(m.ID, msg)
	}
	return int(typ), bytes.NewReader(data), false, nil
}

// writeError answers one subscribe with the protocol's error message.
func (c *wsConn) writeError(id, msg string) error {
	data, _ := json.Marshal(map[string]any{"id": id, "type": "error", "payload": errorList(graph.CodeBadUserInput, msg)})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return c.c.Write(ctx, coderws.MessageText, data)
}

// WriteJSON notes what the server tells the client: the acknowledgement and ended subscriptions.
func (c *wsConn) WriteJSON(v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return err
	}
	var m wsMessage
	_ = json.Unmarshal(data, &m)
	c.mu.Lock()
	dropped := false
	switch m.Type {
	case "connection_ack":
		c.acked = true
	case "next", "complete", "error":
		// After the client's complete the server sends nothing more for that id (the protocol
		// says so); gqlgen would send what the cancelled resolver ended with, an INTERNAL error.
		dropped = !c.ids[m.ID]
		if m.Type != "next" {
			delete(c.ids, m.ID)
		}
	}
	closed := c.closed
	c.mu.Unlock()
	if closed {
		return errClosedByServer
	}
	if dropped {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return c.c.Write(ctx, coderws.MessageText, data)
}

// WriteClose is gqlgen's own close. Its protocol errors use 1002; graphql-transport-ws says 4400.
func (c *wsConn) WriteClose(code int, message string) error {
	if code == transport.WebsocketCloseProtocolError {
		code = closeBadRequest
	}
	c.closeWith(code, message)
	return nil
}

func (c *wsConn) Close() error {
	c.closeWith(transport.WebsocketCloseNormalClosure, "")
	return nil
}

func (c *wsConn) Subprotocol() string { return c.c.Subprotocol() }

func (c *wsConn) SetReadLimit(limit int64) { c.c.SetReadLimit(limit) }

// closeWith sends the close frame once and releases the connection. The close handshake runs in
// the background (a peer that never answers costs at most coder/websocket's 5 s wait), so a timer
// or a shutdown never blocks on a slow client.
func (c *wsConn) closeWith(code int, reason string) {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return
	}
	c.closed = true
	if c.timer != nil {
		c.timer.Stop()
	}
	c.mu.Unlock()
	c.s.untrackConn(c)
	c.s.metrics.wsClosed.WithLabelValues(fmt.Sprint(code)).Inc()
	go func() { _ = c.c.Close(coderws.StatusCode(code), reason) }()
}

// expireAt closes the connection with 4401 when the token it was opened with expires.
func (c *wsConn) expireAt(t time.Time) {
	if t.IsZero() {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.timer != nil {
		c.timer.Stop()
	}
	c.timer = time.AfterFunc(time.Until(t), func() {
		c.closeWith(closeUnauthorized, "Unauthorized: the token expired")
	})
}

// wsInit authenticates connection_init: {"Authorization": "Bearer <token>"}. A refused
// connection is closed with 4403 and the reason; an accepted one carries the principal in its
// context (so @hasRole applies to every subscription on it) and is closed when the token expires.
func (s *Server) wsInit(ctx context.Context, payload transport.InitPayload) (context.Context, *transport.InitPayload, error) {
	st, _ := ctx.Value(wsStateKey{}).(*wsState)
	refuse := func(msg string) (context.Context, *transport.InitPayload, error) {
		ctx = transport.WithWebsocketCloseCode(ctx, closeForbidden)
		ctx = transport.AppendCloseReason(ctx, "Forbidden: "+msg)
		return ctx, nil, errors.New(msg)
	}
	if st == nil || st.conn == nil {
		return refuse("connection state missing")
	}
	token, ok := auth.ParseBearer(payload.Authorization())
	if !ok {
		return refuse(`send {"Authorization": "Bearer <token>"} as the connection_init payload`)
	}
	p, err := s.verifier.Verify(ctx, token)
	if err != nil {
		var te *auth.TokenError
		if errors.As(err, &te) {
			return refuse(te.Error())
		}
		return refuse("the token could not be verified")
	}
	if !p.HasRole(auth.RoleViewer) {
		return refuse("the token carries no Overshare role")
	}
	if !s.claimSocket(st.conn, p.Subject) {
		ctx = transport.WithWebsocketCloseCode(ctx, closeTooManyInitialise)
		msg := fmt.Sprintf("Too many connections: %s already holds %d websockets, the limit", p.Subject, s.cfg.MaxSocketsPerPrincipal)
		ctx = transport.AppendCloseReason(ctx, msg)
		return ctx, nil, errors.New(msg)
	}
	st.conn.expireAt(p.ExpiresAt)
	return auth.WithPrincipal(ctx, p), nil, nil
}

// claimSocket records c as subject's, unless subject already holds MaxSocketsPerPrincipal.
func (s *Server) claimSocket(c *wsConn, subject string) bool {
	s.wsMu.Lock()
	defer s.wsMu.Unlock()
	n := 0
	for o := range s.wsConns {
		if o.subject == subject {
			n++
		}
	}
	if n >= s.cfg.MaxSocketsPerPrincipal {
		return false
	}
	c.subject = subject
	return true
}

// trackConn registers an open connection so that shutdown can close it; false once shutting down.
func (s *Server) trackConn(c *wsConn) bool {
	s.wsMu.Lock()
	defer s.wsMu.Unlock()
	if s.draining {
		return false
	}
	s.wsConns[c] = struct{}{}
	s.metrics.wsOpen.Inc()
	return true
}

func (s *Server) untrackConn(c *wsConn) {
	s.wsMu.Lock()
	defer s.wsMu.Unlock()
	if _, ok := s.wsConns[c]; ok {
		delete(s.wsConns, c)
		s.metrics.wsOpen.Dec()
	}
}

// closeWebsockets closes every open websocket with 1001 and refuses new ones.
func (s *Server) closeWebsockets() int {
	s.wsMu.Lock()
	s.draining = true
	conns := make([]*wsConn, 0, len(s.wsConns))
	for c := range s.wsConns {
		conns = append(conns, c)
	}
	s.wsMu.Unlock()
	for _, c := range conns {
		c.closeWith(closeGoingAway, "the server is shutting down")
	}
	return len(conns)
}

// wantsTransportWS reports whether the upgrade request offers graphql-transport-ws.
func wantsTransportWS(r *http.Request) bool {
	for _, h := range r.Header.Values("Sec-WebSocket-Protocol") {
		for _, p := range splitComma(h) {
			if p == subprotocol {
				return true
			}
		}
	}
	return false
}

func splitComma(s string) []string {
	var out []string
	for _, p := range bytes.Split([]byte(s), []byte(",")) {
		if t := string(bytes.TrimSpace(p)); t != "" {
			out = append(out, t)
		}
	}
	return slices.Clip(out)
}
