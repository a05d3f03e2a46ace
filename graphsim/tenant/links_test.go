package tenant

import (
	"bytes"
	"errors"
	"testing"
	"time"
)

// The sample tenant's anonymous links expire around the configured now: some
// expired in the last weeks and are still listed, others expire within the
// policy's 30 days; and a seed with a Now always gives the same tenant.
func TestGeneratedExpiriesAroundNow(t *testing.T) {
	cfg := Config{Seed: 11, Users: 60, FilesPerUser: 40, ShareRatio: 0.3, Now: testNow}
	ex := export(t, New(cfg))
	var expired, ahead int
	for _, ps := range ex.perms {
		for _, p := range ps {
			if p.ExpirationDateTime == nil {
				continue
			}
			at, err := time.Parse(time.RFC3339, *p.ExpirationDateTime)
			if err != nil {
				t.Fatal(err)
			}
			switch {
			case at.Before(testNow.AddDate(0, 0, -41)) || at.After(testNow.AddDate(0, 0, DefaultAnyoneLinkMaxDays)):
				t.Errorf("link %s expires %s, outside the 40 days before and the policy's days after %s", p.ID, at, testNow)
			case at.Before(testNow):
				expired++
			default:
				ahead++
			}
		}
	}
	if expired < 5 || ahead < 5 {
		t.Errorf("%d expired and %d future expiries; want both kinds in the sample tenant", expired, ahead)
	}
	var a, b, c bytes.Buffer
	for buf, now := range map[*bytes.Buffer]time.Time{&a: testNow, &b: testNow, &c: testNow.Add(time.Hour)} {
		cfg.Now = now
		if err := New(cfg).Export(buf); err != nil {
			t.Fatal(err)
		}
	}
	if !bytes.Equal(a.Bytes(), b.Bytes()) || bytes.Equal(a.Bytes(), c.Bytes()) {
		t.Error("the tenant does not follow its seed and Now")
	}
}

func TestLinkExpiryPolicy(t *testing.T) {
	tn := New(Config{Seed: 4, Users: 40, FilesPerUser: 60, ShareRatio: 0.3, Now: testNow})
	var anon ExportPermission
	for _, ps := range export(t, tn).perms {
		for _, p := range ps {
			if p.Link != nil && p.Link.Scope == "anonymous" {
				anon = p
			}
		}
	}
	update := func(at time.Time) (Permission, error) {
		return tn.UpdatePermission(anon.DriveID, anon.ItemID, anon.ID, PermissionPatch{ExpirationDateTime: &at})
	}
	before := time.Now().Truncate(time.Second)
	got, err := update(before.AddDate(1, 0, 0))
	after := time.Now()
	if err != nil {
		t.Fatal(err)
	}
	if lo, hi := before.AddDate(0, 0, 30), after.AddDate(0, 0, 30); got.ExpirationDateTime.Before(lo) || got.ExpirationDateTime.After(hi) {
		t.Errorf("a year ahead became %s, want the policy's 30 days (%s..%s)", got.ExpirationDateTime, lo, hi)
	}
	week := before.AddDate(0, 0, 7)
	if got, err = update(week); err != nil || !got.ExpirationDateTime.Equal(week) {
		t.Errorf("a week ahead: %v %v, want it kept", got.ExpirationDateTime, err)
	}
	if _, err = update(time.Time{}); !errors.Is(err, ErrInvalid) {
		t.Errorf("clearing under the policy: %v, want refused", err)
	}
	if ps, _ := tn.Permissions(anon.DriveID, anon.ItemID); !ps[indexOf(ps, anon.ID)].ExpirationDateTime.Equal(week) {
		t.Error("a refused clear changed the link")
	}
	// A new anonymous link gets an expiry within the policy.
	r, err := tn.Apply(Change{Op: "share", DriveID: anon.DriveID, ItemID: anon.ItemID, Scope: "anonymous"})
	if err != nil {
		t.Fatal(err)
	}
	ps, _ := tn.Permissions(anon.DriveID, anon.ItemID)
	if e := ps[indexOf(ps, r.PermissionID)].ExpirationDateTime; e.IsZero() || e.After(time.Now().AddDate(0, 0, 30)) {
		t.Errorf("a new anonymous link expires %v, want within 30 days", e)
	}
	tn.SetLinkSettings(LinkSettings{Policy: LinkPolicy{Off: true}})
	far := before.AddDate(2, 0, 0)
	if got, err = update(far); err != nil || !got.ExpirationDateTime.Equal(far) {
		t.Errorf("policy off, two years ahead: %v %v", got.ExpirationDateTime, err)
	}
	if got, err = update(time.Time{}); err != nil || !got.ExpirationDateTime.IsZero() {
		t.Errorf("policy off, clearing: %v %v", got.ExpirationDateTime, err)
	}
}

func indexOf(ps []Permission, id string) int {
	for i, p := range ps {
		if p.ID == id {
			return i
		}
	}
	return -1
}
