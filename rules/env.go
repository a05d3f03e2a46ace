package rules

import (
	"fmt"
	"reflect"
	"regexp"
	"sync"
	"time"

	"cel.dev/cel-go/cel"
	"cel.dev/cel-go/common/types"
	"cel.dev/cel-go/common/types/ref"
	"cel.dev/cel-go/common/types/traits"
	"cel.dev/cel-go/ext"
	"cel.dev/cel-go/interpreter"
)

// The variables, by name and Go type; the CEL type of each is its Go type
// seen through cel-go's native types.
var variables = []struct {
	name string
	typ  reflect.Type
}{
	{"item", reflect.TypeFor[Item]()},
	{"permission", reflect.TypeFor[Permission]()},
	{"owner", reflect.TypeFor[Owner]()},
	{"drive", reflect.TypeFor[Drive]()},
	{"settings", reflect.TypeFor[Settings]()},
}

// environment is built once: every rule is checked against the same one.
var environment = sync.OnceValues(newEnv)

func newEnv() (*cel.Env, error) {
	opts := []cel.EnvOption{ext.NativeTypes(ext.ParseStructTags(true))}
	for _, v := range variables {
		opts = append(opts,
			ext.NativeTypes(v.typ, ext.ParseStructTags(true)),
			cel.Variable(v.name, cel.ObjectType("rules."+v.typ.Name())))
	}
	opts = append(opts,
		cel.Variable("now", cel.TimestampType),
		cel.Function("days", cel.Overload("days_int", []*cel.Type{cel.IntType}, cel.DurationType,
			cel.UnaryBinding(days))),
		cel.Function("matchesAny", cel.MemberOverload("string_matchesAny_list",
			[]*cel.Type{cel.StringType, cel.ListType(cel.StringType)}, cel.BoolType,
			cel.BinaryBinding(matchesAny))),
	)
	env, err := cel.NewEnv(opts...)
	if err != nil {
		return nil, fmt.Errorf("build the rules' CEL environment: %w", err)
	}
	return env, nil
}

func days(n ref.Val) ref.Val {
	d, ok := n.(types.Int)
	if !ok {
		return types.MaybeNoSuchOverloadErr(n)
	}
	return types.Duration{Duration: time.Duration(d) * 24 * time.Hour}
}

// patterns caches compiled case-insensitive patterns: a handful per
// integration, matched millions of times.
var patterns sync.Map // string → *regexp.Regexp, or error

func matchesAny(s, list ref.Val) ref.Val {
	str, ok := s.(types.String)
	if !ok {
		return types.MaybeNoSuchOverloadErr(s)
	}
	l, ok := list.(traits.Lister)
	if !ok {
		return types.MaybeNoSuchOverloadErr(list)
	}
	it := l.Iterator()
	for it.HasNext() == types.True {
		p, ok := it.Next().(types.String)
		if !ok {
			return types.MaybeNoSuchOverloadErr(list)
		}
		re, err := compilePattern(string(p))
		if err != nil {
			return types.WrapErr(err)
		}
		if re.MatchString(string(str)) {
			return types.True
		}
	}
	return types.False
}

func compilePattern(p string) (*regexp.Regexp, error) {
	if v, ok := patterns.Load(p); ok {
		if re, ok := v.(*regexp.Regexp); ok {
			return re, nil
		}
		return nil, v.(error)
	}
	re, err := regexp.Compile("(?i)" + p)
	if err != nil {
		err = fmt.Errorf("pattern %q is not a regular expression: %w", p, err)
		patterns.Store(p, err)
		return nil, err
	}
	patterns.Store(p, re)
	return re, nil
}

// activation hands the variables to a program. Each variable is wrapped
// for CEL once per item (and each permission once), not once per rule: the
// wrapping was a large part of an evaluation's allocations.
type activation struct {
	item, owner, drive, settings, now ref.Val
	perms                             []ref.Val
	perm                              ref.Val // nil for a rule about the item
}

func newActivation(adapter types.Adapter, in *Input) *activation {
	a := &activation{
		item: adapter.NativeToValue(&in.Item), owner: adapter.NativeToValue(&in.Owner),
		drive: adapter.NativeToValue(&in.Drive), settings: adapter.NativeToValue(&in.Settings),
		now: types.Timestamp{Time: in.Now}, perms: make([]ref.Val, len(in.Permissions)),
	}
	for i := range in.Permissions {
		a.perms[i] = adapter.NativeToValue(&in.Permissions[i])
	}
	return a
}

func (a *activation) ResolveName(name string) (any, bool) {
	switch name {
	case "item":
		return a.item, true
	case "permission":
		return a.perm, a.perm != nil
	case "owner":
		return a.owner, true
	case "drive":
		return a.drive, true
	case "settings":
		return a.settings, true
	case "now":
		return a.now, true
	}
	return nil, false
}

func (a *activation) Parent() interpreter.Activation { return nil }
