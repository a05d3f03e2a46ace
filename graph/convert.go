package graph

import (
	"context"
	"errors"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/overshare/overshare/auth"
	"github.com/overshare/overshare/graph/model"
	"github.com/overshare/overshare/models"
	"github.com/overshare/overshare/sharing/change"
	"github.com/overshare/overshare/store"
)

// Conversions between the stored rows and the API's shapes, and argument checks.

// scopeRank orders scopes from the widest audience.
var scopeRank = map[model.SharingScope]int{
	model.SharingScopeAnonymous:    3,
	model.SharingScopeOrganization: 2,
	model.SharingScopeUsers:        1,
}

// The stored rows convert to graph/model's types over them (see graph/model/nodes.go) for free:
// these take a store call's results as they come.

func apiPermission(v *models.Permission, err error) (*model.Permission, error) {
	return (*model.Permission)(v), err
}

func apiIntegration(v *models.Integration, err error) (*model.Integration, error) {
	return (*model.Integration)(v), err
}

func apiSyncRun(v *models.SyncRun, err error) (*model.SyncRun, error) {
	return (*model.SyncRun)(v), err
}

func apiAuditEvent(v *models.AuditEvent, err error) (*model.AuditEvent, error) {
	return (*model.AuditEvent)(v), err
}

func apiSharingEvent(v *models.SharingEvent, err error) (*model.SharingEvent, error) {
	return (*model.SharingEvent)(v), err
}

func apiPermissions(ps []*models.Permission) []*model.Permission {
	out := make([]*model.Permission, len(ps))
	for i, p := range ps {
		out[i] = (*model.Permission)(p)
	}
	return out
}

// apiMap converts the values of a batch load.
func apiMap[K comparable, S, D any](m map[K]S, conv func(S) D) map[K]D {
	out := make(map[K]D, len(m))
	for k, v := range m {
		out[k] = conv(v)
	}
	return out
}

// apiLoad converts the values a batch load function returns.
func apiLoad[K comparable, S, D any](fetch func(context.Context, []K) (map[K]S, error), conv func(S) D) func(context.Context, []K) (map[K]D, error) {
	return func(ctx context.Context, keys []K) (map[K]D, error) {
		m, err := fetch(ctx, keys)
		if err != nil {
			return nil, err
		}
		return apiMap(m, conv), nil
	}
}

func toItem(v *models.DriveItem) *model.DriveItem { return (*model.DriveItem)(v) }
func toUser(v *models.User) *model.User           { return (*model.User)(v) }
func toDrive(v *models.Drive) *model.Drive        { return (*model.Drive)(v) }

func principal(ctx context.Context) (auth.Principal, error) {
	p, err := auth.PrincipalFrom(ctx)
	if err != nil {
		return auth.Principal{}, err
	}
	return *p, nil
}

func isNotFound(err error) bool { return errors.Is(err, store.ErrNotFound) }

// integration loads an integration by the ID argument, answering NOT_FOUND when there is none.
func (r *Resolver) integration(ctx context.Context, idArg string) (*model.Integration, error) {
	id, err := integrationIDArg(idArg)
	if err != nil {
		return nil, err
	}
	in, err := r.loaders(ctx).integrations.load(ctx, id)
	if err != nil {
		return nil, err
	}
	if in == nil {
		return nil, notFound("no integration %q", model.Clip(idArg))
	}
	return in, nil
}

func (r *Resolver) itemFilter(integrationID string, f *model.DriveItemFilter) (store.ItemFilter, error) {
	var out store.ItemFilter
	if f == nil {
		return out, nil
	}
	for _, s := range f.SharedScope {
		out.Scopes = append(out.Scopes, strings.ToLower(string(s)))
	}
	out.External, out.HasExpiry, out.HasPassword = f.External, f.HasExpiry, f.HasPassword
	out.LinkTypes = f.LinkType
	if f.SharedOnly != nil {
		out.SharedOnly = *f.SharedOnly
	}
	if f.Expired != nil {
		out.Expired = *f.Expired
	}
	var err error
	if f.OwnerID != nil {
		if out.OwnerUserID, err = keyIn(*f.OwnerID, model.TypeUser, integrationID); err != nil {
			return out, err
		}
	}
	if f.DriveID != nil {
		if out.DriveID, err = keyIn(*f.DriveID, model.TypeDrive, integrationID); err != nil {
			return out, err
		}
	}
	if out.Search, err = searchText(f.Search); err != nil {
		return out, err
	}
	out.ModifiedAfter, out.ModifiedBefore = f.ModifiedAfter, f.ModifiedBefore
	return out, nil
}

func itemOrder(o *model.DriveItemOrder) store.ItemOrder {
	if o == nil {
		return store.DefaultItemOrder
	}
	out := store.ItemOrder{Desc: o.Direction == model.OrderDirectionDesc}
	switch o.Field {
	case model.DriveItemOrderFieldName:
		out.Field = store.ItemOrderName
	case model.DriveItemOrderFieldSize:
		out.Field = store.ItemOrderSize
	default:
		out.Field = store.ItemOrderModified
	}
	return out
}

func pageRequest(first *int, after *string) (store.PageRequest, error) {
	n, err := pageFirst(first)
	if err != nil {
		return store.PageRequest{}, err
	}
	req := store.PageRequest{First: n}
	if after != nil {
		req.After = *after
	}
	return req, nil
}

func pageInfo[T any](p store.Page[T]) *model.PageInfo {
	return &model.PageInfo{HasNextPage: p.HasNext, EndCursor: model.OrNull(p.EndCursor())}
}

// serviceError passes an error from a service through: coded errors keep their code and text,
// store.ErrNotFound answers NOT_FOUND, anything else is INTERNAL (see classify).
func serviceError(what string, err error) error {
	if explained(err) || errors.Is(err, store.ErrNotFound) || errors.Is(err, auth.ErrForbidden) {
		return err
	}
	return &wrapped{what: what, err: err}
}

// wrapped adds context for the log without changing how the error is answered.
type wrapped struct {
	what string
	err  error
}

func (w *wrapped) Error() string { return w.what + ": " + w.err.Error() }
func (w *wrapped) Unwrap() error { return w.err }

// bulkPreview is the answer to a bulk stop sharing before anything is removed: the selected
// items with the permissions that would go.
func bulkPreview(sel *store.StopSelection, dryRun bool) *model.StopSharingBulkResult {
	out := &model.StopSharingBulkResult{DryRun: dryRun, Items: len(sel.Items), Preview: make([]*model.BulkPreviewItem, len(sel.Items)),
		Removed: []*model.RemovedPermission{}, Failed: []*model.FailedPermission{}}
	for i := range sel.Items {
		it := &sel.Items[i]
		perms := sel.Matching[it.ID]
		prev := &model.BulkPreviewItem{Item: (*model.DriveItem)(it), Permissions: make([]*model.Permission, len(perms))}
		for j := range perms {
			prev.Permissions[j] = (*model.Permission)(&perms[j])
		}
		out.Permissions += len(perms)
		out.Preview[i] = prev
	}
	return out
}

// permissionResult splits the outcomes of stopping sharing into the permissions that are gone
// and those that are not, in the order of the outcomes.
func permissionResult(integrationID string, outcomes []change.Outcome) (removed []*model.RemovedPermission, failed []*model.FailedPermission) {
	removed = []*model.RemovedPermission{}
	failed = []*model.FailedPermission{}
	for _, o := range outcomes {
		id := model.EncodeID(model.TypePermission, integrationID, o.ItemID, o.PermissionID)
		if o.Failed() {
			failed = append(failed, &model.FailedPermission{PermissionID: id, Message: o.Message})
			continue
		}
		removed = append(removed, &model.RemovedPermission{
			ID: id, GraphID: o.PermissionID, AlreadyRemoved: o.AlreadyRemoved(), Confirmed: o.Confirmed, Message: o.Message,
		})
	}
	return removed, failed
}

func validText(field, v string, max int) (string, error) {
	v = strings.TrimSpace(v)
	switch {
	case v == "":
		return "", badInput("%s must not be empty", field)
	case len(v) > max:
		return "", badInput("%s is limited to %d characters", field, max)
	}
	return v, nil
}

func timePtrUTC(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}

// nilIfMissing turns "no such row" into a null node.
func nilIfMissing[T any](v *T, err error) (model.Node, error) {
	if isNotFound(err) || (err == nil && v == nil) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return v, nil
}

// credentialError answers a failed credential check: GRAPH_ERROR with the checker's words
// (which by contract name the problem and hold no secret), unless the checker gave a code.
// inputCredential reads the one credential of an integrate or updateIntegration input:
// exactly one of a client secret and a certificate PEM (required: whether none is allowed is
// the caller's). The PEM is limited to 64 KiB, far above a certificate chain and its key.
func inputCredential(secret, certificate *string, required bool) (*store.Credential, error) {
	hasSecret, hasCert := secret != nil && strings.TrimSpace(*secret) != "", certificate != nil && strings.TrimSpace(*certificate) != ""
	switch {
	case hasSecret && hasCert:
		return nil, badInput("give either clientSecret or certificate, not both")
	case hasSecret:
		return &store.Credential{Secret: *secret}, nil
	case hasCert:
		if len(*certificate) > 64<<10 {
			return nil, badInput("certificate is limited to 64 KiB")
		}
		return &store.Credential{Certificate: []byte(strings.TrimSpace(*certificate) + "\n")}, nil
	case secret != nil:
		return nil, badInput("clientSecret must not be empty")
	case certificate != nil:
		return nil, badInput("certificate must not be empty")
	case required:
		return nil, badInput("give a credential: clientSecret or certificate")
	}
	return nil, nil
}

func credentialError(err error) error {
	var c coded
	var ce *change.Error
	if (errors.As(err, &c) && publicCodes[c.ErrorCode()]) || (errors.As(err, &ce) && kindCodes[ce.Kind] != "") {
		return err
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	return &apiError{CodeGraphError, "Microsoft Graph did not accept the credentials: " + err.Error()}
}

// startFirstSync starts the first sync of a new integration. A failure to start is recorded on
// the integration (status ERROR, in words) rather than failing the mutation: the integration
// exists and its credentials work.
func (r *Resolver) startFirstSync(ctx context.Context, integrationID string) {
	if r.syncer == nil {
		return
	}
	if _, err := r.syncer.Start(ctx, integrationID, true); err != nil {
		r.log.ErrorContext(ctx, "start first sync", "integration", integrationID, "error", err)
		msg := "the first sync could not start"
		var c coded
		if errors.As(err, &c) {
			msg += ": " + c.Error()
		}
		if err := r.store.SetIntegrationStatus(ctx, integrationID, models.IntegrationError, msg); err != nil {
			r.log.ErrorContext(ctx, "record sync start failure", "integration", integrationID, "error", err)
		}
	}
}

// integrationIDArg accepts an Integration's global ID, or its plain id as printed by the command
// line (`overshare integrate`) and the demo, so that scripts can use either.
func integrationIDArg(id string) (string, error) {
	if typ, parts, err := model.DecodeAnyID(id); err == nil {
		if typ != model.TypeIntegration {
			return "", badInput("ID %q names a %s, not an Integration", model.Clip(id), typ)
		}
		return parts[0], nil
	}
	if id == "" || len(id) > 100 || strings.ContainsAny(id, " \t\r\n") {
		return "", badInput("%q is not an integration ID", model.Clip(id))
	}
	return id, nil
}

// keyIn decodes a global ID of type typ and checks it belongs to integrationID.
func keyIn(id, typ, integrationID string) (string, error) {
	parts, err := model.DecodeID(id, typ)
	if err != nil {
		return "", err
	}
	if parts[0] != integrationID {
		return "", badInput("%s %q belongs to another integration", typ, model.Clip(id))
	}
	return parts[1], nil
}

// maxSearch bounds a search text, which becomes a pattern the database matches every row with.
const maxSearch = 200

// searchText is a filter's search, trimmed, or an error over maxSearch characters.
func searchText(s *string) (string, error) {
	if s == nil {
		return "", nil
	}
	t := strings.TrimSpace(*s)
	if utf8.RuneCountInString(t) > maxSearch {
		return "", badInput("search is limited to %d characters", maxSearch)
	}
	return t, nil
}

// cancelRunningSync cancels the integration's running sync, if any, wherever it runs.
func (r *Resolver) cancelRunningSync(ctx context.Context, integrationID string) error {
	if r.syncer == nil {
		return nil
	}
	runs, err := r.store.RunningSyncRuns(ctx, []string{integrationID})
	if err != nil {
		return err
	}
	if run := runs[integrationID]; run != nil {
		if err := r.syncer.Cancel(ctx, run.ID); err != nil {
			return serviceError("cancel the running sync", err)
		}
	}
	return nil
}

// watch asks for the integration's change-notification upkeep (after pause and resume).
func (r *Resolver) watch(ctx context.Context, integrationID string) error {
	if r.syncer == nil {
		return nil
	}
	if err := r.syncer.Watch(ctx, integrationID); err != nil {
		return serviceError("update the change notifications", err)
	}
	return nil
}
