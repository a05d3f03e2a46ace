package graphsim

import (
	"net/http"
	"strings"
)

// organizationJSON is the tenant's one organization object, with the
// properties a client of the simulator may ask for by $select.
func (s *Server) organizationJSON() map[string]any {
	domains := s.tenant.Domains()
	vd := make([]map[string]any, len(domains))
	for i, d := range domains {
		vd[i] = map[string]any{
			"capabilities": "Email, OfficeCommunicationsOnline",
			"isDefault":    d.IsDefault,
			"isInitial":    d.IsInitial,
			"name":         d.Name,
			"type":         d.Type,
		}
	}
	return map[string]any{
		"id":                         s.tenantID,
		"displayName":                s.directoryName(),
		"tenantType":                 "AAD",
		"countryLetterCode":          "US",
		"preferredLanguage":          "en",
		"verifiedDomains":            vd,
		"businessPhones":             []string{},
		"technicalNotificationMails": []string{},
	}
}

// selectProps keeps the $select-ed properties of m (all when there is no
// $select); an unknown property is refused as Graph refuses it.
func selectProps(m map[string]any, sel string) (map[string]any, *gerr) {
	if strings.TrimSpace(sel) == "" {
		return m, nil
	}
	out := map[string]any{}
	for _, p := range strings.Split(sel, ",") {
		p = strings.TrimSpace(p)
		found := false
		for k, v := range m {
			if strings.EqualFold(k, p) {
				out[k], found = v, true
			}
		}
		if !found {
			return nil, newErr(400, "Request_BadRequest", "Could not find a property named '"+p+"' on type 'Microsoft.DirectoryServices.Organization'.")
		}
	}
	return out, nil
}

// listOrganization answers GET /organization: a collection of exactly one.
func (s *Server) listOrganization(w http.ResponseWriter, g *greq) *gerr {
	o, e := selectProps(s.organizationJSON(), g.query.Get("$select"))
	if e != nil {
		return e
	}
	writeJSON(w, 200, map[string]any{"@odata.context": g.origin + "/v1.0/$metadata#organization", "value": []any{o}})
	return nil
}

// getOrganization answers GET /organization/{id}; only the tenant's own id
// names an organization.
func (s *Server) getOrganization(w http.ResponseWriter, g *greq, id string) *gerr {
	if !strings.EqualFold(id, s.tenantID) {
		return newErr(404, "Request_ResourceNotFound", "Resource '"+id+"' does not exist or one of its queried reference-property objects are not present.")
	}
	o, e := selectProps(s.organizationJSON(), g.query.Get("$select"))
	if e != nil {
		return e
	}
	o["@odata.context"] = g.origin + "/v1.0/$metadata#organization/$entity"
	writeJSON(w, 200, o)
	return nil
}
