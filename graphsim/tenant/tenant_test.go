package tenant

import (
	"bytes"
	"encoding/base64"
	"regexp"
	"slices"
	"strings"
	"testing"
)

var (
	reGUID    = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
	reDriveID = regexp.MustCompile(`^b![A-Za-z0-9_-]{64}$`)
	reItemID  = regexp.MustCompile(`^01[A-Z2-7]{32}$`)
)

func TestGenerationIsDeterministic(t *testing.T) {
	var a, b, c bytes.Buffer
	if err := small(7).Export(&a); err != nil {
		t.Fatal(err)
	}
	if err := small(7).Export(&b); err != nil {
		t.Fatal(err)
	}
	if err := small(8).Export(&c); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a.Bytes(), b.Bytes()) {
		t.Error("two tenants from seed 7 differ")
	}
	if bytes.Equal(a.Bytes(), c.Bytes()) {
		t.Error("seeds 7 and 8 give the same tenant")
	}
}

func TestDirectory(t *testing.T) {
	tn := New(Config{Seed: 3, Users: 1000, FilesPerUser: 2})
	ex := export(t, tn)
	if len(ex.users) != 1000 || tn.UserCount() != 1000 {
		t.Fatalf("users = %d, want 1000", len(ex.users))
	}
	byID := map[string]ExportUser{}
	for _, u := range ex.users {
		byID[u.ID] = u
	}
	var guests, disabled, unlicensed, managed int
	consumed := map[string]int{}
	for _, u := range ex.users {
		if !reGUID.MatchString(u.ID) {
			t.Fatalf("user id %q is not a GUID", u.ID)
		}
		got, ok := tn.User(strings.ToUpper(u.UserPrincipalName))
		if !ok || got.ID != u.ID {
			t.Fatalf("lookup by UPN %s failed", u.UserPrincipalName)
		}
		if _, ok := tn.User(u.ID); !ok {
			t.Fatalf("lookup by id %s failed", u.ID)
		}
		_, hasDrive := tn.DriveOfUser(u.ID)
		if hasDrive != u.HasDrive {
			t.Fatalf("user %s hasDrive %v but DriveOfUser says %v", u.ID, u.HasDrive, hasDrive)
		}
		for _, l := range u.AssignedLicenses {
			consumed[l.SkuID]++
		}
		switch {
		case u.UserType == "Guest":
			guests++
			if !strings.Contains(u.UserPrincipalName, "#EXT#@"+tn.Config().Domain) || strings.HasSuffix(u.Mail, tn.Config().Domain) || u.HasDrive {
				t.Errorf("guest %+v does not look like a guest", u)
			}
		case !u.AccountEnabled:
			disabled++
		case len(u.AssignedLicenses) == 0:
			unlicensed++
			if u.HasDrive {
				t.Errorf("unlicensed %s has a drive", u.UserPrincipalName)
			}
		}
		// The manager chain ends at the top without a cycle.
		seen := map[string]bool{}
		for m := u.ManagerID; m != ""; m = byID[m].ManagerID {
			if _, ok := byID[m]; !ok || seen[m] {
				t.Fatalf("user %s has a broken manager chain at %s", u.ID, m)
			}
			seen[m] = true
		}
		if u.ManagerID != "" {
			managed++
		}
	}
	within := func(name string, n, lo, hi int) {
		if n < lo || n > hi {
			t.Errorf("%s = %d, want %d..%d", name, n, lo, hi)
		}
	}
	within("guests", guests, 50, 110)
	within("disabled", disabled, 20, 60)
	within("unlicensed", unlicensed, 25, 75)
	within("users with a manager", managed, 800, 999)
	for _, s := range tn.Skus() {
		if s.ConsumedUnits != consumed[s.SkuID] || s.PrepaidEnabled < s.ConsumedUnits {
			t.Errorf("sku %s: consumed %d, assigned %d, prepaid %d", s.SkuPartNumber, s.ConsumedUnits, consumed[s.SkuID], s.PrepaidEnabled)
		}
	}
	if len(tn.UsersPage(990, 100)) != 10 || tn.UsersPage(1000, 10) != nil {
		t.Error("UsersPage does not stop at the end")
	}
}

func TestDrivesItemsAndQuota(t *testing.T) {
	tn := New(Config{Seed: 5, Users: 400, FilesPerUser: 30, ShareRatio: 0.1})
	now := tn.Config().Now
	latest, earliest := stamp(now), stamp(now.AddDate(-3, 0, -1))
	ex := export(t, tn)
	states := map[string]int{}
	used := map[string]int64{}
	for _, it := range ex.items {
		if !reItemID.MatchString(it.ID) {
			t.Fatalf("item id %q", it.ID)
		}
		if !it.Folder {
			used[it.DriveID] += it.Size
			if it.MimeType == "" || !strings.Contains(it.Name, ".") {
				t.Errorf("file %q has mime type %q", it.Name, it.MimeType)
			}
		}
		if it.Root != (it.Path == "/") || it.Root != (it.ParentID == "") {
			t.Errorf("item %+v: root, path and parent disagree", it)
		}
		if !it.Root {
			p := ex.items[it.ParentID]
			want := strings.TrimSuffix(p.Path, "/") + "/" + it.Name
			if !p.Folder || it.Path != want {
				t.Errorf("item %s path %q, parent path %q", it.ID, it.Path, p.Path)
			}
		}
		if it.CreatedDateTime > it.LastModifiedDateTime || it.LastModifiedDateTime > latest || it.CreatedDateTime < earliest {
			t.Errorf("item %s times %s..%s", it.ID, it.CreatedDateTime, it.LastModifiedDateTime)
		}
	}
	for _, d := range ex.drives {
		if !reDriveID.MatchString(d.ID) {
			t.Fatalf("drive id %q", d.ID)
		}
		q := d.Quota
		if q.Total != 1<<40 || q.Used != used[d.ID] || q.Remaining != max(q.Total-q.Used, 0) || q.State != quotaState(q.Total, q.Used) {
			t.Errorf("drive %s quota %+v, files total %d", d.ID, q, used[d.ID])
		}
		states[q.State]++
		got, ok := tn.Drive(d.ID)
		if !ok || got.RootID != d.RootID {
			t.Fatalf("Drive(%s) = %+v", d.ID, got)
		}
		root, ok := tn.Item(d.ID, "root")
		if !ok || root.ID != d.RootID || !root.Root {
			t.Fatalf("root alias of %s: %+v", d.ID, root)
		}
		if !strings.HasPrefix(d.WebURL, "https://"+strings.Split(tn.Config().Domain, ".")[0]+"-my.sharepoint.com/personal/") {
			t.Errorf("drive webUrl %s", d.WebURL)
		}
	}
	for _, s := range []string{"normal", "nearing", "critical", "exceeded"} {
		if states[s] == 0 {
			t.Errorf("no drive in quota state %s (%v)", s, states)
		}
	}
	// Items of one drive are not found through another.
	if len(ex.drives) > 1 {
		if _, ok := tn.Item(ex.drives[1].ID, ex.drives[0].RootID); ok {
			t.Error("root of drive 0 found in drive 1")
		}
	}
	for _, id := range []string{"", "01AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "nope", ex.drives[0].RootID[:33] + "A"} {
		if _, ok := tn.Item(ex.drives[0].ID, id); ok && id != ex.drives[0].RootID {
			t.Errorf("made-up item id %q found", id)
		}
	}
	if _, ok := tn.Drive("b!nope"); ok {
		t.Error("made-up drive found")
	}
}

func TestSharingMix(t *testing.T) {
	tn := New(Config{Seed: 11, Users: 60, FilesPerUser: 60, ShareRatio: 0.15})
	ex := export(t, tn)
	s := tn.Summary()
	if s.Users != 60 || s.Drives != len(ex.drives) || s.Items != len(ex.items)-len(ex.drives) {
		t.Fatalf("summary %+v vs export %d users %d drives %d items", s, len(ex.users), len(ex.drives), len(ex.items))
	}
	ratio := float64(s.SharedItems) / float64(s.Items)
	if ratio < 0.12 || ratio > 0.2 {
		t.Errorf("shared items ratio %.3f, want about 0.15", ratio)
	}
	sharing := 0
	for id, ps := range ex.perms {
		for _, p := range ps {
			if isSharingExport(p) && !ex.items[id].Root {
				sharing++
			}
		}
	}
	if s.Permissions != sharing {
		t.Errorf("summary permissions %d, exported sharing permissions of items %d", s.Permissions, sharing)
	}
	var anonEdit, expiring, password, peopleGuest, directGuest, group, blocks, limited, existing, everyone, apps int
	for _, ps := range ex.perms {
		for _, p := range ps {
			switch {
			case p.ID == "00000000-0000-0000-0000-000000000000":
				existing++
				if p.Link == nil || p.Link.Scope != "existingAccess" || p.Roles[0] != "read" {
					t.Errorf("existingAccess link %+v", p)
				}
				continue
			case p.Link != nil:
				if !reGUID.MatchString(p.ID) {
					t.Fatalf("link permission id %q is not a GUID", p.ID)
				}
			case !isClaimsID(p.ID):
				t.Fatalf("grant permission id %q is not a claims login in base64", p.ID)
			}
			switch {
			case p.Roles[0] == "sp.limited access":
				limited++
			case p.EveryoneExceptExternal:
				everyone++
			case p.GrantedToApplication != nil:
				apps++
			}
			if p.Link != nil {
				if !regexp.MustCompile(`^https://[a-z]+-my\.sharepoint\.com/:[a-z]:/g/personal/[a-z0-9_]+/E`).MatchString(p.Link.WebURL) {
					t.Errorf("link url %s", p.Link.WebURL)
				}
				wantRole := map[string]string{"edit": "write"}[p.Link.Type]
				if wantRole == "" {
					wantRole = "read"
				}
				if p.Roles[0] != wantRole {
					t.Errorf("link %s has roles %v", p.Link.Type, p.Roles)
				}
			}
			switch {
			case p.Link != nil && p.Link.Scope == "anonymous":
				if p.Link.Type == "edit" {
					anonEdit++
				}
				if p.ExpirationDateTime != nil {
					expiring++
				}
				if p.PasswordSet {
					password++
				}
				if p.HasPassword {
					t.Errorf("link %s reports a password on a business drive", p.ID)
				}
			case p.Link != nil && p.Link.Scope == "users" && p.Guest:
				peopleGuest++
				if p.Invitation == nil || !p.Invitation.SignInRequired || len(p.GrantedToIdentities) != 1 {
					t.Errorf("guest people link %+v", p)
				}
			case p.Link == nil && p.GrantedToUser != nil && p.Guest:
				directGuest++
			case p.GrantedToGroup != nil:
				group++
			}
			if p.Link != nil && p.Link.PreventsDownload {
				blocks++
			}
		}
	}
	for name, n := range map[string]int{"anonymous edit": anonEdit, "expiring": expiring, "password": password,
		"people link to guest": peopleGuest, "direct guest grant": directGuest, "group grant": group, "blocks download": blocks,
		"limited access": limited, "existingAccess link": existing, "Everyone except external users": everyone, "application": apps} {
		if n == 0 {
			t.Errorf("no %s permission", name)
		}
	}
	for _, k := range []string{"anonymous", "organization", "users", "direct"} {
		if s.PermissionsByScope[k] == 0 {
			t.Errorf("no permission of scope %s", k)
		}
	}
	// Files that inherit list what their shared folder lists.
	inheritedFiles := 0
	for id, it := range ex.items {
		if it.Folder || it.Root || len(ex.perms[id]) > 0 || len(ex.perms[it.ParentID]) == 0 || ex.items[it.ParentID].Root {
			continue
		}
		ps, err := tn.Permissions(it.DriveID, id)
		if err != nil {
			t.Fatal(err)
		}
		var got, want []string
		for _, p := range ps {
			got = append(got, p.ID)
		}
		for _, p := range ex.perms[it.ParentID] {
			want = append(want, p.ID)
		}
		if !slices.Equal(got, want) {
			t.Fatalf("file %s inside a shared folder lists %v, the folder has %v", it.Path, got, want)
		}
		inheritedFiles++
	}
	if inheritedFiles == 0 {
		t.Error("no file inherits from a shared folder")
	}
}

// isClaimsID reports a permission id that is a SharePoint claims login in
// base64 (users, groups, Everyone except external users, applications).
func isClaimsID(id string) bool {
	b, err := base64.RawURLEncoding.DecodeString(id)
	if err != nil {
		return false
	}
	for _, prefix := range []string{"i:0#.f|membership|", "c:0o.c|federateddirectoryclaimprovider|", "c:0-.f|rolemanager|spo-grid-all-users/", "i:0i.t|ms.sp.ext|"} {
		if strings.HasPrefix(string(b), prefix) {
			return true
		}
	}
	return false
}

// isSharingExport reports an exported permission that is sharing: not the
// owner's grant, not limited access, not an existingAccess link.
func isSharingExport(p ExportPermission) bool {
	return p.Roles[0] != "owner" && p.Roles[0] != "sp.limited access" && (p.Link == nil || p.Link.Scope != "existingAccess")
}

func TestNoSharingAtRatioZero(t *testing.T) {
	tn := New(Config{Seed: 1, Users: 20, FilesPerUser: 20})
	if s := tn.Summary(); s.Permissions != 0 || s.SharedItems != 0 {
		t.Errorf("summary at share ratio 0: %+v", s)
	}
}

func TestIDsRoundTrip(t *testing.T) {
	c := idCodec{key: 42}
	for _, x := range [][2]int32{{0, 0}, {1, 2}, {999, 1_000_000}, {1 << 30, 1<<31 - 1}} {
		d, i, ok := c.parseItemID(c.itemID(x[0], x[1]))
		if !ok || d != x[0] || i != x[1] {
			t.Errorf("item id %v round trip: %d %d %v", x, d, i, ok)
		}
		other := idCodec{key: 43}
		if _, _, ok := other.parseItemID(c.itemID(x[0], x[1])); ok {
			t.Errorf("item id %v accepted by another tenant", x)
		}
		id := []byte(c.itemID(x[0], x[1]))
		id[10] ^= 1
		if _, _, ok := c.parseItemID(string(id)); ok {
			t.Errorf("mangled item id %s accepted", id)
		}
	}
}

func TestTinyAndExtremeConfigs(t *testing.T) {
	for _, cfg := range []Config{
		{},
		{Users: 1},
		{Users: 1, FilesPerUser: 20, ShareRatio: 1},
		{Users: 3, FilesPerUser: 0, ShareRatio: 0.5},
		{Users: -5, FilesPerUser: -1, ShareRatio: 7},
	} {
		tn := New(cfg)
		ex := export(t, tn)
		if len(ex.users) != max(cfg.Users, 0) {
			t.Errorf("%+v: %d users", cfg, len(ex.users))
		}
		tn.ApplyRandomChanges(1, 50)
		for _, d := range tn.Drives() {
			items, _ := enumerate(t, tn, d.ID, "", DeltaOptions{})
			if len(items) != len(driveItems(export(t, tn), d.ID)) {
				t.Errorf("%+v: delta and export disagree", cfg)
			}
		}
	}
}
