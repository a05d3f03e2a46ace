package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"

	"github.com/overshare/overshare/internal/config"
	"github.com/overshare/overshare/models"
	"github.com/overshare/overshare/msgraph"
	"github.com/overshare/overshare/store"
)

// runIntegrate connects a tenant: it checks the app registration's
// credential (a client secret, or a certificate with its key) against Graph,
// stores the integration (the credential encrypted) and prints its id, alone,
// on stdout. Neither ever comes from a flag value, where it would show in the
// process list and shell history: files or the environment only.
func runIntegrate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("integrate", "--name N --tenant-id T --client-id C [--client-secret-file F | --certificate-file PEM]",
		"Connects a Microsoft 365 tenant: checks the app registration's credential, a client secret or a\n"+
			"certificate, against Microsoft Graph, stores the integration (the credential encrypted) and\n"+
			"prints its id, alone, on stdout.\n"+
			"The database must exist (`overshare migrate` creates it) unless --create-database is given.", config.Integrate, stdout)
	var (
		name       = fs.String("name", "", "a name for the tenant, shown in the dashboard")
		tenantID   = fs.String("tenant-id", "", "Directory (tenant) ID of the app registration")
		clientID   = fs.String("client-id", "", "Application (client) ID of the app registration")
		secretFile = fs.String("client-secret-file", "", "file holding the client secret (default: $OVERSHARE_CLIENT_SECRET)")
		certFile   = fs.String("certificate-file", "", "PEM file holding the app's certificate and its unencrypted private key, instead of a secret")
		create     = fs.Bool("create-database", false, "create the database when there is none yet (as `overshare migrate` would)")
	)
	if err := fs.parseNoArgs(args); err != nil {
		return err
	}
	var missing []string
	for _, f := range []struct{ flag, value string }{{"--name", *name}, {"--tenant-id", *tenantID}, {"--client-id", *clientID}} {
		if strings.TrimSpace(f.value) == "" {
			missing = append(missing, f.flag)
		}
	}
	if len(missing) > 0 {
		return usageErrorf("missing %s", strings.Join(missing, ", "))
	}
	if *secretFile != "" && *certFile != "" {
		return usageErrorf("give --client-secret-file or --certificate-file, not both")
	}
	env, err := config.Load(config.Integrate, os.Getenv)
	if err != nil {
		return err
	}
	cred, err := readCredential(*secretFile, *certFile, env.ClientSecret)
	if err != nil {
		return err
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	// The database first: a wrong one is found before Microsoft is asked anything.
	st, err := openExisting(ctx, env, log, stderr, "--create-database", *create)
	if err != nil {
		return err
	}
	defer st.Close()

	gcfg := graphEndpoints(env)
	gcfg.TenantID, gcfg.ClientID = strings.TrimSpace(*tenantID), strings.TrimSpace(*clientID)
	gcfg.ClientSecret, gcfg.Certificate = cred.Secret, cred.Certificate
	gcfg.Version, gcfg.Logger = currentVersion(), log
	gc, err := msgraph.New(ctx, gcfg)
	if err != nil {
		return fmt.Errorf("the credentials do not work: %s", graphMessage(err))
	}
	if err := gc.CheckCredentials(ctx); err != nil {
		return fmt.Errorf("the credentials do not work: %s", graphMessage(err))
	}

	in := &models.Integration{Name: strings.TrimSpace(*name), TenantID: gcfg.TenantID, ClientID: gcfg.ClientID}
	if err := st.CreateIntegrationWithCredential(ctx, in, cred); err != nil {
		return err
	}
	_, err = fmt.Fprintln(stdout, in.ID)
	return err
}

// readCredential reads the certificate PEM when certFile is given (OVERSHARE_CLIENT_SECRET is
// then not used), else the client secret as readSecret does.
func readCredential(secretFile, certFile, secretFromEnv string) (store.Credential, error) {
	if certFile == "" {
		secret, err := readSecret(secretFile, secretFromEnv)
		return store.Credential{Secret: secret}, err
	}
	b, err := os.ReadFile(certFile)
	if err != nil {
		return store.Credential{}, fmt.Errorf("read certificate file: %w", err)
	}
	if len(strings.TrimSpace(string(b))) == 0 {
		return store.Credential{}, fmt.Errorf("certificate file %s is empty", certFile)
	}
	return store.Credential{Certificate: b}, nil
}

// readSecret takes the client secret from a file, else from OVERSHARE_CLIENT_SECRET
// (fromEnv).
func readSecret(file, fromEnv string) (string, error) {
	if file != "" {
		b, err := os.ReadFile(file)
		if err != nil {
			return "", fmt.Errorf("read client secret file: %w", err)
		}
		s := strings.TrimSpace(string(b))
		if s == "" {
			return "", fmt.Errorf("client secret file %s is empty", file)
		}
		return s, nil
	}
	if fromEnv != "" {
		return fromEnv, nil
	}
	return "", errors.New("no client secret: set OVERSHARE_CLIENT_SECRET or pass --client-secret-file")
}

// graphMessage is a Graph error as an administrator should read it.
func graphMessage(err error) string {
	var ge *msgraph.Error
	if errors.As(err, &ge) && ge.Message != "" {
		return ge.Message
	}
	return err.Error()
}
