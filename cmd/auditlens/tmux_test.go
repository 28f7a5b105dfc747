package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// auditlensBinary returns the built binary: $AUDITLENS_BIN (make test sets it),
// or one built into a temp folder.
func auditlensBinary(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("AUDITLENS_BIN"); p != "" {
		return p
	}
	out := filepath.Join(t.TempDir(), "auditlens")
	if b, err := exec.Command("go", "build", "-o", out, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, b)
	}
	return out
}

// TestExplorerInTmux starts the real binary in tmux on a case file made from
// the corpus, types a filter and reads the screen.
func TestExplorerInTmux(t *testing.T) {
	if _, err := exec.LookPath("tmux"); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("tmux is not installed (.ci/run installs it)")
		}
		t.Skip("tmux is not installed; apt-get install tmux to run the screen test")
	}
	bin := auditlensBinary(t)
	dir := t.TempDir()
	db := filepath.Join(dir, "case.duckdb")
	for _, c := range []string{"orders-prod", "billing-prod"} {
		cmd := exec.Command(bin, "ingest", "--db", db, "--kind", "pgaudit", "--cluster", c, "--progress=false",
			filepath.Join("..", "..", "testdata", "pgaudit", c, "postgresql.log.2026-11-25-11.csv"))
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("ingest: %v\n%s", err, out)
		}
	}
	want, err := exec.Command(bin, "sql", "--db", db, "--format", "csv",
		"SELECT count(*) FROM events WHERE user_name = 'analyst' AND database_name = 'reporting' AND NOT internal").Output()
	if err != nil {
		t.Fatal(err)
	}
	wantN := strings.TrimSpace(strings.Split(strings.TrimSpace(string(want)), "\n")[1])

	session := "auditlens-test-" + filepath.Base(dir)
	sock := filepath.Join(dir, "tmux.sock")
	tmux := func(args ...string) string {
		out, err := exec.Command("tmux", append([]string{"-S", sock}, args...)...).CombinedOutput()
		if err != nil {
			t.Fatalf("tmux %v: %v\n%s", args, err, out)
		}
		return string(out)
	}
	tmux("new-session", "-d", "-s", session, "-x", "160", "-y", "45", "env", "TZ=UTC", bin, "--db", db)
	t.Cleanup(func() { _ = exec.Command("tmux", "-S", sock, "kill-server").Run() })
	screen := func() string { return tmux("capture-pane", "-p", "-t", session) }
	waitFor := func(re *regexp.Regexp) string {
		t.Helper()
		deadline := time.Now().Add(20 * time.Second)
		var s string
		for time.Now().Before(deadline) {
			s = screen()
			if re.MatchString(s) {
				return s
			}
			time.Sleep(100 * time.Millisecond)
		}
		t.Fatalf("screen never showed %s:\n%s", re, s)
		return ""
	}
	// The explorer may open on the findings page (the corpus has high
	// findings); 1 goes to the events page either way.
	waitFor(regexp.MustCompile(`row 1 of \d+|findings │`))
	tmux("send-keys", "-t", session, "1")
	waitFor(regexp.MustCompile(`events │ row 1 of \d+`))
	tmux("send-keys", "-t", session, "/")
	tmux("send-keys", "-t", session, "-l", "user:analyst db:reporting")
	tmux("send-keys", "-t", session, "Enter")
	s := waitFor(regexp.MustCompile(`row 1 of ` + wantN + `\b`))
	lines := 0
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, " reporting ") && strings.Contains(l, "analyst") {
			lines++
		}
	}
	if lines == 0 {
		t.Errorf("no matching rows on screen:\n%s", s)
	}
	tmux("send-keys", "-t", session, "q")
}
