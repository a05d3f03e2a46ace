package server_test

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/overshare/overshare/events"
	"github.com/overshare/overshare/internal/testdb"
	"github.com/overshare/overshare/models"
	"github.com/overshare/overshare/store"
)

// anonymousOnly returns a seeded item whose only sharing is one anonymous link without expiry.
func (e *env) anonymousOnly() (itemID, permID string) {
	e.t.Helper()
	for _, it := range e.data.Items {
		var sharing []models.Permission
		for _, p := range e.data.Perms[it.ID] {
			if p.IsSharing() {
				sharing = append(sharing, p)
			}
		}
		if len(sharing) == 1 && sharing[0].Scope() == models.LinkScopeAnonymous && sharing[0].ExpiresAt == nil && !sharing[0].GrantedToExternal {
			return it.ID, sharing[0].ID
		}
	}
	e.t.Fatal("the seed has no item shared by one anonymous link alone")
	return "", ""
}

type historyEvent struct {
	Kind, Source, ItemName string
	ActorName              *string
	PermissionGraphID      *string
	After                  []struct{ Scope string }
	ExposureAfter          []string
}

type itemHistory struct {
	Node struct {
		History  struct{ Edges []struct{ Node historyEvent } }
		Exposure struct {
			ExposedNow       bool
			FirstExposedAt   *time.Time
			FixedAt          *time.Time
			TimeToFixSeconds *int64
			Intervals        []struct {
				Level         string
				EndedAt       *time.Time
				FromFirstSeen bool
			}
		}
	}
}

const historyQuery = `query($id: ID!) { node(id: $id) { ... on DriveItem {
  history(first: 10) { edges { node { kind source itemName actorName permissionGraphId after { scope } exposureAfter } } }
  exposure { exposedNow firstExposedAt fixedAt timeToFixSeconds intervals { level endedAt fromFirstSeen } } } } }`

const sharingChangedQuery = `subscription($id: ID!) { sharingChanged(integrationId: $id) { kind source itemName actorName permissionGraphId after { scope } exposureAfter } }`

// An admin reads an item's history and exposure, and watches its changes arrive live over the
// websocket as an admin makes them; a viewer may do neither.
func TestSharingHistoryAPI(t *testing.T) {
	testdb.Each(t, func(t *testing.T, st *store.Store) {
		e := newEnv(t, st, nil)
		// As cmd's serve wires it: each commit that recorded history is published on the bus.
		st.OnSharingChange(func(id string) {
			_ = e.bus.PublishSharing(context.Background(), events.SharingChange{IntegrationID: id, At: time.Now()})
		})
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		admin := e.idp.Login(t, "admin").AccessToken
		itemID, permID := e.anonymousOnly()
		vars := map[string]any{"id": globalID("DriveItem", integrationID, itemID)}

		var h itemHistory
		e.must(admin, historyQuery, vars, &h)
		if evs := h.Node.History.Edges; len(evs) != 1 || evs[0].Node.Kind != "FIRST_SEEN" || evs[0].Node.Source != "MICROSOFT_365" ||
			len(evs[0].Node.After) != 1 || evs[0].Node.After[0].Scope != "ANONYMOUS" || evs[0].Node.PermissionGraphID != nil ||
			!slices.Equal(evs[0].Node.ExposureAfter, []string{"ANONYMOUS", "BEYOND_ORGANIZATION"}) {
			t.Fatalf("history after the seed's sync: %+v", evs)
		}
		if x := h.Node.Exposure; !x.ExposedNow || x.FirstExposedAt == nil || x.FixedAt != nil || len(x.Intervals) != 2 || !x.Intervals[0].FromFirstSeen {
			t.Fatalf("exposure after the seed's sync: %+v", x)
		}

		c := initWS(t, ctx, e, admin)
		send(t, ctx, c, map[string]any{"type": "subscribe", "id": "h", "payload": map[string]any{
			"query": sharingChangedQuery, "variables": map[string]any{"id": globalID("Integration", integrationID)}}})
		actor := store.Actor{Subject: "admin-sub", Name: "Adele Admin"}
		got := make(chan historyEvent, 10)
		go func() {
			for {
				m, err := next(ctx, c)
				if err != nil || m.Type != "next" {
					close(got)
					return
				}
				var p struct {
					Data struct{ SharingChanged historyEvent }
				}
				_ = json.Unmarshal(m.Payload, &p)
				got <- p.Data.SharingChanged
			}
		}()
		// The subscription registers asynchronously: change the link's expiry until a change
		// arrives.
		var first historyEvent
		for i := 1; first.Kind == ""; i++ {
			at := time.Date(2040, 1, i, 0, 0, 0, 0, time.UTC)
			if err := st.SetOwnPermissionExpiry(ctx, actor, integrationID, itemID, permID, &at); err != nil {
				t.Fatal(err)
			}
			select {
			case first = <-got:
			case <-time.After(100 * time.Millisecond):
			case <-ctx.Done():
				t.Fatal("no sharing change arrived")
			}
		}
		if first.Kind != "CHANGED" || first.Source != "OVERSHARE" || first.ActorName == nil || *first.ActorName != "Adele Admin" ||
			first.PermissionGraphID == nil || *first.PermissionGraphID != permID {
			t.Fatalf("the live change: %+v", first)
		}
		if _, err := st.RemoveOwnPermission(ctx, actor, integrationID, itemID, permID); err != nil {
			t.Fatal(err)
		}
		for ev := range got {
			if ev.Kind == "CHANGED" {
				continue // the expiry changes made before the first arrived
			}
			if ev.Kind != "REMOVED" || ev.Source != "OVERSHARE" || len(ev.ExposureAfter) != 0 {
				t.Fatalf("the live removal: %+v", ev)
			}
			break
		}

		e.must(admin, historyQuery, vars, &h)
		evs := h.Node.History.Edges
		if len(evs) < 3 || evs[0].Node.Kind != "REMOVED" || evs[len(evs)-1].Node.Kind != "FIRST_SEEN" {
			t.Fatalf("history after the removal, newest first: %+v", evs)
		}
		if x := h.Node.Exposure; x.ExposedNow || x.FixedAt == nil || x.TimeToFixSeconds == nil || *x.TimeToFixSeconds < 0 {
			t.Fatalf("exposure after the removal: %+v", x)
		}

		var o struct {
			Overview struct {
				ExposureTrend   []struct{ Anonymous int }
				MedianTimeToFix struct{ Fixed int }
			}
		}
		viewer := e.idp.Login(t, "viewer").AccessToken
		e.must(viewer, `query($id: ID!) { overview(integrationId: $id) { exposureTrend(days: 2) { anonymous } medianTimeToFix { fixed } } }`,
			map[string]any{"id": integrationID}, &o)
		// The seed's sync was today: the history, and so the trend, starts today.
		if len(o.Overview.ExposureTrend) != 1 || o.Overview.ExposureTrend[0].Anonymous < 1 || o.Overview.MedianTimeToFix.Fixed < 1 {
			t.Fatalf("overview's history for a viewer: %+v", o.Overview)
		}
		r := e.do(admin, `query($id: ID!) { overview(integrationId: $id) { exposureTrend(days: 4000) { anonymous } } }`, map[string]any{"id": integrationID})
		if !slices.Equal(r.codes(), []string{"BAD_USER_INPUT"}) {
			t.Fatalf("a trend of 4000 days: %+v", r.Errors)
		}

		vc := initWS(t, ctx, e, viewer)
		send(t, ctx, vc, map[string]any{"type": "subscribe", "id": "v", "payload": map[string]any{
			"query": sharingChangedQuery, "variables": map[string]any{"id": globalID("Integration", integrationID)}}})
		m, err := next(ctx, vc)
		// gqlgen answers a refused subscription with one "next" message holding the error.
		if err != nil || !strings.Contains(string(m.Payload), "FORBIDDEN") || strings.Contains(string(m.Payload), "itemName") {
			t.Fatalf("a viewer subscribing to sharing changes: %+v %v", m, err)
		}
	})
}
