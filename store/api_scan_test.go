package store

import (
	"slices"
	"strings"
	"sync"
	"testing"

	"gorm.io/gorm/schema"

	"github.com/overshare/overshare/models"
)

// The hand-written column lists must name every column the row type maps, in the order of the
// scan destinations: a field added to a model and not here would read as its zero value.
func TestAPIColumnListsCoverTheModels(t *testing.T) {
	for _, c := range []struct {
		model   any
		columns string
		fields  int
	}{
		{&models.DriveItem{}, itemColumns, len(itemFields(&models.DriveItem{}))},
		{&models.Permission{}, permissionColumns, len(permissionFields(&models.Permission{}))},
		{&models.User{}, userColumns, len(userFields(&models.User{}))},
		{&models.Drive{}, driveColumns, len(driveFields(&models.Drive{}))},
	} {
		sch, err := schema.Parse(c.model, &sync.Map{}, schema.NamingStrategy{})
		if err != nil {
			t.Fatal(err)
		}
		var want []string
		for _, f := range sch.Fields {
			if f.DBName != "" {
				want = append(want, f.DBName)
			}
		}
		var got []string
		for _, col := range strings.Split(c.columns, ",") {
			col = strings.TrimSpace(col)
			got = append(got, col[strings.Index(col, ".")+1:])
		}
		if !slices.Equal(got, want) {
			t.Errorf("%s: columns\n%v\nwant (the model's fields, in order)\n%v", sch.Table, got, want)
		}
		if c.fields != len(want) {
			t.Errorf("%s: %d scan destinations for %d columns", sch.Table, c.fields, len(want))
		}
	}
}
