package tenant

// Word lists for the synthetic tenant. They only need to look plausible in a
// dashboard and a demo; nothing depends on their exact contents except that
// generation is deterministic for a seed.

var companyNames = []string{"contoso", "fabrikam", "northwind", "adatum", "litware", "tailspin", "woodgrove", "proseware", "fourthcoffee", "wingtip"}

var externalDomains = []string{"gmail.com", "outlook.com", "partnerfirm.com", "acme-consulting.com", "globex.net", "initech.io", "vendorco.de", "lawfirm-llp.co.uk", "agency.fr", "freelance.dev"}

var firstNames = []string{
	"Alex", "Megan", "Adele", "Diego", "Grady", "Henrietta", "Isaiah", "Johanna", "Joni", "Lee",
	"Lidia", "Lynne", "Miriam", "Nestor", "Patti", "Pradeep", "Allan", "Christie", "Debra", "Enrico",
	"Irvin", "Emily", "Sara", "Omar", "Yuki", "Priya", "Lukas", "Sofia", "Mateo", "Chloe",
	"Noah", "Aisha", "Ravi", "Elena", "Tomasz", "Fatima", "Jonas", "Ingrid", "Kwame", "Mei",
	"Daniel", "Laura", "Hassan", "Olivia", "Marco", "Anna", "Samuel", "Zoe", "Victor", "Nora",
}

var lastNames = []string{
	"Wilber", "Bowen", "Vance", "Siciliani", "Archie", "Cheng", "Thomas", "Holmes", "Sherman", "Gu",
	"Holloway", "Robbins", "Davis", "Ortiz", "Fernandez", "Gupta", "Deyoung", "Cline", "Berg", "Zimmermann",
	"Harris", "Braun", "Nakamura", "Kowalski", "Okafor", "Rossi", "Dubois", "Larsen", "Silva", "Novak",
	"Haddad", "Murphy", "Schmidt", "Tanaka", "Mensah", "Andersson", "Costa", "Patel", "Kim", "Moreau",
}

var departments = []string{"Finance", "Sales", "Marketing", "Engineering", "Human Resources", "Legal", "Operations", "IT", "Customer Success", "Research"}

var jobTitles = map[string][]string{
	"Finance":          {"Accountant", "Financial Analyst", "Controller", "Payroll Specialist"},
	"Sales":            {"Account Executive", "Sales Representative", "Sales Engineer", "Inside Sales Rep"},
	"Marketing":        {"Marketing Manager", "Content Strategist", "Brand Designer", "SEO Specialist"},
	"Engineering":      {"Software Engineer", "Senior Software Engineer", "QA Engineer", "DevOps Engineer"},
	"Human Resources":  {"HR Generalist", "Recruiter", "People Partner", "Benefits Administrator"},
	"Legal":            {"Corporate Counsel", "Paralegal", "Compliance Officer", "Contracts Manager"},
	"Operations":       {"Operations Analyst", "Logistics Coordinator", "Facilities Manager", "Procurement Specialist"},
	"IT":               {"Systems Administrator", "Helpdesk Technician", "Security Analyst", "Network Engineer"},
	"Customer Success": {"Customer Success Manager", "Support Specialist", "Onboarding Specialist", "Technical Account Manager"},
	"Research":         {"Research Scientist", "Data Scientist", "Lab Technician", "Research Assistant"},
}

// Real Microsoft 365 SKU ids and part numbers.
var skuCatalog = []struct{ id, part string }{
	{"05e9a617-0261-4cee-bb44-138d3ef5d965", "SPE_E3"},
	{"06ebc4ee-1bb5-47dd-8120-11324bc54e06", "SPE_E5"},
	{"6fd2c87f-b296-42f0-b197-1e91e994b900", "ENTERPRISEPACK"},
}

var groupNames = []string{"All Company", "Finance Team", "Leadership", "Project Phoenix Members", "Sales EMEA", "Engineering", "External Partners"}

var topFolders = []string{
	"Documents", "Desktop", "Pictures", "Projects", "Finance", "Shared with vendors", "Meeting notes",
	"Archive", "Microsoft Teams Chat Files", "Recordings", "Contracts", "HR", "Marketing", "Personal",
	"Templates", "Reports", "Attachments", "Apps", "Notebooks",
}

var projectNames = []string{
	"Project Phoenix", "Apollo Migration", "Website Redesign", "Q3 Launch", "Data Platform", "Customer Portal",
	"Onboarding 2.0", "ERP Rollout", "Brand Refresh", "Mobile App", "Cost Reduction", "Office Move", "Atlas", "Orion",
}

var genericFolders = []string{
	"Drafts", "Final", "Old", "Specs", "Design", "Deliverables", "Invoices", "Receipts", "Budgets", "Presentations",
	"Screenshots", "Exports", "Vendors", "Clients", "Working", "Review", "Scans", "Notes", "Research", "Backup",
	"Customer A", "Customer B", "Team", "Training", "Policies", "Proposals",
}

var years = []string{"2021", "2022", "2023", "2024", "2025"}
var quarters = []string{"Q1", "Q2", "Q3", "Q4"}
var months = []string{"01 January", "02 February", "03 March", "04 April", "05 May", "06 June", "07 July", "08 August", "09 September", "10 October", "11 November", "12 December"}

var docTopics = []string{
	"Budget", "Forecast", "Roadmap", "Strategy", "Proposal", "Contract", "Invoice", "Report", "Meeting notes",
	"Onboarding", "Policy", "Handbook", "Pricing", "Customer list", "Salary review", "Board deck", "Project plan",
	"Status update", "Requirements", "Architecture", "Risk register", "Expense report", "Timesheet", "NDA",
	"Statement of work", "Press release", "Campaign brief", "Org chart", "Travel itinerary", "Inventory",
}

var docQualifiers = []string{"", "", "", " - draft", " v2", " v3", " final", " (signed)", " - copy", " - review", " FINAL", " old"}

// Extensions and their typical median size in bytes (sizes are log-normal
// around it) and MIME type.
type extInfo struct {
	ext    string
	median float64
	mime   string
	weight int
}

var docExts = []extInfo{
	{"docx", 45e3, "application/vnd.openxmlformats-officedocument.wordprocessingml.document", 30},
	{"xlsx", 60e3, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", 22},
	{"pptx", 2.5e6, "application/vnd.openxmlformats-officedocument.presentationml.presentation", 12},
	{"pdf", 600e3, "application/pdf", 18},
	{"txt", 4e3, "text/plain", 4},
	{"csv", 120e3, "text/csv", 4},
	{"zip", 15e6, "application/zip", 3},
	{"msg", 90e3, "application/vnd.ms-outlook", 3},
	{"one", 300e3, "application/msonenote", 1},
	{"vsdx", 200e3, "application/vnd.ms-visio.drawing.main+xml", 1},
	{"md", 6e3, "text/markdown", 1},
	{"json", 20e3, "application/json", 1},
}

var mediaExts = []extInfo{
	{"jpg", 2.5e6, "image/jpeg", 60},
	{"png", 800e3, "image/png", 25},
	{"heic", 1.8e6, "image/heic", 10},
	{"mp4", 60e6, "video/mp4", 5},
}

var extMime = func() map[string]string {
	m := map[string]string{}
	for _, e := range docExts {
		m[e.ext] = e.mime
	}
	for _, e := range mediaExts {
		m[e.ext] = e.mime
	}
	return m
}()
