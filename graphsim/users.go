package graphsim

import (
	"encoding/base64"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/overshare/overshare/graphsim/tenant"
)

// userProps are the user properties the simulator knows, in Graph's
// spelling; defaultUserProps are the ones Graph returns without $select.
var (
	userProps = []string{"id", "displayName", "givenName", "surname", "userPrincipalName", "mail", "jobTitle",
		"department", "userType", "accountEnabled", "createdDateTime", "assignedLicenses", "businessPhones",
		"mobilePhone", "officeLocation", "preferredLanguage"}
	defaultUserProps = []string{"businessPhones", "displayName", "givenName", "jobTitle", "mail", "mobilePhone",
		"officeLocation", "preferredLanguage", "surname", "userPrincipalName", "id"}
)

func canonicalUserProp(name string) (string, bool) {
	for _, p := range userProps {
		if strings.EqualFold(p, name) {
			return p, true
		}
	}
	return "", false
}

func nullable(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func userValue(u tenant.User, prop string) any {
	switch prop {
	case "id":
		return u.ID
	case "displayName":
		return u.DisplayName
	case "givenName":
		return nullable(u.GivenName)
	case "surname":
		return nullable(u.Surname)
	case "userPrincipalName":
		return u.UserPrincipalName
	case "mail":
		return nullable(u.Mail)
	case "jobTitle":
		return nullable(u.JobTitle)
	case "department":
		return nullable(u.Department)
	case "userType":
		return u.UserType
	case "accountEnabled":
		return u.AccountEnabled
	case "createdDateTime":
		return nullable(graphTime(u.CreatedDateTime))
	case "assignedLicenses":
		ls := make([]map[string]any, len(u.AssignedLicenses))
		for i, l := range u.AssignedLicenses {
			dp := l.DisabledPlans
			if dp == nil {
				dp = []string{}
			}
			ls[i] = map[string]any{"skuId": l.SkuID, "disabledPlans": dp}
		}
		return ls
	case "businessPhones":
		return []string{}
	}
	return nil // mobilePhone, officeLocation, preferredLanguage
}

// userQuery is a parsed $select / $expand for users.
type userQuery struct {
	props         []string // nil = defaults
	expandManager bool
	managerProps  []string // nil = defaults
}

func badUserProp(name string) *gerr {
	return newErr(400, "Request_BadRequest", "Could not find a property named '"+name+"' on type 'microsoft.graph.user'.")
}

func parseUserProps(v string) ([]string, *gerr) {
	if strings.TrimSpace(v) == "" {
		return nil, nil
	}
	var out []string
	for _, f := range strings.Split(v, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		p, ok := canonicalUserProp(f)
		if !ok {
			return nil, badUserProp(f)
		}
		out = append(out, p)
	}
	return out, nil
}

func parseUserQuery(q url.Values) (userQuery, *gerr) {
	var uq userQuery
	var e *gerr
	if uq.props, e = parseUserProps(q.Get("$select")); e != nil {
		return uq, e
	}
	if exp := strings.TrimSpace(q.Get("$expand")); exp != "" {
		name, opts, hasOpts := strings.Cut(exp, "(")
		if !strings.EqualFold(strings.TrimSpace(name), "manager") {
			return uq, newErr(400, "Request_BadRequest", "Could not find a navigation property named '"+strings.TrimSpace(name)+"' on type 'microsoft.graph.user'.")
		}
		uq.expandManager = true
		if hasOpts {
			opts = strings.TrimSuffix(strings.TrimSpace(opts), ")")
			k, v, _ := strings.Cut(opts, "=")
			if !strings.EqualFold(strings.TrimSpace(k), "$select") {
				return uq, newErr(400, "Request_UnsupportedQuery", "Only $select is supported inside $expand=manager(...).")
			}
			if uq.managerProps, e = parseUserProps(v); e != nil {
				return uq, e
			}
		}
	}
	for _, k := range []string{"$filter", "$search", "$orderby"} {
		if q.Get(k) != "" {
			return uq, newErr(400, "Request_UnsupportedQuery", "The simulator does not support "+k+" on users.")
		}
	}
	return uq, nil
}

func (s *Server) userJSON(u tenant.User, uq userQuery) map[string]any {
	props := uq.props
	if props == nil {
		props = defaultUserProps
	}
	m := make(map[string]any, len(props)+1)
	for _, p := range props {
		m[p] = userValue(u, p)
	}
	if uq.expandManager && u.ManagerID != "" {
		if mgr, ok := s.tenant.User(u.ManagerID); ok {
			mp := uq.managerProps
			if mp == nil {
				mp = defaultUserProps
			}
			mm := map[string]any{"@odata.type": "#microsoft.graph.user"}
			for _, p := range mp {
				mm[p] = userValue(mgr, p)
			}
			m["manager"] = mm
		}
	}
	return m
}

func userContext(origin string, uq userQuery, entity bool) string {
	c := origin + "/v1.0/$metadata#users"
	if uq.props != nil {
		c += "(" + strings.Join(uq.props, ",") + ")"
	}
	if entity {
		c += "/$entity"
	}
	return c
}

func userNotFound(id string) *gerr {
	return newErr(404, "Request_ResourceNotFound", "Resource '"+id+"' does not exist or one of its queried reference-property objects are not present.")
}

// expandPageCap is the page size of /users with $expand (Graph's known issue
// "$expand on directory objects returns a maximum of 100 objects").
const expandPageCap = 100

func (s *Server) listUsers(w http.ResponseWriter, g *greq) *gerr {
	top := 100
	if v := g.query.Get("$top"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 999 {
			return newErr(400, "Request_UnsupportedQuery", "Invalid page size specified: '"+v+"'. Must be between 1 and 999 inclusive.")
		}
		top = n
	}
	uq, e := parseUserQuery(g.query)
	if e != nil {
		return e
	}
	if uq.expandManager && !s.tenant.Lenient().FullExpandPages {
		// $expand on directory objects returns at most 100 objects a page,
		// whatever $top asks (docs/graph-behaviour.md, "Paging").
		top = min(top, expandPageCap)
	}
	start := 0
	if v := g.query.Get("$skiptoken"); v != "" {
		n, ok := decodeSkipToken(v)
		if !ok {
			return newErr(400, "Directory_ExpiredPageToken", "The specified page token value has expired and can no longer be included in your request.")
		}
		start = n
	}
	users := s.tenant.UsersPage(start, top)
	value := make([]map[string]any, len(users))
	for i, u := range users {
		value[i] = s.userJSON(u, uq)
	}
	out := map[string]any{"@odata.context": userContext(g.origin, uq, false), "value": value}
	switch {
	case g.repeat:
		out["@odata.nextLink"] = g.selfURL()
	case start+len(users) < s.tenant.UserCount() && len(users) > 0:
		q := url.Values{}
		for k, v := range g.query {
			if k != "$skiptoken" {
				q[k] = v
			}
		}
		q.Set("$skiptoken", encodeSkipToken(start+len(users)))
		out["@odata.nextLink"] = g.origin + "/v1.0/users?" + strings.ReplaceAll(q.Encode(), "%24", "$")
	}
	writeJSON(w, 200, out)
	return nil
}

func encodeSkipToken(n int) string {
	return "RFNwdAIAAQAAA" + base64.RawURLEncoding.EncodeToString([]byte("users:"+strconv.Itoa(n)))
}

func decodeSkipToken(v string) (int, bool) {
	rest, ok := strings.CutPrefix(v, "RFNwdAIAAQAAA")
	if !ok {
		return 0, false
	}
	b, err := base64.RawURLEncoding.DecodeString(rest)
	if err != nil {
		return 0, false
	}
	num, ok := strings.CutPrefix(string(b), "users:")
	if !ok {
		return 0, false
	}
	n, err := strconv.Atoi(num)
	if err != nil || n < 0 {
		return 0, false
	}
	return n, true
}

func (s *Server) getUser(w http.ResponseWriter, g *greq, id string) *gerr {
	uq, e := parseUserQuery(g.query)
	if e != nil {
		return e
	}
	u, ok := s.tenant.User(id)
	if !ok {
		return userNotFound(id)
	}
	m := s.userJSON(u, uq)
	m["@odata.context"] = userContext(g.origin, uq, true)
	writeJSON(w, 200, m)
	return nil
}

func (s *Server) listSkus(w http.ResponseWriter, g *greq) *gerr {
	skus := s.tenant.Skus()
	value := make([]map[string]any, len(skus))
	for i, k := range skus {
		value[i] = map[string]any{
			"accountId":        s.tenantID,
			"accountName":      s.directoryName(),
			"appliesTo":        "User",
			"capabilityStatus": k.CapabilityStatus,
			"consumedUnits":    k.ConsumedUnits,
			"id":               s.tenantID + "_" + k.SkuID,
			"skuId":            k.SkuID,
			"skuPartNumber":    k.SkuPartNumber,
			"subscriptionIds":  []string{seededUUID(s.opt.Tenant.Seed, "subscription/"+k.SkuID)},
			"prepaidUnits":     map[string]int{"enabled": k.PrepaidEnabled, "suspended": 0, "warning": 0, "lockedOut": 0},
			"servicePlans":     []any{},
		}
	}
	writeJSON(w, 200, map[string]any{"@odata.context": g.origin + "/v1.0/$metadata#subscribedSkus", "value": value})
	return nil
}
