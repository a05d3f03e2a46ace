package graphsim

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
)

// The /subscriptions endpoints: create (validating both URLs), list, get, renew or re-point
// (PATCH), reauthorize and delete.

func (s *Server) resolveSubscriptions(m string, segs []string) (*route, *gerr) {
	switch len(segs) {
	case 1:
		switch m {
		case http.MethodPost:
			return &route{endpoint: "POST /subscriptions", access: accessFilesWrite, handle: s.createSubscription}, nil
		case http.MethodGet:
			return &route{endpoint: "GET /subscriptions", access: accessNone, handle: s.listSubscriptions}, nil
		}
		return nil, errMethod()
	case 2:
		id := segs[1]
		switch m {
		case http.MethodGet:
			return &route{endpoint: "GET /subscriptions/{id}", access: accessNone,
				handle: func(w http.ResponseWriter, g *greq) *gerr { return s.getSubscription(w, g, id) }}, nil
		case http.MethodPatch:
			return &route{endpoint: "PATCH /subscriptions/{id}", access: accessFilesWrite,
				handle: func(w http.ResponseWriter, g *greq) *gerr { return s.patchSubscription(w, g, id) }}, nil
		case http.MethodDelete:
			return &route{endpoint: "DELETE /subscriptions/{id}", access: accessFilesWrite,
				handle: func(w http.ResponseWriter, g *greq) *gerr { return s.deleteSubscription(w, g, id) }}, nil
		}
		return nil, errMethod()
	case 3:
		id := segs[1]
		if is(segs[2], "reauthorize") && m == http.MethodPost {
			return &route{endpoint: "POST /subscriptions/{id}/reauthorize", access: accessFilesWrite,
				handle: func(w http.ResponseWriter, g *greq) *gerr { return s.reauthorizeSubscription(w, g, id) }}, nil
		}
	}
	return nil, errSegment(segs[len(segs)-1])
}

type subscriptionJSON struct {
	Context                   string  `json:"@odata.context,omitempty"`
	ID                        string  `json:"id"`
	Resource                  string  `json:"resource"`
	ApplicationID             string  `json:"applicationId"`
	ChangeType                string  `json:"changeType"`
	ClientState               *string `json:"clientState"`
	NotificationURL           string  `json:"notificationUrl"`
	LifecycleNotificationURL  *string `json:"lifecycleNotificationUrl"`
	ExpirationDateTime        string  `json:"expirationDateTime"`
	CreatorID                 string  `json:"creatorId"`
	IncludeResourceData       bool    `json:"includeResourceData"`
	LatestSupportedTLSVersion string  `json:"latestSupportedTlsVersion"`
}

func (s *Server) subscriptionJSON(g *greq, sub *subscription) subscriptionJSON {
	j := subscriptionJSON{
		Context:                   g.origin + "/v1.0/$metadata#subscriptions/$entity",
		ID:                        sub.ID,
		Resource:                  sub.Resource,
		ApplicationID:             s.opt.ClientID,
		ChangeType:                sub.ChangeType,
		NotificationURL:           sub.NotificationURL,
		ExpirationDateTime:        sub.Expiration.Format("2006-01-02T15:04:05.0000000Z07:00"),
		CreatorID:                 seededUUID(s.opt.Tenant.Seed, "service-principal"),
		LatestSupportedTLSVersion: sub.LatestTLS,
	}
	if sub.ClientState != "" {
		cs := sub.ClientState
		j.ClientState = &cs
	}
	if sub.LifecycleURL != "" {
		l := sub.LifecycleURL
		j.LifecycleNotificationURL = &l
	}
	return j
}

func errSubscription(msg string) *gerr { return newErr(400, "InvalidRequest", msg) }

func checkExpiration(v string, now time.Time) (time.Time, *gerr) {
	if v == "" {
		return time.Time{}, errSubscription("expirationDateTime is a required property for subscription creation.")
	}
	t, err := time.Parse(time.RFC3339Nano, v)
	if err != nil {
		return time.Time{}, errSubscription("Cannot convert the literal '" + v + "' to the expected type 'Edm.DateTimeOffset'.")
	}
	if !t.After(now) {
		return time.Time{}, errSubscription("Subscription expiration must be in the future.")
	}
	if t.After(now.Add(maxSubscriptionMinutes * time.Minute)) {
		return time.Time{}, errSubscription("Subscription expiration can only be 42300 minutes in the future.")
	}
	return t.UTC(), nil
}

// subscriptionDrive accepts drives/{id}/root (with or without a leading
// slash) and users/{id}/drive/root.
func (s *Server) subscriptionDrive(resource string) (string, *gerr) {
	segs := strings.Split(strings.Trim(resource, "/"), "/")
	switch {
	case len(segs) == 3 && is(segs[0], "drives") && is(segs[2], "root"):
		if _, ok := s.tenant.Drive(segs[1]); !ok {
			return "", newErr(404, "itemNotFound", "The resource '"+resource+"' could not be found.")
		}
		return segs[1], nil
	case len(segs) == 4 && is(segs[0], "users") && is(segs[2], "drive") && is(segs[3], "root"):
		u, ok := s.tenant.User(segs[1])
		if !ok {
			return "", userNotFound(segs[1])
		}
		d, ok := s.tenant.DriveOfUser(u.ID)
		if !ok || !u.HasDrive {
			return "", newErr(404, "ResourceNotFound", "User's mysite not found.")
		}
		return d.ID, nil
	}
	return "", errSubscription("Resource '" + resource + "' is not supported. Subscribe to the root of a drive: drives/{drive-id}/root.")
}

func (s *Server) createSubscription(w http.ResponseWriter, g *greq) *gerr {
	body, e := readBody(g.r, 1<<20)
	if e != nil {
		return e
	}
	var in struct {
		ChangeType                string `json:"changeType"`
		NotificationURL           string `json:"notificationUrl"`
		LifecycleNotificationURL  string `json:"lifecycleNotificationUrl"`
		Resource                  string `json:"resource"`
		ExpirationDateTime        string `json:"expirationDateTime"`
		ClientState               string `json:"clientState"`
		LatestSupportedTLSVersion string `json:"latestSupportedTlsVersion"`
	}
	if err := json.Unmarshal(body, &in); err != nil {
		return errPayload()
	}
	if in.Resource == "" {
		return errSubscription("resource is a required property for subscription creation.")
	}
	driveID, e := s.subscriptionDrive(in.Resource)
	if e != nil {
		return e
	}
	for _, ct := range strings.Split(in.ChangeType, ",") {
		if ct = strings.TrimSpace(ct); ct != "updated" {
			return errSubscription("The changeType '" + ct + "' is not supported for resource '" + in.Resource + "'. Drive root subscriptions support only 'updated'.")
		}
	}
	if len(in.ClientState) > 128 {
		return errSubscription("clientState must not be longer than 128 characters.")
	}
	exp, e := checkExpiration(in.ExpirationDateTime, time.Now())
	if e != nil {
		return e
	}
	for name, raw := range map[string]string{"notificationUrl": in.NotificationURL, "lifecycleNotificationUrl": in.LifecycleNotificationURL} {
		if raw == "" && name == "lifecycleNotificationUrl" {
			continue
		}
		u, err := url.Parse(raw)
		if err != nil || u.Host == "" || !strings.EqualFold(u.Scheme, "https") {
			return errSubscription("Subscription validation request failed. The " + name + " must be an https URL.")
		}
	}
	tlsVersion := in.LatestSupportedTLSVersion
	if tlsVersion == "" {
		tlsVersion = "v1_2"
	}
	// Graph validates both endpoints of a webhook subscription.
	for _, u := range []string{in.NotificationURL, in.LifecycleNotificationURL} {
		if u == "" {
			continue
		}
		if e := s.subs.validate(g.r.Context(), u); e != nil {
			return e
		}
	}
	sub := &subscription{
		ID: newUUID(), Resource: in.Resource, DriveID: driveID, ChangeType: "updated", ClientState: in.ClientState,
		NotificationURL: in.NotificationURL, LifecycleURL: in.LifecycleNotificationURL, LatestTLS: tlsVersion, Expiration: exp,
	}
	s.subs.mu.Lock()
	s.subs.byID[sub.ID] = sub
	j := s.subscriptionJSON(g, sub)
	s.subs.mu.Unlock()
	writeJSON(w, http.StatusCreated, j)
	return nil
}

// validate is Graph's handshake: POST ?validationToken=… and expect the
// token echoed as text within 10 seconds.
func (ss *subscriptions) validate(ctx context.Context, notificationURL string) *gerr {
	token := "Validation: Testing client application reachability for subscription Request-Id: " + newUUID()
	u, _ := url.Parse(notificationURL)
	q := u.Query()
	q.Set("validationToken", token)
	u.RawQuery = q.Encode()
	ctx, cancel := withTimeout(ctx, 10*time.Second)
	defer cancel()
	fail := errSubscription("Subscription validation request failed. Notification endpoint must respond with 200 OK to validation request.")
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u.String(), http.NoBody)
	if err != nil {
		return fail
	}
	req.Header.Set("Content-Type", "text/plain; charset=utf-8")
	resp, err := ss.client.Do(req)
	if err != nil {
		ss.s.log.Info("subscription validation failed", "err", err)
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return errSubscription("Subscription validation request timed out.")
		}
		return fail
	}
	defer drainClose(resp.Body)
	got, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	if resp.StatusCode != http.StatusOK {
		return fail
	}
	if strings.TrimSpace(string(got)) != token {
		return errSubscription("Subscription validation request failed. Response must exactly match validationToken query parameter.")
	}
	return nil
}

// subscriptionNotFound answers for a subscription Graph does not hold: 404, or 410 for one
// removed as "gone" (the issue tracker reports both; Overshare must take either).
func (s *Server) subscriptionNotFound(id string) *gerr {
	s.subs.mu.Lock()
	gone := s.subs.gone[id]
	delete(s.subs.byID, id) // purged from the list once it has answered 410
	s.subs.mu.Unlock()
	if gone {
		return newErr(410, "Gone", "The subscription no longer exists.")
	}
	return newErr(404, "ResourceNotFound", "The object was not found.")
}

func (s *Server) listSubscriptions(w http.ResponseWriter, g *greq) *gerr {
	s.subs.mu.Lock()
	value := make([]subscriptionJSON, 0, len(s.subs.byID))
	for _, sub := range s.subs.byID {
		j := s.subscriptionJSON(g, sub)
		j.Context = ""
		value = append(value, j)
	}
	s.subs.mu.Unlock()
	slices.SortFunc(value, func(a, b subscriptionJSON) int { return strings.Compare(a.ID, b.ID) })
	writeJSON(w, 200, map[string]any{"@odata.context": g.origin + "/v1.0/$metadata#subscriptions", "value": value})
	return nil
}

func (s *Server) getSubscription(w http.ResponseWriter, g *greq, id string) *gerr {
	s.subs.mu.Lock()
	defer s.subs.mu.Unlock()
	sub, ok := s.subs.live(id)
	if !ok {
		return s.subscriptionNotFound(id)
	}
	writeJSON(w, 200, s.subscriptionJSON(g, sub))
	return nil
}

func (s *Server) reauthorizeSubscription(w http.ResponseWriter, _ *greq, id string) *gerr {
	s.subs.mu.Lock()
	defer s.subs.mu.Unlock()
	sub, ok := s.subs.live(id)
	if !ok {
		return s.subscriptionNotFound(id)
	}
	sub.reauthorize = false
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) patchSubscription(w http.ResponseWriter, g *greq, id string) *gerr {
	body, e := readBody(g.r, 1<<20)
	if e != nil {
		return e
	}
	var in map[string]json.RawMessage
	if err := json.Unmarshal(body, &in); err != nil || in == nil {
		return errPayload()
	}
	var exp time.Time
	var target string
	for k, v := range in {
		switch strings.ToLower(k) {
		case "expirationdatetime":
			var ts string
			if err := json.Unmarshal(v, &ts); err != nil {
				return errSubscription("Invalid value for property 'expirationDateTime'.")
			}
			if exp, e = checkExpiration(ts, time.Now()); e != nil {
				return e
			}
		case "notificationurl":
			if err := json.Unmarshal(v, &target); err != nil {
				return errSubscription("Invalid value for property 'notificationUrl'.")
			}
			if u, err := url.Parse(target); err != nil || u.Host == "" || !strings.EqualFold(u.Scheme, "https") {
				return errSubscription("Subscription validation request failed. The notificationUrl must be an https URL.")
			}
		case "@odata.type":
		default:
			return errSubscription("Only expirationDateTime and notificationUrl can be updated; '" + k + "' cannot.")
		}
	}
	if exp.IsZero() && target == "" {
		return errSubscription("Subscription must contain either the 'expirationDateTime' or 'notificationUrl' property and its value.")
	}
	s.subs.mu.Lock()
	_, ok := s.subs.live(id)
	s.subs.mu.Unlock()
	if !ok {
		return s.subscriptionNotFound(id)
	}
	if target != "" {
		// A new notificationUrl is validated like a new subscription's.
		if e := s.subs.validate(g.r.Context(), target); e != nil {
			return e
		}
	}
	s.subs.mu.Lock()
	defer s.subs.mu.Unlock()
	sub, ok := s.subs.live(id)
	if !ok {
		return s.subscriptionNotFound(id)
	}
	if !exp.IsZero() {
		sub.Expiration = exp
		sub.reauthorize = false // a renewal reauthorizes too
	}
	if target != "" {
		sub.NotificationURL = target
	}
	writeJSON(w, 200, s.subscriptionJSON(g, sub))
	return nil
}

func (s *Server) deleteSubscription(w http.ResponseWriter, g *greq, id string) *gerr {
	s.subs.mu.Lock()
	_, ok := s.subs.live(id)
	delete(s.subs.byID, id)
	s.subs.mu.Unlock()
	if !ok {
		return s.subscriptionNotFound(id)
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
