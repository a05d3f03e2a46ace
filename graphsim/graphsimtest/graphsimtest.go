// Package graphsimtest starts the Graph simulator for tests and gives the Graph client's
// settings that point at it, so that each test package does not keep its own copy.
package graphsimtest

import (
	"context"
	"testing"

	"github.com/overshare/overshare/graphsim"
	"github.com/overshare/overshare/msgraph"
)

// Start runs a simulator for the test and closes it when the test ends.
func Start(t testing.TB, opt graphsim.Options) *graphsim.Server {
	t.Helper()
	srv, err := graphsim.Start(context.Background(), opt)
	if err != nil {
		t.Fatalf("start simulator: %v", err)
	}
	t.Cleanup(func() { srv.Close() })
	return srv
}

// Endpoints are the Graph client's endpoints for the simulator (sign-in, Graph, its CA):
// what a syncer's or a sharing service's GraphDefaults hold.
func Endpoints(info graphsim.Info) msgraph.Config {
	return msgraph.Config{AuthorityURL: info.AuthorityHost, GraphURL: info.GraphBaseURL, CAFile: info.CAFile}
}

// Client is Endpoints with the simulated app's tenant, id and secret: a client that signs in.
func Client(info graphsim.Info) msgraph.Config {
	cfg := Endpoints(info)
	cfg.TenantID, cfg.ClientID, cfg.ClientSecret = info.TenantID, info.ClientID, info.ClientSecret
	return cfg
}
