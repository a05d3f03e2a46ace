package tenant

import (
	"math/rand/v2"
	"strconv"
	"strings"
	"time"
)

const quotaTotal = 1 << 40 // 1 TB, the usual OneDrive for Business default

// New generates a tenant deterministically from cfg.Seed.
func New(cfg Config) *Tenant {
	cfg.Users = max(cfg.Users, 0)
	cfg.FilesPerUser = max(cfg.FilesPerUser, 0)
	cfg.ShareRatio = min(max(cfg.ShareRatio, 0), 1)
	if cfg.Now.IsZero() {
		cfg.Now = time.Now()
	}
	cfg.Now = cfg.Now.UTC().Truncate(time.Second)
	t := &Tenant{ids: idCodec{key: mix(uint64(cfg.Seed) ^ 0x6f76657273686172)}}
	rng := rand.New(rand.NewPCG(uint64(cfg.Seed), 0x74656e616e74))
	company := companyNames[rng.IntN(len(companyNames))]
	if cfg.Domain == "" {
		cfg.Domain = company + ".onmicrosoft.com"
	} else {
		company = strings.ToLower(strings.SplitN(cfg.Domain, ".", 2)[0])
	}
	if cfg.TenantID == "" {
		cfg.TenantID = t.ids.guid(9, 0)
	}
	t.cfg = cfg
	t.host = company + "-my.sharepoint.com"
	t.genDomains(company)
	t.genUsers(rng)
	t.genGroups()
	t.genApps()
	t.inheritedFrom = InheritedFromAbsent
	if cfg.InheritedFrom != "" {
		t.inheritedFrom = cfg.InheritedFrom
	}
	t.genDrives()
	for _, d := range t.drives {
		d.folderShared = t.folderSharingChanged
	}
	return t
}

func (t *Tenant) genUsers(rng *rand.Rand) {
	n := t.cfg.Users
	dom := t.cfg.Domain
	t.users = make([]User, n)
	t.userByID = make(map[string]int32, n)
	t.userByUPN = make(map[string]int32, n)
	t.userDrive = make([]int32, n)
	seen := make(map[string]bool, n)
	unique := func(local string) string {
		if !seen[local] {
			seen[local] = true
			return local
		}
		for k := 2; ; k++ {
			c := local + strconv.Itoa(k)
			if !seen[c] {
				seen[c] = true
				return c
			}
		}
	}
	consumed := make([]int, len(skuCatalog))
	var memberPos []int32 // members in hierarchy order
	const fanout = 10
	for i := range n {
		u := &t.users[i]
		u.ID = t.ids.guid(1, uint64(i))
		u.GivenName = firstNames[rng.IntN(len(firstNames))]
		u.Surname = lastNames[rng.IntN(len(lastNames))]
		u.DisplayName = u.GivenName + " " + u.Surname
		u.CreatedDateTime = t.cfg.Now.Add(-time.Duration(rng.Int64N(int64(6 * 365 * 24 * time.Hour)))).Truncate(time.Second)
		u.AccountEnabled = true
		local := strings.ToLower(u.GivenName + "." + u.Surname)
		if i > 0 && rng.Float64() < 0.08 {
			ext := externalDomains[rng.IntN(len(externalDomains))]
			local = unique(local + "@" + ext)
			u.Mail = local
			u.UserPrincipalName = strings.Replace(local, "@", "_", 1) + "#EXT#@" + dom
			u.UserType = "Guest"
			t.guests = append(t.guests, int32(i))
		} else {
			local = unique(local)
			u.UserPrincipalName = local + "@" + dom
			u.Mail = u.UserPrincipalName
			u.UserType = "Member"
			r := rng.Float64()
			disabled := i > 0 && r < 0.04
			unlicensed := i > 0 && !disabled && r < 0.09
			u.AccountEnabled = !disabled
			if !unlicensed {
				s := 0
				switch r2 := rng.Float64(); {
				case r2 < 0.25:
					s = 1
				case r2 < 0.40:
					s = 2
				}
				u.AssignedLicenses = []License{{SkuID: skuCatalog[s].id}}
				consumed[s]++
				u.HasDrive = true
			}
			m := len(memberPos)
			memberPos = append(memberPos, int32(i))
			switch {
			case m == 0:
				u.Department = "Executive"
				u.JobTitle = "Chief Executive Officer"
			case m <= fanout:
				u.Department = departments[(m-1)%len(departments)]
				u.JobTitle = "Head of " + u.Department
				u.ManagerID = t.users[memberPos[0]].ID
			default:
				mgr := &t.users[memberPos[(m-1)/fanout]]
				u.ManagerID = mgr.ID
				u.Department = mgr.Department
				titles := jobTitles[u.Department]
				u.JobTitle = titles[rng.IntN(len(titles))]
			}
			if u.AccountEnabled {
				t.members = append(t.members, int32(i))
			}
		}
		t.userByID[u.ID] = int32(i)
		t.userByUPN[strings.ToLower(u.UserPrincipalName)] = int32(i)
	}
	for k, s := range skuCatalog {
		t.skus = append(t.skus, Sku{
			SkuID:            s.id,
			SkuPartNumber:    s.part,
			CapabilityStatus: "Enabled",
			ConsumedUnits:    consumed[k],
			PrepaidEnabled:   consumed[k] + 5 + consumed[k]/10,
		})
	}
}

// genDomains makes the verified domains: Config.Domain (every user's) is the
// default; <company>.onmicrosoft.com is the initial one; and a third, an
// alias domain such as contoso.com that no user's address is on, only
// groups' (a Microsoft 365 group takes its address from the domain an
// address policy names, not from its members').
func (t *Tenant) genDomains(company string) {
	initial := company + ".onmicrosoft.com"
	t.domains = []Domain{{Name: t.cfg.Domain, IsDefault: true, IsInitial: t.cfg.Domain == initial, Type: "Managed"}}
	if t.cfg.Domain != initial {
		t.domains = append(t.domains, Domain{Name: initial, IsInitial: true, Type: "Managed"})
	}
	alias := company + ".com"
	if alias == t.cfg.Domain {
		alias = company + ".net"
	}
	t.domains = append(t.domains, Domain{Name: alias, Type: "Managed", Alias: true})
}

// aliasDomain is the verified domain no user's address is on.
func (t *Tenant) aliasDomain() string {
	for _, d := range t.domains {
		if d.Alias {
			return d.Name
		}
	}
	return t.cfg.Domain
}

func (t *Tenant) genGroups() {
	t.groupByID = map[string]int32{}
	for k, name := range groupNames {
		// An address policy put the groups made after the first on the
		// alias domain (Exchange Online's email address policies for
		// Microsoft 365 groups choose the domain of new groups' addresses).
		dom := t.cfg.Domain
		if k > 0 {
			dom = t.aliasDomain()
		}
		g := Identity{
			ID:          t.ids.guid(3, uint64(k)),
			DisplayName: name,
			Email:       strings.ToLower(strings.ReplaceAll(name, " ", "")) + "@" + dom,
		}
		t.groups = append(t.groups, g)
		t.groupByID[g.ID] = int32(k)
	}
}

// appNames are applications that commonly hold grants on files
// (Sites.Selected apps, sync and signing services).
var appNames = []string{"Contoso Records Sync", "DocuSign for SharePoint", "Backup Service"}

func (t *Tenant) genApps() {
	for k, name := range appNames {
		t.apps = append(t.apps, Identity{ID: t.ids.guid(4, uint64(k)), DisplayName: name})
	}
}
