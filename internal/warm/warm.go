// Package warm exists only to pull every third-party dependency into go.mod
// and the build cache in one step; it is removed once real packages import them.
package warm

import (
	_ "github.com/99designs/gqlgen/graphql/handler"
	_ "github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	_ "github.com/coreos/go-oidc/v3/oidc"
	_ "github.com/glebarez/sqlite"
	_ "github.com/go-jose/go-jose/v4"
	_ "github.com/jackc/pgx/v5/pgxpool"
	_ "github.com/microsoftgraph/msgraph-sdk-go"
	_ "github.com/microsoftgraph/msgraph-sdk-go-core"
	_ "github.com/microsoft/kiota-authentication-azure-go"
	_ "github.com/prometheus/client_golang/prometheus"
	_ "github.com/riverqueue/river"
	_ "github.com/riverqueue/river/riverdriver/riverdatabasesql"
	_ "github.com/riverqueue/river/riverdriver/riverpgxv5"
	_ "github.com/riverqueue/river/riverdriver/riversqlite"
	_ "gorm.io/driver/postgres"
	_ "gorm.io/gorm"
)
