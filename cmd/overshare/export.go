package main

import (
	"bufio"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/overshare/overshare/graph/model"
	"github.com/overshare/overshare/internal/config"
	"github.com/overshare/overshare/models"
	"github.com/overshare/overshare/store"
)

// runExport writes the sharing of an integration's items, one row per permission that makes an
// item match the filters (the API's DriveItemFilter as flags), as CSV or JSON. Rows are
// written a page of items at a time (store.EachSharingRow), so the export of a large tenant
// does not sit in memory.
func runExport(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("export", "--integration ID [flags]",
		"Writes an integration's shared items, one row per permission that shares an item and matches\n"+
			"the filters (the API's driveItems filter), items by name: CSV with a header (default) or JSON.\n"+
			"Only sharing set on the item itself counts, never the owner's access or inherited rows.\n\n"+
			"Columns: "+strings.Join(exportColumns, ", ")+".", config.Export, stdout)
	var (
		integration = fs.String("integration", "", "the integration: its id or its global `ID`")
		format      = fs.String("format", "csv", "csv or json (an array, one object per line)")
		output      = fs.String("o", "", "write to this `file` instead of stdout")
		scopes      listFlag
		linkTypes   listFlag
		hasExpiry   boolOrUnset
		hasPassword boolOrUnset
		external    boolOrUnset
		expired     = fs.Bool("expired", false, "links whose expiry has passed, which Microsoft 365 still lists (to clean up), instead of live sharing")
		owner       = fs.String("owner", "", "only items in the OneDrive of this user (Graph id or global ID)")
		drive       = fs.String("drive", "", "only items of this drive (Graph id or global ID)")
		search      = fs.String("search", "", "only items whose name contains this (case-insensitive)")
		after       = fs.String("modified-after", "", "only items modified at or after this time (RFC 3339 or 2006-01-02)")
		before      = fs.String("modified-before", "", "only items modified before this time (RFC 3339 or 2006-01-02)")
	)
	fs.Var(&scopes, "scope", "only sharing of these `scopes`, comma-separated or repeated: anonymous, organization, users (specific people and direct grants), external (guests and outside addresses)")
	fs.Var(&linkTypes, "link-type", "only links of these `types`, comma-separated or repeated: view, edit, embed, …")
	fs.Var(&hasExpiry, "has-expiry", "only links with an expiry, or only links without one: `true|false`")
	fs.Var(&hasPassword, "has-password", "only links with a password, or only links without one: `true|false`")
	fs.Var(&external, "external", "only sharing with guests or outside addresses, or only sharing with nobody external: `true|false`")
	if err := fs.parseNoArgs(args); err != nil {
		return err
	}
	if *integration == "" {
		return usageErrorf("missing --integration")
	}
	if *format != "csv" && *format != "json" {
		return usageErrorf("--format %q: want csv or json", *format)
	}
	f := store.ItemFilter{SharedOnly: true, Expired: *expired, LinkTypes: linkTypes, Search: strings.TrimSpace(*search),
		HasExpiry: hasExpiry.v, HasPassword: hasPassword.v, External: external.v}
	for _, s := range scopes {
		switch s {
		case models.LinkScopeAnonymous, models.LinkScopeOrganization, models.LinkScopeUsers:
			f.Scopes = append(f.Scopes, s)
		case "external":
			if f.External != nil && !*f.External {
				return usageErrorf("--scope external contradicts --external=false")
			}
			f.External = ptr(true)
		default:
			return usageErrorf("--scope %q: want anonymous, organization, users or external", s)
		}
	}
	var err error
	if f.ModifiedAfter, err = timeFlag("--modified-after", *after); err != nil {
		return err
	}
	if f.ModifiedBefore, err = timeFlag("--modified-before", *before); err != nil {
		return err
	}

	st, err := openForAdmin(ctx, config.Export, stderr)
	if err != nil {
		return err
	}
	defer st.Close()
	in, err := integrationByArg(ctx, st, *integration)
	if err != nil {
		return err
	}
	if *owner != "" {
		if f.OwnerUserID, err = rowKeyArg(*owner, model.TypeUser, in.ID); err != nil {
			return err
		}
	}
	if *drive != "" {
		if f.DriveID, err = rowKeyArg(*drive, model.TypeDrive, in.ID); err != nil {
			return err
		}
	}

	out := stdout
	var file *os.File
	if *output != "" {
		if file, err = os.Create(*output); err != nil {
			return fmt.Errorf("create the export file: %w", err)
		}
		defer file.Close()
		out = file
	}
	bw := bufio.NewWriterSize(out, 64<<10)
	w := newExportWriter(*format, bw)
	perms, items, lastItem := 0, 0, ""
	err = st.EachSharingRow(ctx, in.ID, f, store.MaxPageSize, func(r store.SharingRow) error {
		perms++
		if r.Item.ID != lastItem {
			items, lastItem = items+1, r.Item.ID
		}
		return w.write(exportRecord(in.ID, r))
	})
	if err == nil {
		err = w.close()
	}
	if err == nil {
		err = bw.Flush()
	}
	if err == nil && file != nil {
		err = file.Close()
	}
	if err != nil {
		return fmt.Errorf("export: %w", err)
	}
	where := "stdout"
	if *output != "" {
		where = *output
	}
	_, err = fmt.Fprintf(stderr, "exported %d permissions of %d items of integration %q to %s\n", perms, items, in.Name, where)
	return err
}

// exportColumns are the CSV header and the JSON keys, in order.
var exportColumns = []string{"path", "name", "owner", "owner_email", "drive", "scope", "roles", "link_type", "link_scope",
	"grantee", "grantee_email", "external", "expires", "web_url", "item_id", "permission_id"}

// exportRecord is one row's values, in exportColumns' order.
func exportRecord(integrationID string, r store.SharingRow) []string {
	it, p := r.Item, r.Permission
	var owner, ownerEmail, drive string
	if r.Owner != nil {
		owner, ownerEmail = r.Owner.DisplayName, cmpOr(r.Owner.Mail, r.Owner.UserPrincipalName)
	}
	if r.Drive != nil {
		drive = r.Drive.Name
	}
	grantee, granteeEmail := grantee(p)
	expires := ""
	if p.ExpiresAt != nil {
		expires = p.ExpiresAt.UTC().Format(time.RFC3339)
	}
	return []string{it.Path, it.Name, owner, ownerEmail, drive, p.SharingScope(), p.Roles, p.LinkType, p.Scope(),
		grantee, granteeEmail, strconv.FormatBool(isExternal(p)), expires, it.WebURL,
		model.EncodeID(model.TypeDriveItem, integrationID, it.ID), model.EncodeID(model.TypePermission, integrationID, it.ID, p.ID)}
}

// grantee says who a permission shares with, in words for links to everyone or the organisation.
func grantee(p *models.Permission) (string, string) {
	switch {
	case p.Scope() == models.LinkScopeAnonymous:
		return "anyone with the link", ""
	case p.Scope() == models.LinkScopeOrganization:
		return "people in the organisation with the link", ""
	case p.GrantedToKind == models.GranteeOrganization:
		return cmpOr(p.GrantedToDisplayName, "everyone except external users"), ""
	case len(p.GrantedToIdentities) > 0:
		names, mails := make([]string, len(p.GrantedToIdentities)), make([]string, len(p.GrantedToIdentities))
		for i, id := range p.GrantedToIdentities {
			names[i], mails[i] = cmpOr(id.DisplayName, id.Email), id.Email
		}
		return strings.Join(names, "; "), strings.Join(mails, "; ")
	}
	return cmpOr(p.GrantedToDisplayName, p.InvitationEmail), cmpOr(p.GrantedToEmail, p.InvitationEmail)
}

func isExternal(p *models.Permission) bool {
	return p.GrantedToExternal || slices.ContainsFunc(p.GrantedToIdentities, func(id models.Identity) bool { return id.External })
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

func ptr[T any](v T) *T { return &v }

// exportWriter writes records as CSV or as a JSON array, streaming.
type exportWriter struct {
	csv   *csv.Writer
	w     io.Writer
	count int
}

func newExportWriter(format string, w io.Writer) *exportWriter {
	if format == "csv" {
		return &exportWriter{csv: csv.NewWriter(w)}
	}
	return &exportWriter{w: w}
}

func (e *exportWriter) write(rec []string) error {
	if e.csv != nil {
		if e.count == 0 {
			if err := e.csv.Write(exportColumns); err != nil {
				return err
			}
		}
		e.count++
		return e.csv.Write(rec)
	}
	// One object per row, its keys in column order; "external" a boolean.
	var b strings.Builder
	for i, c := range exportColumns {
		sep := ","
		if i == 0 {
			sep = "{"
		}
		b.WriteString(sep + strconv.Quote(c) + ":")
		if c == "external" {
			b.WriteString(rec[i])
			continue
		}
		v, err := json.Marshal(rec[i])
		if err != nil {
			return err
		}
		b.Write(v)
	}
	b.WriteString("}")
	sep := ",\n"
	if e.count == 0 {
		sep = "[\n"
	}
	e.count++
	_, err := io.WriteString(e.w, sep+b.String())
	return err
}

func (e *exportWriter) close() error {
	if e.csv != nil {
		if e.count == 0 {
			if err := e.csv.Write(exportColumns); err != nil {
				return err
			}
		}
		e.csv.Flush()
		return e.csv.Error()
	}
	end := "\n]\n"
	if e.count == 0 {
		end = "[]\n"
	}
	_, err := io.WriteString(e.w, end)
	return err
}

// listFlag is a flag that takes comma-separated values and may be repeated.
type listFlag []string

func (l *listFlag) String() string { return strings.Join(*l, ",") }

func (l *listFlag) Set(v string) error {
	for _, part := range strings.Split(v, ",") {
		if part = strings.ToLower(strings.TrimSpace(part)); part != "" {
			*l = append(*l, part)
		}
	}
	return nil
}

// boolOrUnset is a flag that is true, false or not given.
type boolOrUnset struct{ v *bool }

func (b *boolOrUnset) String() string {
	if b == nil || b.v == nil {
		return ""
	}
	return strconv.FormatBool(*b.v)
}

func (b *boolOrUnset) Set(s string) error {
	v, err := strconv.ParseBool(s)
	if err != nil {
		return fmt.Errorf("want true or false")
	}
	b.v = &v
	return nil
}

// timeFlag reads an RFC 3339 time or a date (midnight UTC); "" is no time.
func timeFlag(name, v string) (*time.Time, error) {
	v = strings.TrimSpace(v)
	if v == "" {
		return nil, nil
	}
	for _, layout := range []string{time.RFC3339, "2006-01-02"} {
		if t, err := time.Parse(layout, v); err == nil {
			return &t, nil
		}
	}
	return nil, usageErrorf("%s %q: want a time such as 2026-03-01 or 2026-03-01T09:00:00Z", name, v)
}
