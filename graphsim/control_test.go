package graphsim_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"

	"github.com/overshare/overshare/graphsim"
	"github.com/overshare/overshare/graphsim/tenant"
)

func TestControlAPI(t *testing.T) {
	s := startSim(t, graphsim.Options{})

	t.Run("needs the client secret", func(t *testing.T) {
		for _, authz := range []string{"", "Bearer wrong", "Basic " + s.info.ClientSecret, "Bearer " + s.token(t)} {
			req, _ := http.NewRequest("GET", s.info.ControlURL+"/summary", nil)
			if authz != "" {
				req.Header.Set("Authorization", authz)
			}
			resp, body := s.send(t, req)
			mustGraphError(t, resp, body, 401)
		}
	})
	t.Run("summary matches the export", func(t *testing.T) {
		var sum tenant.Summary
		if st := s.control(t, "GET", "/summary", nil, &sum); st != 200 {
			t.Fatalf("summary: %d", st)
		}
		ex := s.export(t)
		if sum.Users != len(ex.users) || sum.Drives != len(ex.drives) || sum.Items != len(ex.items)-len(ex.drives) {
			t.Fatalf("summary %+v vs export users=%d drives=%d items=%d", sum, len(ex.users), len(ex.drives), len(ex.items))
		}
	})
	t.Run("changes", func(t *testing.T) {
		before := s.export(t)
		var out struct {
			Applied int `json:"applied"`
		}
		if st := s.control(t, "POST", "/changes", map[string]any{"seed": 3, "count": 25}, &out); st != 200 || out.Applied == 0 {
			t.Fatalf("random changes: %d applied=%d", st, out.Applied)
		}
		after := s.export(t)
		if len(before.items) == len(after.items) && len(before.perms) == len(after.perms) {
			same := true
			for i := range before.items {
				same = same && before.items[i] == after.items[i]
			}
			if same {
				t.Fatal("25 random changes changed nothing in the export")
			}
		}
		var res struct {
			Results []struct {
				ItemID string `json:"itemId"`
				Error  string `json:"error"`
			} `json:"results"`
		}
		ops := []tenant.Change{
			{Op: "create", DriveID: after.drives[0].ID, ParentID: after.drives[0].RootID, Name: "from-control.txt"},
			{Op: "rename", DriveID: after.drives[0].ID, ItemID: "nope", Name: "x"},
		}
		if st := s.control(t, "POST", "/changes", map[string]any{"ops": ops}, &res); st != 200 || len(res.Results) != 2 {
			t.Fatalf("ops: %d %+v", st, res)
		}
		if res.Results[0].ItemID == "" || res.Results[0].Error != "" || res.Results[1].Error == "" {
			t.Fatalf("ops results %+v: want the create to succeed and the rename of an unknown item to fail", res.Results)
		}
		for _, bad := range []any{map[string]any{}, map[string]any{"count": -1}} {
			if st := s.control(t, "POST", "/changes", bad, nil); st != 400 {
				t.Fatalf("POST /changes %v: %d, want 400", bad, st)
			}
		}
	})
	t.Run("stats and reset", func(t *testing.T) {
		s.control(t, "POST", "/stats/reset", nil, nil)
		s.graph(t, "GET", "/users?$top=1", nil)
		s.graph(t, "GET", "/nope", nil)
		var st graphsim.Stats
		s.control(t, "GET", "/stats", nil, &st)
		if st.Requests != 2 || st.ByEndpoint["GET /users"] != 1 || st.ByStatus["200"] != 1 || st.ByStatus["400"] != 1 {
			t.Fatalf("stats %+v", st)
		}
	})
	t.Run("faults input", func(t *testing.T) {
		for _, bad := range []any{map[string]any{"rate": 2}, map[string]any{"kinds": []string{"429"}}, map[string]any{"rate": 0.1, "kinds": []string{"fire"}}} {
			if st := s.control(t, "POST", "/faults", bad, nil); st != 400 {
				t.Fatalf("POST /faults %v: %d, want 400", bad, st)
			}
		}
		if st := s.control(t, "POST", "/faults", map[string]any{"rate": 0}, nil); st != 200 {
			t.Fatalf("faults off: %d", st)
		}
	})
	t.Run("unknown endpoint", func(t *testing.T) {
		if st := s.control(t, "GET", "/nope", nil, nil); st != 404 {
			t.Fatalf("GET /_sim/nope: %d", st)
		}
	})
}

// Application permissions in the token decide what Graph allows; an expired
// secret stops sign-in. Both through the production client construction.
func TestAppPermissionsAndExpiredSecret(t *testing.T) {
	s := startSim(t, graphsim.Options{})
	ctx := context.Background()
	ex := s.export(t)
	drive := ex.drives[0]

	setApp := func(body map[string]any) {
		if st := s.control(t, "POST", "/app", body, nil); st != 200 {
			t.Fatalf("POST /_sim/app: %d", st)
		}
	}
	t.Run("files only: no directory", func(t *testing.T) {
		setApp(map[string]any{"roles": []string{"Files.Read.All"}})
		client, _ := s.graphClient(t) // a new credential: a new token with the new roles
		_, err := client.Users().Get(ctx, nil)
		odataError(t, err, 403, "Authorization_RequestDenied")
		if _, err := client.Drives().ByDriveId(drive.ID).Get(ctx, nil); err != nil {
			t.Fatalf("Files.Read.All reads drives: %v", err)
		}
		// Without Sites.FullControl.All delta does not refuse: it leaves
		// the sharing out (field_test.go has the details).
		resp, err := client.Drives().ByDriveId(drive.ID).Items().ByDriveItemId("root").Delta().GetAsDeltaGetResponse(ctx, deltaConfig(0, allPrefer))
		if err != nil {
			t.Fatalf("delta without Sites.FullControl.All: %v", err)
		}
		for _, it := range resp.GetValue() {
			if it.GetShared() != nil {
				t.Fatalf("delta without Sites.FullControl.All shows a shared facet on %s", *it.GetId())
			}
		}
		// Stopping sharing needs write.
		p, ok := pickPerm(ex, func(p tenant.ExportPermission) bool { return p.Link != nil })
		if !ok {
			t.Fatal("no link")
		}
		err = client.Drives().ByDriveId(p.DriveID).Items().ByDriveItemId(p.ItemID).Permissions().ByPermissionId(p.ID).Delete(ctx, nil)
		odataError(t, err, 403, "accessDenied")
	})
	t.Run("directory only: no files", func(t *testing.T) {
		setApp(map[string]any{"roles": []string{"User.Read.All"}})
		client, _ := s.graphClient(t)
		if _, err := client.Users().Get(ctx, nil); err != nil {
			t.Fatalf("User.Read.All lists users: %v", err)
		}
		_, err := client.Drives().ByDriveId(drive.ID).Get(ctx, nil)
		odataError(t, err, 403, "accessDenied")
	})
	t.Run("expired secret", func(t *testing.T) {
		setApp(map[string]any{"roles": []string{"User.Read.All", "Files.ReadWrite.All", "Sites.FullControl.All"}, "secretExpired": true})
		defer setApp(map[string]any{"secretExpired": false})
		cred := s.credential(t, s.info.TenantID, s.info.ClientID, s.info.ClientSecret)
		_, err := cred.GetToken(ctx, policy.TokenRequestOptions{Scopes: graphScopes})
		if err == nil || !strings.Contains(err.Error(), "AADSTS7000222") {
			t.Fatalf("sign-in with an expired secret: %v", err)
		}
	})
}
