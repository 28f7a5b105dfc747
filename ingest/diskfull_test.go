package ingest

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/auditlens/auditlens/store"
)

const diskFullChildEnv = "AUDITLENS_DISKFULL_CHILD"

// TestDiskFullDuringSync runs a sync in a child process whose files may not
// grow past a few MB (RLIMIT_FSIZE: writes fail like on a full disk), checks
// it fails with a clear message, then re-runs without the limit and finds the
// case file consistent and complete.
func TestDiskFullDuringSync(t *testing.T) {
	if spec := os.Getenv(diskFullChildEnv); spec != "" {
		db, dir, _ := strings.Cut(spec, "|")
		// Without this the kernel kills the process at the limit instead of
		// failing the write, which is what a full disk does.
		signal.Ignore(syscall.SIGXFSZ)
		lim := &syscall.Rlimit{Cur: 3 << 20, Max: 3 << 20}
		if err := syscall.Setrlimit(syscall.RLIMIT_FSIZE, lim); err != nil {
			fmt.Fprintln(os.Stderr, "setrlimit:", err)
			os.Exit(3)
		}
		st, err := store.Open(context.Background(), db, store.Options{})
		if err != nil {
			fmt.Fprintln(os.Stderr, "open:", err)
			os.Exit(2)
		}
		_, err = Run(context.Background(), st, []Job{crashJob(t, dir)}, Options{Workers: 2})
		_ = st.Close()
		if err != nil {
			fmt.Fprintln(os.Stderr, "sync:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	dir := t.TempDir()
	// Repeat the corpus so the events need more room than the limit allows.
	for i := 0; i < 8; i++ {
		sub := filepath.Join(dir, fmt.Sprintf("batch%d", i))
		if err := os.MkdirAll(sub, 0o700); err != nil {
			t.Fatal(err)
		}
		splitLog(t, sub, 200)
	}
	ref := openStore(t)
	if _, err := Run(context.Background(), ref, []Job{crashJob(t, dir)}, Options{}); err != nil {
		t.Fatal(err)
	}
	want := scalar(t, ref, `SELECT count(*) FROM events`)

	db := filepath.Join(t.TempDir(), "full.duckdb")
	cmd := exec.Command(os.Args[0], "-test.run=^TestDiskFullDuringSync$")
	cmd.Env = append(os.Environ(), diskFullChildEnv+"="+db+"|"+dir)
	out, err := cmd.CombinedOutput()
	if err == nil {
		t.Fatalf("sync under a 3 MB file limit succeeded; the test data is too small:\n%s", out)
	}
	msg := string(out)
	if !strings.Contains(msg, "sync:") && !strings.Contains(msg, "open:") {
		t.Fatalf("child failed without a sync error:\n%s", msg)
	}
	if !strings.Contains(strings.ToLower(msg), "file too large") && !strings.Contains(strings.ToLower(msg), "no space") &&
		!strings.Contains(strings.ToLower(msg), "could not write") {
		t.Errorf("the error does not say the disk is full:\n%s", msg)
	}
	t.Logf("under the limit: %s", strings.TrimSpace(msg))

	st, err := store.Open(context.Background(), db, store.Options{})
	if err != nil {
		t.Fatalf("reopen after the failed sync: %v", err)
	}
	t.Cleanup(func() { _ = st.Close() })
	rep, err := st.VerifyChain(context.Background())
	if err != nil || !rep.OK() {
		t.Fatalf("case file inconsistent after the failure: %+v %v", rep.Problems, err)
	}
	if _, err := Run(context.Background(), st, []Job{crashJob(t, dir)}, Options{}); err != nil {
		t.Fatal(err)
	}
	if got := scalar(t, st, `SELECT count(*) FROM events`); got != want {
		t.Errorf("events after re-run = %d, want %d", got, want)
	}
	if dup := scalar(t, st, `SELECT count(*) - count(DISTINCT object_ref) FROM events`); dup != 0 {
		t.Errorf("%d duplicate object_ref", dup)
	}
	if rep, err := st.VerifyChain(context.Background()); err != nil || !rep.OK() {
		t.Errorf("verify after re-run: %+v %v", rep.Problems, err)
	}
}
