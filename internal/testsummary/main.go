// Command testsummary reads `go test -json` on stdin, prints the output of
// failing tests and package results as they finish, and ends with one line
// "N passed, N failed, N skipped". It exits non-zero when anything failed.
package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"sort"
	"strings"
)

type event struct {
	Action  string
	Package string
	Test    string
	Output  string
	Elapsed float64
}

func main() {
	os.Exit(summarize())
}

func summarize() int {
	var passed, failed, skipped int
	var failedNames []string
	buf := map[string]*strings.Builder{} // output per test (or package when Test is "")
	pkgFailed := map[string]bool{}
	sc := bufio.NewScanner(os.Stdin)
	sc.Buffer(make([]byte, 1024*1024), 16*1024*1024)
	for sc.Scan() {
		line := sc.Bytes()
		var e event
		if err := json.Unmarshal(line, &e); err != nil {
			// Build errors and other plain text come through as is.
			fmt.Println(string(line))
			continue
		}
		key := e.Package + "\x00" + e.Test
		switch e.Action {
		case "output":
			b := buf[key]
			if b == nil {
				b = &strings.Builder{}
				buf[key] = b
			}
			b.WriteString(e.Output)
		case "pass", "fail", "skip":
			if e.Test == "" {
				status := map[string]string{"pass": "ok  ", "fail": "FAIL", "skip": "skip"}[e.Action]
				if e.Action == "fail" {
					pkgFailed[e.Package] = true
					if b := buf[key]; b != nil {
						fmt.Print(b.String())
					}
				}
				fmt.Printf("%s %s %.1fs\n", status, e.Package, e.Elapsed)
				delete(buf, key)
				continue
			}
			switch e.Action {
			case "pass":
				passed++
			case "fail":
				failed++
				failedNames = append(failedNames, e.Package+"."+e.Test)
				if b := buf[key]; b != nil {
					fmt.Print(b.String())
				}
			case "skip":
				skipped++
			}
			delete(buf, key)
		}
	}
	if err := sc.Err(); err != nil {
		fmt.Fprintln(os.Stderr, "testsummary:", err)
		return 1
	}
	sort.Strings(failedNames)
	for _, n := range failedNames {
		fmt.Println("FAILED:", n)
	}
	// A package can fail without a failing test (build error, panic in init, timeout).
	pkgOnly := 0
	for p := range pkgFailed {
		found := false
		for _, n := range failedNames {
			if strings.HasPrefix(n, p+".") {
				found = true
				break
			}
		}
		if !found {
			pkgOnly++
			fmt.Println("FAILED package:", p)
		}
	}
	fmt.Printf("%d passed, %d failed, %d skipped\n", passed, failed+pkgOnly, skipped)
	if failed+pkgOnly > 0 {
		return 1
	}
	return 0
}
