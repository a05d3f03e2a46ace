package devidp_test

import (
	"context"
	"log"
	"net/http"

	"github.com/overshare/overshare/auth"
	"github.com/overshare/overshare/auth/devidp"
)

// The demo's wiring: the provider and the API on one server, the provider under /oidc.
func Example() {
	ctx := context.Background()
	base := "http://127.0.0.1:8080"
	opts := devidp.DemoOptions(base+"/oidc", []string{base + "/", base + "/silent-renew.html"})
	idp, err := devidp.New(opts)
	if err != nil {
		log.Fatal(err)
	}
	// The in-process client lets the verifier discover the provider before the server listens.
	verifier, err := auth.NewVerifier(ctx, auth.Config{
		Issuer:     idp.Issuer(),
		Audience:   devidp.DemoAudience,
		HTTPClient: idp.HTTPClient(),
	})
	if err != nil {
		log.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/oidc/", idp)
	mux.Handle("/graphql", auth.Middleware(verifier, http.NotFoundHandler() /* the GraphQL handler */))
	// opts.Users and opts.Clients hold the passwords and secrets to show (demo.json).
	log.Fatal(http.ListenAndServe("127.0.0.1:8080", mux))
}
