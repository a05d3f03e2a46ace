package graphsim

// RUByLicenceBand as Options.RUPerMinute sizes the budget by the tenant's
// licences, as SharePoint does.
const RUByLicenceBand = -1

// licenceBands is SharePoint's per-app resource-unit budget per minute by
// the tenant's licence count (Learn: "Avoid getting throttled or blocked in
// SharePoint Online", application throttling): up to 1,000 licences 1,200,
// up to 5,000 2,400, up to 15,000 3,600, up to 50,000 4,800, above 6,000.
var licenceBands = []struct{ upTo, perMinute int }{
	{1_000, 1_200},
	{5_000, 2_400},
	{15_000, 3_600},
	{50_000, 4_800},
}

// BudgetForLicences is the per-app RU budget per minute of a tenant with n
// licences.
func BudgetForLicences(n int) int {
	for _, b := range licenceBands {
		if n <= b.upTo {
			return b.perMinute
		}
	}
	return 6_000
}

// RUPerMinute is the budget the simulator enforces; 0 = unlimited.
func (s *Server) RUPerMinute() int { return s.opt.RUPerMinute }
