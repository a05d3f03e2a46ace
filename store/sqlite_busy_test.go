package store

import (
	"database/sql"
	"errors"
	"path/filepath"
	"testing"
)

// The first connection to a SQLite file retries while another process holds
// the lock: sqliteBusy must recognise the driver's real answer, and nothing else.
func TestSQLiteBusyRecognisesTheDriversError(t *testing.T) {
	path := filepath.Join(t.TempDir(), "busy.db")
	open := func() *sql.DB {
		db, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(0)")
		if err != nil {
			t.Fatal(err)
		}
		db.SetMaxOpenConns(1)
		t.Cleanup(func() { db.Close() })
		return db
	}
	holder, other := open(), open()
	if _, err := holder.Exec(`CREATE TABLE t (x integer)`); err != nil {
		t.Fatal(err)
	}
	tx, err := holder.Begin()
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	if _, err := tx.Exec(`INSERT INTO t VALUES (1)`); err != nil {
		t.Fatal(err)
	}
	_, err = other.Exec(`INSERT INTO t VALUES (2)`)
	if err == nil {
		t.Fatal("a second writer got the lock while the first held it")
	}
	if !sqliteBusy(err) {
		t.Fatalf("sqliteBusy(%v) = false for the driver's busy error", err)
	}
	if sqliteBusy(errors.New("SQLITE_BUSY in a message is not the code")) || sqliteBusy(sql.ErrConnDone) {
		t.Fatal("sqliteBusy accepted an error without the driver's code")
	}
}
