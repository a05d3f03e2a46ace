// Package syncer is the sync engine: it plans and runs full and incremental
// syncs of one integration (a Microsoft 365 tenant), checkpoints every
// drive's delta position, and reports progress.
//
// # One run
//
// (*Syncer).Run syncs one integration to completion and records it in a
// sync_runs row (progress persisted at most every ~2 s and at the end).
//
//  1. Users: /users is paged (999 a page). Each page is upserted; when the
//     listing completed, users it no longer returned are removed.
//  2. Drives: for the member users of each page (guests have no OneDrive in
//     the tenant) the drive is read with $batch (20 a batch). A 404 means the
//     user has no OneDrive (users.has_drive = false), not a failure. An
//     incremental run only looks up users whose drive was never looked up.
//  3. Items: every drive runs one delta round, Concurrency drives at a time.
//     Each page is handled as: read the permissions of the page's candidates
//     (below) with $batch FIRST (a page may wait for later pages of the same
//     drive so that batches are full), then commit in ONE transaction the page's
//     items (the last occurrence of a repeated id wins), its deletions (with
//     their permissions and, for folders, their descendants), the
//     candidates' permissions and the drive's checkpoint (the next link, or
//     on the last page the delta link plus, after a full enumeration, the
//     sweep of items the round did not return and the recompute of paths).
//     A process killed at any moment therefore resumes from the last
//     committed page: nothing is lost or written twice, and drives that
//     finished are not read again.
//
// Nothing of the tenant is written before Graph has answered the first
// calls: the first users page, its drives, the first delta page of the
// first drive and the permissions of that page's first candidates (a full
// batch when there are enough) are fetched before the first write. Wrong
// credentials, a missing application permission or an unreachable Graph so
// end the run with the integration in status ERROR, the classified message
// in last_error and no users, drives or items written.
//
// # Rounds
//
// A drive with a stored next link resumes that round, whatever `full` says:
// an interrupted full enumeration stays full and ends with its sweep (so a
// killed full sync is finished, not restarted, by the next run); only an
// interrupted incremental round is replaced by a full enumeration when
// `full` is true, since that covers it. Otherwise a drive never synced, or
// every drive when `full` is true, starts a full enumeration
// (store.StartFullRound bumps the drive's generation). Otherwise
// the round starts from the stored delta link. A 410 (msgraph.ResyncRequired)
// starts a full enumeration from the Location Graph gave, ending in
// mark-and-sweep. Drives whose round returned changes get their drive
// (quota) read again. A drive Graph no longer has (404 on delta: its owner
// left, or the OneDrive was deleted) is removed with its items.
//
// # Permissions: only for candidates
//
// Delta is asked for hierarchical sharing, so on a full enumeration the
// `shared` facet (empty or not) marks exactly the roots of permission
// hierarchies (and the drive root); on an incremental round
// @microsoft.graph.sharedChanged marks the items whose own sharing changed.
// Those are the candidates; an item that only inherits is never read.
//
// Inherited or own: a listed permission with inheritedFrom is inherited from
// that item. OneDrive for Business may omit inheritedFrom; when none of an
// item's permissions carries it, a permission is inherited if its id is
// listed on one of the item's ancestors (in the database or in the same
// page) — Graph keeps the ancestor's permission id on inherited entries — and
// inherited_from_id is the highest such ancestor (where it is set). The drive
// root's permissions are always its own.
//
// # Cost: the lower bound a sync is measured against
//
// For a full sync of a tenant with U users, M member users, drives d with
// I_d items and C_d candidates (items with a shared facet), P the delta
// page size (msgraph.Config.PageSize):
//
//	requests ≥ ceil(U/999)                 user pages
//	         + ceil(M/20)                  drive batches ($batch envelopes)
//	         + Σ_d max(1, ceil(I_d/P))     delta pages
//	         + ceil(ΣC_d/20)               permission batches
//
//	RU       = M·1 (GET drive) + Σ_d (2 + (pages_d − 1)) (delta: the first
//	           page has no token, 2 RU; next links carry one, 1 RU)
//	         + Σ_d C_d·5 (permissions)
//
// A drive's candidates fill whole $batch requests of their own (the engine
// holds a drive's pages, at most maxHeldItems items, until they do); what
// is left when its round ends, fewer than 20, is parked with the
// remainders of other drives and read in batches across drives
// (msgraph.ListPermissionsOf; see tails), while the worker goes on to the
// next drive. A parked drive's last pages are committed when its batch
// comes back, and the run ends after every parked drive. So a sync reaches
// ceil(ΣC_d/20) plus at most one partial batch at the end of the run (and
// one for the preflight), where one batch per drive would cost up to
// Σ_d ceil(C_d/20): for the many drives with a few shared items, and for
// every incremental sync, that is most of the permission requests.
//
// An incremental sync costs ceil(U/999) user pages, one delta page per drive
// with a token (1 RU) plus further pages for large changes, ceil(changed/20)
// permission batches across drives for the items whose sharing changed (5
// RU each) and one drive read (1 RU, 20 a batch) per drive that changed.
// /users costs no SharePoint resource units.
//
// # Progress and memory
//
// Progress (phase users → drives → items → done, drives done/total, items
// seen, shared items, permissions read, Graph requests, resource units,
// throttled waits, ETA from the drives' and items' rates) is published on
// the events.Bus after each page and persisted on the sync_runs row.
// Memory does not grow with the tenant: pages are streamed, no SDK object is
// kept, and all state is per page or per drive, except the list of drive
// ids (one string per drive); drives parked for the tail batches hold at
// most maxHeldItems items between them.
//
// Cancelling ctx ends the run as cancelled; committed checkpoints are kept.
package syncer
