package store

// Read queries for the GraphQL API: keyset pagination with opaque cursors, filters, counts and
// batch loads. Every list is ordered by a sort key plus the row id, and the next page starts
// strictly after the (key, id) of the last row shown, so pages never skip or repeat a row while
// rows are written, and a deep page costs what the first one does (no OFFSET).

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
)

// MaxPageSize is the largest page any list returns.
const MaxPageSize = 500

// ErrBadCursor is returned for a cursor this server did not issue for the same ordering.
var ErrBadCursor = errors.New("invalid cursor")

// PageRequest asks for First rows after the row the cursor After names ("" = from the start).
type PageRequest struct {
	First int
	After string
}

func (p PageRequest) limit() int {
	switch {
	case p.First < 0:
		return 0
	case p.First > MaxPageSize:
		return MaxPageSize
	}
	return p.First
}

// Page is one page of rows; Cursor names the position after each.
type Page[T any] struct {
	Rows []T
	// HasNext is true when rows follow the last one of this page.
	HasNext bool
	cursor  func(*T) string
}

// Cursor returns the cursor of row i. It is computed on demand: most queries ask only for the
// page's end cursor.
func (p Page[T]) Cursor(i int) string { return p.cursor(&p.Rows[i]) }

// EndCursor returns the cursor of the last row, or "" for an empty page.
func (p Page[T]) EndCursor() string {
	if len(p.Rows) == 0 {
		return ""
	}
	return p.Cursor(len(p.Rows) - 1)
}

// RowKey names one synced row: users, drives and items are keyed by integration and Graph id.
type RowKey struct {
	IntegrationID string
	ID            string
}

type keyKind int

const (
	keyString keyKind = iota
	keyInt
	keyTime
)

// sortKey is the ordering of one list: expr (a column or expression), then idExpr as the tie
// breaker, both in the same direction. A nullable key sorts NULLs last when ascending and first
// when descending: PostgreSQL's B-tree order, so that an index on (integration_id, key, id) serves
// the ordering both ways. SQLite orders NULLs the other way round by default, so the NULLS
// clause is always written out.
type sortKey struct {
	name     string // recorded in cursors so that a cursor is only valid for its ordering
	expr     string
	idExpr   string
	kind     keyKind
	nullable bool
	desc     bool
}

func (k sortKey) tag() string {
	if k.desc {
		return k.name + ":desc"
	}
	return k.name + ":asc"
}

func (k sortKey) orderBy() string {
	dir, nulls := "ASC", "NULLS LAST"
	if k.desc {
		dir, nulls = "DESC", "NULLS FIRST"
	}
	if k.nullable {
		return fmt.Sprintf("%s %s %s, %s %s", k.expr, dir, nulls, k.idExpr, dir)
	}
	return fmt.Sprintf("%s %s, %s %s", k.expr, dir, k.idExpr, dir)
}

// apiCursor is the decoded form of an opaque cursor.
type apiCursor struct {
	Order string          `json:"o"`
	Key   json.RawMessage `json:"k"`
	ID    string          `json:"i"`
}

// encode returns the cursor of a row whose sort key is value (nil for NULL).
func (k sortKey) encode(value any, id string) string {
	switch v := value.(type) {
	case time.Time:
		value = v.UTC().Format(time.RFC3339Nano)
	case *time.Time:
		if v == nil {
			value = nil
		} else {
			value = v.UTC().Format(time.RFC3339Nano)
		}
	}
	raw, _ := json.Marshal(value)
	b, _ := json.Marshal(apiCursor{Order: k.tag(), Key: raw, ID: id})
	return base64.RawURLEncoding.EncodeToString(b)
}

// after returns the condition selecting rows strictly after the cursor, with its arguments.
func (k sortKey) after(cursor string) (string, []any, error) {
	b, err := base64.RawURLEncoding.DecodeString(cursor)
	if err != nil {
		return "", nil, ErrBadCursor
	}
	var c apiCursor
	if err := json.Unmarshal(b, &c); err != nil || c.Order != k.tag() || c.ID == "" {
		return "", nil, ErrBadCursor
	}
	var value any
	if string(c.Key) != "null" {
		switch k.kind {
		case keyString:
			var s string
			err = json.Unmarshal(c.Key, &s)
			value = s
		case keyInt:
			var n int64
			err = json.Unmarshal(c.Key, &n)
			value = n
		case keyTime:
			var s string
			if err = json.Unmarshal(c.Key, &s); err == nil {
				var t time.Time
				t, err = time.Parse(time.RFC3339Nano, s)
				value = t.UTC()
			}
		}
		if err != nil {
			return "", nil, ErrBadCursor
		}
	} else if !k.nullable {
		return "", nil, ErrBadCursor
	}
	e, id := k.expr, k.idExpr
	// Row comparisons let PostgreSQL turn the condition into an index range.
	switch {
	case value == nil && !k.desc:
		// NULLs come last: only the rest of the NULLs.
		return fmt.Sprintf("(%s IS NULL AND %s > ?)", e, id), []any{c.ID}, nil
	case value == nil && k.desc:
		// NULLs come first: the rest of the NULLs, then every non-NULL key.
		return fmt.Sprintf("((%s IS NULL AND %s < ?) OR %s IS NOT NULL)", e, id, e), []any{c.ID}, nil
	case k.desc:
		// A NULL key compares as unknown, so the NULLs (already shown) stay out.
		return fmt.Sprintf("(%s, %s) < (?, ?)", e, id), []any{value, c.ID}, nil
	case k.nullable:
		return fmt.Sprintf("((%s, %s) > (?, ?) OR %s IS NULL)", e, id, e), []any{value, c.ID}, nil
	default:
		return fmt.Sprintf("(%s, %s) > (?, ?)", e, id), []any{value, c.ID}, nil
	}
}

// where accumulates AND-ed conditions with their arguments.
type where struct {
	conds []string
	args  []any
}

func (w *where) add(cond string, args ...any) {
	w.conds = append(w.conds, cond)
	w.args = append(w.args, args...)
}

func (w *where) sql() string {
	if len(w.conds) == 0 {
		return "1 = 1"
	}
	return strings.Join(w.conds, " AND ")
}

// addSearch adds "one of cols contains s, case-insensitively". A NUL in s matches nothing: no
// name or address holds one (PostgreSQL's text cannot), and SQLite's LIKE stops reading its
// pattern at a NUL, so "\x00" matched every row there (found by FuzzItemFilter).
func (w *where) addSearch(s string, cols ...string) {
	if strings.ContainsRune(s, 0) {
		w.add("1 = 0")
		return
	}
	pat := likeContains(s)
	conds := make([]string, len(cols))
	args := make([]any, len(cols))
	for i, c := range cols {
		conds[i], args[i] = "lower("+c+`) LIKE ? ESCAPE '\'`, pat
	}
	w.add("("+strings.Join(conds, " OR ")+")", args...)
}

// likeContains returns a LIKE pattern matching s anywhere, with LIKE's wildcards in s escaped
// (used with ESCAPE '\').
func likeContains(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)
	return "%" + r.Replace(strings.ToLower(s)) + "%"
}

// finishPage trims the extra row fetched to learn whether more follow.
func finishPage[T any](rows []T, limit int, cursor func(*T) string) Page[T] {
	p := Page[T]{Rows: rows, cursor: cursor}
	if len(rows) > limit {
		p.Rows = rows[:limit]
		p.HasNext = true
	}
	return p
}

func groupKeys(keys []RowKey) map[string][]string {
	byIntegration := map[string][]string{}
	seen := map[RowKey]bool{}
	for _, k := range keys {
		if seen[k] {
			continue
		}
		seen[k] = true
		byIntegration[k.IntegrationID] = append(byIntegration[k.IntegrationID], k.ID)
	}
	return byIntegration
}

// chunks splits ids so that no statement carries more bound parameters than SQLite allows.
func chunks(ids []string, size int) [][]string {
	var out [][]string
	for len(ids) > size {
		out = append(out, ids[:size])
		ids = ids[size:]
	}
	if len(ids) > 0 {
		out = append(out, ids)
	}
	return out
}

const loadChunk = 900
