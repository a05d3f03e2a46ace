package graphsim

import (
	"bufio"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"net/http"
	"runtime/debug"
	"strings"

	"github.com/overshare/overshare/graphsim/tenant"
)

// serveControl is the simulator's own API for tests and the demo, outside
// Graph: no faults, no throttling, not counted in the stats. The bearer
// token is the client secret.
func (s *Server) serveControl(w http.ResponseWriter, r *http.Request) {
	defer func() {
		if v := recover(); v != nil {
			if v == http.ErrAbortHandler { //nolint:errorlint // sentinel panic value
				panic(v)
			}
			s.log.Error("control handler panic", "panic", v, "stack", string(debug.Stack()))
			controlError(w, 500, "generalException", "An unexpected error occurred.")
		}
	}()
	defer drainClose(r.Body)
	setRequestIDs(w.Header(), r)
	scheme, tok, _ := strings.Cut(r.Header.Get("Authorization"), " ")
	if !strings.EqualFold(scheme, "Bearer") || subtle.ConstantTimeCompare([]byte(strings.TrimSpace(tok)), []byte(s.opt.ClientSecret)) != 1 {
		controlError(w, 401, "Unauthorized", "The control API needs 'Authorization: Bearer <client secret>'.")
		return
	}
	path := strings.TrimSuffix(strings.TrimPrefix(r.URL.Path, "/_sim"), "/")
	type key struct{ method, path string }
	switch (key{r.Method, path}) {
	case key{"GET", "/summary"}:
		writeJSON(w, 200, s.tenant.Summary())
	case key{"GET", "/export"}:
		w.Header().Set("Content-Type", "application/x-ndjson")
		bw := bufio.NewWriterSize(w, 64<<10)
		if err := s.tenant.Export(bw); err != nil {
			s.log.Error("export", "err", err)
			return
		}
		_ = bw.Flush()
	case key{"POST", "/changes"}:
		s.controlChanges(w, r)
	case key{"GET", "/stats"}:
		writeJSON(w, 200, s.Stats())
	case key{"POST", "/stats/reset"}:
		s.stats.reset()
		writeJSON(w, 200, s.Stats())
	case key{"POST", "/faults"}:
		s.controlFaults(w, r)
	case key{"POST", "/subscriptions/lifecycle"}:
		s.controlSubscriptionEvent(w, r)
	case key{"GET", "/links"}:
		writeJSON(w, 200, s.tenant.LinkSettings())
	case key{"POST", "/links"}:
		s.controlLinks(w, r)
	case key{"POST", "/invalidate-delta"}:
		s.controlInvalidateDelta(w, r)
	case key{"GET", "/lenient"}:
		writeJSON(w, 200, s.tenant.Lenient())
	case key{"POST", "/lenient"}:
		// The whole set of switches; absent ones are off (harsh).
		var in tenant.Lenient
		if !decodeControl(w, r, &in) {
			return
		}
		s.tenant.SetLenient(in)
		writeJSON(w, 200, s.tenant.Lenient())
	case key{"POST", "/retention-delete"}:
		s.controlRetentionDelete(w, r)
	case key{"GET", "/permissions"}, key{"POST", "/permissions"}:
		s.controlPermissions(w, r)
	case key{"POST", "/app"}:
		s.controlApp(w, r)
	default:
		if !s.controlDrives(w, r, path) {
			controlError(w, 404, "NotFound", "No control endpoint "+r.Method+" /_sim"+path+".")
		}
	}
}

// controlPermissions reads or sets ({"inheritedFrom": "absent"|"empty"|"links"|"full"})
// how inherited permission entries carry inheritedFrom, and lists the
// applications that hold grants (for share changes of scope application).
func (s *Server) controlPermissions(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodPost {
		var in struct {
			InheritedFrom *string `json:"inheritedFrom"`
		}
		if !decodeControl(w, r, &in) {
			return
		}
		if in.InheritedFrom != nil {
			if err := s.tenant.SetInheritedFrom(*in.InheritedFrom); err != nil {
				controlError(w, 400, "BadRequest", userMessage(err, "Invalid inheritedFrom."))
				return
			}
		}
	}
	type app struct {
		ID          string `json:"id"`
		DisplayName string `json:"displayName"`
	}
	apps := []app{}
	for _, a := range s.tenant.Applications() {
		apps = append(apps, app{a.ID, a.DisplayName})
	}
	writeJSON(w, 200, map[string]any{"inheritedFrom": s.tenant.InheritedFrom(), "applications": apps})
}

func controlError(w http.ResponseWriter, status int, code, msg string) {
	writeGraphError(w, newErr(status, code, msg))
}

func decodeControl(w http.ResponseWriter, r *http.Request, v any) bool {
	body, e := readBody(r, 8<<20)
	if e != nil {
		writeGraphError(w, e)
		return false
	}
	if err := json.Unmarshal(body, v); err != nil {
		controlError(w, 400, "BadRequest", "Invalid JSON: "+err.Error())
		return false
	}
	return true
}

// controlChanges applies random changes ({"seed","count"}) or explicit ones
// ({"ops":[…]}); for ops, each result carries its own error.
func (s *Server) controlChanges(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Seed  int64           `json:"seed"`
		Count *int            `json:"count"`
		Ops   []tenant.Change `json:"ops"`
	}
	if !decodeControl(w, r, &in) {
		return
	}
	switch {
	case in.Ops != nil:
		type result struct {
			tenant.ChangeResult
			Error string `json:"error,omitempty"`
		}
		out := make([]result, len(in.Ops))
		for i, c := range in.Ops {
			res, err := s.tenant.Apply(c)
			out[i] = result{ChangeResult: res}
			if err != nil {
				out[i].Error = err.Error()
			}
		}
		writeJSON(w, 200, map[string]any{"results": out})
	case in.Count != nil:
		if *in.Count < 0 || *in.Count > 1_000_000 {
			controlError(w, 400, "BadRequest", "count must be between 0 and 1000000.")
			return
		}
		n := s.tenant.ApplyRandomChanges(in.Seed, *in.Count)
		writeJSON(w, 200, map[string]any{"applied": n})
	default:
		controlError(w, 400, "BadRequest", `Send {"seed":n,"count":n} or {"ops":[…]}.`)
	}
}

// controlRetentionDelete deletes items as a retention policy does, without
// a trace in delta: {"driveId","itemId"} or {"items":[{"driveId","itemId"}]}.
func (s *Server) controlRetentionDelete(w http.ResponseWriter, r *http.Request) {
	type ref struct {
		DriveID string `json:"driveId"`
		ItemID  string `json:"itemId"`
	}
	var in struct {
		ref
		Items []ref `json:"items"`
	}
	if !decodeControl(w, r, &in) {
		return
	}
	if in.ItemID != "" {
		in.Items = append(in.Items, in.ref)
	}
	if len(in.Items) == 0 {
		controlError(w, 400, "BadRequest", `Send {"driveId","itemId"} or {"items":[…]}.`)
		return
	}
	type result struct {
		ref
		Error string `json:"error,omitempty"`
	}
	out := make([]result, len(in.Items))
	for i, it := range in.Items {
		out[i].ref = it
		if err := s.tenant.RetentionDelete(it.DriveID, it.ItemID); err != nil {
			out[i].Error = err.Error()
		}
	}
	writeJSON(w, 200, map[string]any{"results": out})
}

// controlLinks changes the tenant's link settings ({"policy":{"off","maxDays"},
// "reportPasswords"}); absent fields keep their value.
func (s *Server) controlLinks(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Policy          *tenant.LinkPolicy `json:"policy"`
		ReportPasswords *bool              `json:"reportPasswords"`
	}
	if !decodeControl(w, r, &in) {
		return
	}
	cur := s.tenant.LinkSettings()
	if in.Policy != nil {
		if in.Policy.MaxDays < 0 || in.Policy.MaxDays > 730 {
			controlError(w, 400, "BadRequest", "maxDays must be between 0 (the default, 30) and 730.")
			return
		}
		cur.Policy = *in.Policy
	}
	if in.ReportPasswords != nil {
		cur.ReportPasswords = *in.ReportPasswords
	}
	s.tenant.SetLinkSettings(cur)
	writeJSON(w, 200, cur)
}

// controlFaults sets the rate and kinds of injected faults.
func (s *Server) controlFaults(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Rate  *float64 `json:"rate"`
		Kinds []string `json:"kinds"`
	}
	if !decodeControl(w, r, &in) {
		return
	}
	if in.Rate == nil || *in.Rate < 0 || *in.Rate > 1 {
		controlError(w, 400, "BadRequest", "rate must be a number between 0 and 1.")
		return
	}
	if err := checkFaultKinds(in.Kinds); err != nil {
		controlError(w, 400, "BadRequest", err.Error())
		return
	}
	s.SetFaults(*in.Rate, in.Kinds)
	writeJSON(w, 200, map[string]any{"rate": *in.Rate, "kinds": in.Kinds})
}

// controlSubscriptionEvent makes a lifecycle event happen to a subscription (SubscriptionEvent).
func (s *Server) controlSubscriptionEvent(w http.ResponseWriter, r *http.Request) {
	// {"subscriptionId": "...", "event": "reauthorizationRequired"|"subscriptionRemoved"|"missed"|"drop"|"gone"}
	// "drop" removes the subscription silently, as Graph may for driveItem subscriptions;
	// "gone" leaves it listed but answering 410 (Server.SubscriptionEvent).
	var in struct {
		SubscriptionID string `json:"subscriptionId"`
		Event          string `json:"event"`
	}
	if !decodeControl(w, r, &in) {
		return
	}
	if err := s.SubscriptionEvent(in.SubscriptionID, in.Event); err != nil {
		status := 400
		if errors.Is(err, errNoSubscription) {
			status = 404
		}
		controlError(w, status, "BadRequest", err.Error())
		return
	}
	writeJSON(w, 200, map[string]any{"subscriptionId": in.SubscriptionID, "event": in.Event})
}

// controlInvalidateDelta makes every delta token answer 410, in the variant asked for.
func (s *Server) controlInvalidateDelta(w http.ResponseWriter, r *http.Request) {
	// Optional body {"variant": "apply"|"upload"|"noInnerCode"|"noLocation"}.
	var in struct {
		Variant string `json:"variant"`
	}
	if r.ContentLength != 0 && !decodeControl(w, r, &in) {
		return
	}
	v, err := tenant.ParseResyncVariant(in.Variant)
	if err != nil {
		controlError(w, 400, "BadRequest", userMessage(err, "Unknown variant."))
		return
	}
	s.tenant.InvalidateDeltaAs(v)
	writeJSON(w, 200, map[string]any{"invalidated": true, "variant": v.String()})
}

// controlApp changes the simulated app: its permissions, an expired secret or certificate, a new certificate.
func (s *Server) controlApp(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Roles              *[]string `json:"roles"`
		SecretExpired      *bool     `json:"secretExpired"`
		CertificateExpired *bool     `json:"certificateExpired"`
		RotateCertificate  bool      `json:"rotateCertificate"`
	}
	if !decodeControl(w, r, &in) {
		return
	}
	if in.Roles != nil {
		s.SetAppPermissions(*in.Roles)
	}
	if in.SecretExpired != nil {
		s.ExpireSecret(*in.SecretExpired)
	}
	if in.RotateCertificate {
		if _, err := s.RotateCertificate(); err != nil {
			s.log.Error("rotate certificate", "err", err)
			controlError(w, 500, "generalException", "Could not make a new certificate.")
			return
		}
	}
	if in.CertificateExpired != nil {
		s.ExpireCertificate(*in.CertificateExpired)
	}
	s.app.mu.RLock()
	out := map[string]any{
		"roles": s.app.roles, "secretExpired": s.app.secretExpired,
		"certificateThumbprint": s.app.cert.thumbprintHex, "certificateExpired": s.app.certExpired,
		"certificateFile": s.certFile,
	}
	s.app.mu.RUnlock()
	writeJSON(w, 200, out)
}
