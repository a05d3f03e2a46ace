package rules

import (
	"fmt"
	"os"
	"testing"
	"time"

	"cel.dev/cel-go/cel"
)

// compareMaps times the built-in pack with the variables handed to CEL as
// the package does (native types) and as maps of values (a map per variable
// per item, built from the same structs), the alternative DESIGN weighed.
// The two alternate three times and the best of each is printed, so that a
// burst of the neighbours' work does not decide.
func compareMaps(b *testing.B, pool []Input) {
	native := builtinPack(b)
	programs := mapPrograms(b)
	best := [2]time.Duration{1 << 62, 1 << 62}
	for range 3 {
		best[0] = min(best[0], timed(func() { evaluateNative(b, native, pool) }))
		best[1] = min(best[1], timed(func() { evaluateMaps(b, programs, pool) }))
	}
	for i, name := range []string{"built-ins, native types, 1 worker", "built-ins, maps, 1 worker"} {
		fmt.Fprintf(os.Stdout, "%-34s %12.0f %12.2f   (best of 3)\n", name,
			float64(len(pool))/best[i].Seconds(), float64(best[i].Microseconds())/float64(len(pool)))
	}
}

func timed(f func()) time.Duration {
	start := time.Now()
	f()
	return time.Since(start)
}

func evaluateNative(b *testing.B, pack *Pack, pool []Input) {
	for i := range pool {
		if _, err := pack.Evaluate(&pool[i], nil); err != nil {
			b.Fatal(err)
		}
	}
}

func evaluateMaps(b *testing.B, programs []cel.Program, pool []Input) {
	for i := range pool {
		vars := asMaps(&pool[i])
		for _, prg := range programs {
			for _, p := range vars.perms {
				vars.act["permission"] = p
				if _, _, err := prg.Eval(vars.act); err != nil {
					b.Fatal(err)
				}
			}
		}
	}
}

func mapPrograms(b *testing.B) []cel.Program {
	opts := []cel.EnvOption{cel.Variable("now", cel.TimestampType),
		cel.Function("days", cel.Overload("days_int", []*cel.Type{cel.IntType}, cel.DurationType, cel.UnaryBinding(days))),
		cel.Function("matchesAny", cel.MemberOverload("string_matchesAny_list",
			[]*cel.Type{cel.StringType, cel.ListType(cel.StringType)}, cel.BoolType, cel.BinaryBinding(matchesAny)))}
	for _, v := range variables {
		opts = append(opts, cel.Variable(v.name, cel.MapType(cel.StringType, cel.DynType)))
	}
	env, err := cel.NewEnv(opts...)
	if err != nil {
		b.Fatal(err)
	}
	var out []cel.Program
	for _, r := range builtins {
		ast, iss := env.Compile(r.text)
		if iss.Err() != nil {
			b.Fatalf("%s: %v", r.id, iss.Err())
		}
		prg, err := env.Program(ast, cel.EvalOptions(cel.OptOptimize))
		if err != nil {
			b.Fatal(err)
		}
		out = append(out, prg)
	}
	return out
}

type mapVars struct {
	act   map[string]any
	perms []map[string]any
}

func asMaps(in *Input) mapVars {
	it, s := &in.Item, &in.Settings
	v := mapVars{act: map[string]any{
		"item": map[string]any{"id": it.ID, "driveId": it.DriveID, "name": it.Name, "path": it.Path,
			"size": it.Size, "isFolder": it.IsFolder, "mimeType": it.MimeType, "modifiedAt": it.ModifiedAt,
			"createdAt": it.CreatedAt, "itemsBelow": it.ItemsBelow, "sizeBelow": it.SizeBelow},
		"owner": map[string]any{"id": in.Owner.ID, "email": in.Owner.Email, "enabled": in.Owner.Enabled,
			"userType": in.Owner.UserType, "department": in.Owner.Department},
		"drive": map[string]any{"id": in.Drive.ID, "name": in.Drive.Name, "driveType": in.Drive.DriveType,
			"quotaUsed": in.Drive.QuotaUsed},
		"settings": map[string]any{"allowedDomains": s.AllowedDomains, "maxLinkDays": s.MaxLinkDays,
			"staleDays": s.StaleDays, "folderItemsBelow": s.FolderItemsBelow, "sensitivePatterns": s.SensitivePatterns},
		"now": in.Now,
	}}
	for i := range in.Permissions {
		p := &in.Permissions[i]
		v.perms = append(v.perms, map[string]any{"id": p.ID, "scope": p.Scope, "roles": p.Roles,
			"canEdit": p.CanEdit, "linkType": p.LinkType, "hasExpiry": p.HasExpiry, "expiresAt": p.ExpiresAt,
			"hasPassword": p.HasPassword, "inherited": p.Inherited, "granteeEmail": p.GranteeEmail,
			"granteeDomain": p.GranteeDomain, "granteeKind": p.GranteeKind, "domains": p.Domains,
			"guest": p.Guest, "external": p.External, "enabled": p.Enabled})
	}
	return v
}
