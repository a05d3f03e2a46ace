// Package graph is Overshare's GraphQL API: the gqlgen executable schema generated from
// schema/*.graphqls (one file per domain, whose resolvers are in <domain>.resolvers.go), thin
// resolvers over store/ and the services in services.go, the @hasRole
// directive, dataloaders, and the request limits. HTTP and websocket transports are added by
// package server.
package graph

import (
	"errors"
	"log/slog"

	"github.com/99designs/gqlgen/graphql/handler"
	"github.com/99designs/gqlgen/graphql/handler/extension"
	"github.com/99designs/gqlgen/graphql/handler/lru"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/overshare/overshare/events"
	"github.com/overshare/overshare/store"
)

// Options holds what the API needs. Store and Events are required; a nil service disables the
// mutations that need it.
type Options struct {
	Store       *store.Store
	Events      events.Bus
	Syncer      Syncer
	Sharing     Sharing
	Credentials CredentialChecker
	Logger      *slog.Logger
	Limits      Limits // zero fields take DefaultLimits
	// Introspection enables __schema and __type (for the ADMIN role).
	Introspection bool
}

// Resolver is the root resolver.
type Resolver struct {
	store   *store.Store
	bus     events.Bus
	syncer  Syncer
	sharing Sharing
	creds   CredentialChecker
	log     *slog.Logger
}

// New returns the GraphQL handler without transports: the caller adds them (POST, websocket).
func New(cfg Options) (*handler.Server, error) {
	if cfg.Store == nil || cfg.Events == nil {
		return nil, errors.New("graph: a store and an event bus are required")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	limits := cfg.Limits
	if limits.MaxTokens == 0 {
		limits.MaxTokens = DefaultLimits.MaxTokens
	}
	if limits.MaxDepth == 0 {
		limits.MaxDepth = DefaultLimits.MaxDepth
	}
	if limits.MaxFields == 0 {
		limits.MaxFields = DefaultLimits.MaxFields
	}
	if limits.MaxComplexity == 0 {
		limits.MaxComplexity = DefaultLimits.MaxComplexity
	}
	r := &Resolver{
		store: cfg.Store, bus: cfg.Events, syncer: cfg.Syncer, sharing: cfg.Sharing,
		creds: cfg.Credentials, log: cfg.Logger,
	}
	es := NewExecutableSchema(Config{
		Resolvers:  r,
		Directives: DirectiveRoot{HasRole: hasRole},
		Complexity: newComplexity(),
	})
	srv := handler.New(es)
	srv.SetParserTokenLimit(limits.MaxTokens)
	cache := lru.New[*ast.QueryDocument](1000)
	srv.SetQueryCache(cache)
	srv.SetValidationRulesFn(validationRules)
	srv.SetErrorPresenter(ErrorPresenter(cfg.Logger))
	srv.SetRecoverFunc(Recover(cfg.Logger))
	srv.SetDisableSuggestion(true)
	if cfg.Introspection {
		srv.Use(extension.Introspection{})
	}
	srv.Use(&limitsExtension{limits: limits, cache: cache, introspection: cfg.Introspection})
	srv.AroundOperations(r.withLoaders)
	srv.AroundFields(markResolverErrors)
	return srv, nil
}
