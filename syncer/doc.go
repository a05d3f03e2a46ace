// Package syncer is the sync engine: it plans and runs full and incremental
// syncs of one integration (a Microsoft 365 tenant), checkpoints every
// drive's delta position, and reports progress.
//
// # One run
//
// (*Syncer).Run syncs one integration to completion and records it in a
// sync_runs row (progress persisted at most every ~2 s and at the end).
//
//  1. Users: /users is paged (999 asked for; 100 given, as the manager is
//     expanded). Each page is upserted; when the listing completed, users
//     it no longer returned are removed.
//  2. Drives: for the member users of each page (guests have no OneDrive in
//     the tenant) the drive is read with $batch (20 a batch). A 404 means the
//     user has no OneDrive (users.has_drive = false), not a failure. An
//     incremental run only looks up users whose drive was never looked up.
//  3. Items: every drive runs one delta round, Concurrency drives at a time.
//     Each page is handled as: read the permissions of the page's candidates
//     (below) with $batch FIRST (a page may wait for later pages of the same
//     drive so that batches are full), then commit in ONE transaction the page's
//     items, its deletions (with
//     their permissions and, for folders, their descendants), the
//     candidates' permissions and the drive's checkpoint (the next link, or
//     on the last page the delta link plus, after a full enumeration, the
//     sweep of items the round did not return and the recompute of paths).
//     A process killed at any moment therefore resumes from the last
//     committed page: nothing is lost or written twice, and drives that
//     finished are not read again.
//
// Graph may send an item several times in one round: every changed item's
// ancestors again, an item changed while the round is paged again later
// (docs/graph-behaviour.md, "Delta in the field"). The last occurrence wins
// across the round: within a page by dedupe, and across pages because an id
// still queued from an earlier page is taken out of it when it comes again
// (its candidacy moves along; permissions already read serve it unless the
// new occurrence is a candidate itself), while pages already committed are
// overwritten by later ones.
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
// the round starts from the stored delta link. A drive whose scheduled
// sweep is due (below) is planned as a full run plans it. A 410
// (msgraph.ResyncRequired, whatever its inner code) starts a full
// enumeration from the Location Graph gave, or from scratch when it gave
// none, ending in mark-and-sweep. Drives whose round returned changes get their drive
// (quota) read again. A drive Graph no longer has (404 on delta: its owner
// left, or the OneDrive was deleted) is removed with its items.
//
// # Permissions: only for candidates
//
// Delta is asked for hierarchical sharing, so on a full enumeration the
// `shared` facet (empty or not) marks exactly the roots of permission
// hierarchies (and the drive root); on an incremental round
// @microsoft.graph.sharedChanged marks the items whose own sharing changed,
// but Graph never marks folders, so an item whose shared facet differs from
// the stored one (it became or stopped being a shared hierarchy root, or
// changed scope) is a candidate too. Those are the candidates; an item that
// only inherits is never read.
//
// # Scheduled refreshes
//
// Delta misses some changes for good: a folder's sharing change that keeps
// its facet (a link changed, a second person added), and every deletion by
// a retention policy. So incremental runs also, per drive:
//
//   - re-read every stored permission-hierarchy root (items with permissions
//     of their own or a shared facet, the drive root aside) every
//     RootRefreshInterval (default 24 h, OVERSHARE_ROOT_REFRESH_INTERVAL),
//     20 a $batch across drives, after the rounds;
//   - enumerate the drive in full and sweep every SweepInterval (default 7
//     days, OVERSHARE_SWEEP_INTERVAL), which also re-reads its roots.
//
// Each drive has its own phase within an interval (a hash of its id) and is
// refreshed when the clock passes it, so a tenant's drives are spread evenly
// over the interval and each run does its share; a drive never refreshed
// counts from its last sync. The run records how many roots it re-read and
// how many drives it swept (sync_runs.roots_refreshed, drives_swept).
//
// Why these defaults: a root re-read costs 5 RU and a sweep what a full
// sync costs (a delta page, 1 RU, per 1,000 items and 2 RU a drive, plus 5
// RU per root). Take a 1,000,000-item tenant of 1,000 drives with 5% of its
// items sharing of their own (the benchmark's; make bench-sync measures
// it): a daily refresh of 50,000 roots is 250,000 RU, 14% of the smallest
// tenants' day (1,200 RU a minute, 1,728,000 RU), and a weekly sweep about
// 255,000 RU, 2% a day, beside 6% for the incremental syncs themselves
// (1,000 drives every 15 minutes, 1 RU each). A day is as long as a
// changed folder link should stay unseen, a week as long as the sharing of
// an item deleted by retention should linger; larger tenants have larger
// budgets, and the throttling pacer keeps any run inside its budget.
//
// Inherited or own, by SharePoint's model (docs/graph-behaviour.md): an
// entry with inheritedFrom is inherited, from the item it names, or from
// somewhere unknown when Graph sent "inheritedFrom": {} (stored with no
// source); otherwise what a permission-hierarchy root lists is its own, the
// entries SharePoint copied from the parent when the item's inheritance was
// broken included. The roots are the drive root and the items delta gives a
// shared facet; a candidate without a facet (its unique permissions were
// deleted) inherits everything it lists. OneDrive for Business omits
// inheritedFrom, and permission ids do not tell either: a grant is named after
// its principal, so a folder and its uniquely shared child hold the same id.
//
// # Cost: the lower bound a sync is measured against
//
// For a full sync of a tenant with U users, M member users, drives d with
// I_d items and C_d candidates (items with a shared facet), P the delta
// page size (msgraph.Config.PageSize):
//
//	requests ≥ ceil(U/100)                 user pages ($expand=manager: 100 a page)
//	         + 2                           tenant facts (/organization, /subscribedSkus)
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
// An incremental sync costs ceil(U/100) user pages, one delta page per drive
// with a token (1 RU) plus further pages for large changes, ceil(changed/20)
// permission batches across drives for the items whose sharing changed or
// whose facet differs (5 RU each) and one drive read (1 RU, 20 a batch) per
// drive that changed, plus the scheduled refreshes that are due. The tenant
// facts (verified domains, licence names: two directory calls, only with
// Organization.Read.All or a licence reader) are read again by a full sync,
// once a day (factsMaxAge), or when the token's permissions changed; the
// other syncs use the stored ones. /users, /organization and
// /subscribedSkus cost no SharePoint resource units.
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
