// Package archtest checks the architecture that DESIGN.md describes against the code.
package archtest

import (
	"bufio"
	"errors"
	"go/build"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// root is the repository, two folders up from this package.
const root = "../.."

// row is one line of DESIGN.md's package table.
type row struct {
	folder string          // "graphsim/tenant"
	allow  map[string]bool // packages of this module it may import, by folder
	any    bool            // "everything"
}

// TestImportsFollowTheDesignTable fails when a package imports a package of this module that
// its row of DESIGN.md's package table ("may import") does not name, when a package has no
// row, or when a row names a folder without a package. A package belongs to the row of the
// longest folder that holds it and may import anything under that folder. Only the imports of
// non-test files count: tests may use the simulator and the test database anywhere.
func TestImportsFollowTheDesignTable(t *testing.T) {
	module := modulePath(t)
	pkgs := packages(t, module)
	rows := designTable(t, pkgs)
	for _, r := range rows {
		if !slices.ContainsFunc(pkgs, func(p pkg) bool { return within(p.folder, r.folder) }) {
			t.Errorf("DESIGN.md's package table names %s/, which holds no Go package", r.folder)
		}
	}
	for _, p := range pkgs {
		r, ok := owner(rows, p.folder)
		if !ok {
			t.Errorf("%s has no row in DESIGN.md's package table: add one with what it owns and may import", p.folder)
			continue
		}
		for _, imp := range p.imports {
			if r.any || within(imp, r.folder) || r.allow[imp] {
				continue
			}
			t.Errorf("%s imports %s, which DESIGN.md's package table does not allow for %s/ (may import: %s)",
				p.folder, imp, r.folder, strings.Join(keys(r.allow), ", "))
		}
	}
}

type pkg struct {
	folder  string   // relative to the repository, "." for the root
	imports []string // this module's packages it imports, as folders
}

// packages lists every package of the module with the module's packages its non-test files
// import, as go/build sees them (build constraints applied).
func packages(t *testing.T, module string) []pkg {
	t.Helper()
	var out []pkg
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() {
			return nil
		}
		name := d.Name()
		if path != root && (strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_") || name == "testdata" || name == "node_modules") {
			return filepath.SkipDir
		}
		bp, err := build.ImportDir(path, 0)
		var noGo *build.NoGoError
		if errors.As(err, &noGo) {
			return nil
		}
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(root, path)
		if err != nil {
			return err
		}
		p := pkg{folder: filepath.ToSlash(rel)}
		for _, imp := range bp.Imports {
			if folder, ok := strings.CutPrefix(imp, module+"/"); ok {
				p.imports = append(p.imports, folder)
			}
		}
		out = append(out, p)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(out) < 10 {
		t.Fatalf("found only %d packages under %s", len(out), root)
	}
	return out
}

// designTable reads the package table of DESIGN.md. In the "may import" column, entries are
// separated by commas and named by their first word; those that name a package of this module
// are what the row allows ("graph (types only)" allows graph), "everything" allows all, and
// the rest (stdlib, gorm, SDK ...) are outside this check.
func designTable(t *testing.T, pkgs []pkg) []row {
	t.Helper()
	f, err := os.Open(filepath.Join(root, "DESIGN.md"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	known := map[string]bool{}
	for _, p := range pkgs {
		known[p.folder] = true
	}
	var rows []row
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, "| `") {
			continue
		}
		cols := strings.Split(line, "|")
		if len(cols) != 5 {
			t.Fatalf("DESIGN.md: a package table row needs 3 columns: %s", line)
		}
		r := row{folder: strings.TrimSuffix(strings.Trim(strings.TrimSpace(cols[1]), "`"), "/"), allow: map[string]bool{}}
		for _, entry := range strings.Split(cols[3], ",") {
			word, _, _ := strings.Cut(strings.TrimSpace(entry), " ")
			word = strings.TrimSuffix(strings.Trim(word, "`"), "/")
			switch {
			case word == "everything":
				r.any = true
			case known[word]:
				r.allow[word] = true
			}
		}
		rows = append(rows, r)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if len(rows) < 10 {
		t.Fatalf("DESIGN.md's package table has only %d rows", len(rows))
	}
	return rows
}

// owner is the row of the longest folder that holds folder.
func owner(rows []row, folder string) (row, bool) {
	var best row
	found := false
	for _, r := range rows {
		if within(folder, r.folder) && (!found || len(r.folder) > len(best.folder)) {
			best, found = r, true
		}
	}
	return best, found
}

// within reports whether folder is dir or below it.
func within(folder, dir string) bool {
	return folder == dir || strings.HasPrefix(folder, dir+"/")
}

func modulePath(t *testing.T) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(root, "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(data), "\n") {
		if m, ok := strings.CutPrefix(line, "module "); ok {
			return strings.TrimSpace(m)
		}
	}
	t.Fatal("go.mod names no module")
	return ""
}

func keys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
