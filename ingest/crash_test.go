package ingest

import (
	"bufio"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/auditlens/auditlens/ingest/pgaudit"
	"github.com/auditlens/auditlens/ingest/source/local"
	"github.com/auditlens/auditlens/store"
)

// crashChildEnv makes the test binary act as a sync process (see TestMain-less
// helper pattern below): AUDITLENS_CRASH_CHILD=<db>|<dir>.
const crashChildEnv = "AUDITLENS_CRASH_CHILD"

func crashJob(t testing.TB, dir string) Job {
	src, err := local.New(dir)
	if err != nil {
		t.Fatal(err)
	}
	return Job{Name: "crash", Source: src, Decoder: PgAudit{Options: pgaudit.Options{Cluster: "orders-prod"}}}
}

// splitLog writes the corpus stderr log as many small objects, cut at record
// boundaries (a continuation line starts with TAB).
func splitLog(t *testing.T, dir string, perObject int) int {
	return splitLogTB(t, dir, perObject)
}

func splitLogTB(t testing.TB, dir string, perObject int) int {
	t.Helper()
	f, err := os.Open(filepath.Join(corpus, "pgaudit", "orders-prod", "postgresql.log.2026-11-25-11"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	var cur strings.Builder
	n, records := 0, 0
	flush := func() {
		if cur.Len() == 0 {
			return
		}
		p := filepath.Join(dir, fmt.Sprintf("part-%04d.log", n))
		if err := os.WriteFile(p, []byte(cur.String()), 0o600); err != nil {
			t.Fatal(err)
		}
		n++
		cur.Reset()
		records = 0
	}
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, "\t") {
			if records == perObject {
				flush()
			}
			records++
		}
		cur.WriteString(line)
		cur.WriteByte('\n')
	}
	flush()
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestCrashSafety kills a syncing process with SIGKILL at random points, then
// completes the sync, and finds every event exactly once.
func TestCrashSafety(t *testing.T) {
	if spec := os.Getenv(crashChildEnv); spec != "" {
		db, dir, _ := strings.Cut(spec, "|")
		st, err := store.Open(context.Background(), db, store.Options{})
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(3)
		}
		_, err = Run(context.Background(), st, []Job{crashJob(t, dir)}, Options{Workers: 2})
		_ = st.Close()
		if err != nil {
			os.Exit(1)
		}
		os.Exit(0)
	}
	dir := t.TempDir()
	objects := splitLog(t, dir, 4)
	if objects < 200 {
		t.Fatalf("only %d objects", objects)
	}
	// The reference: one clean run.
	ref := openStore(t)
	if _, err := Run(context.Background(), ref, []Job{crashJob(t, dir)}, Options{}); err != nil {
		t.Fatal(err)
	}
	want := scalar(t, ref, `SELECT count(*) FROM events`)

	db := filepath.Join(t.TempDir(), "crash.duckdb")
	rng := rand.New(rand.NewPCG(1, 2))
	kills := 0
	for i := 0; i < 12; i++ {
		cmd := exec.Command(os.Args[0], "-test.run=^TestCrashSafety$")
		cmd.Env = append(os.Environ(), crashChildEnv+"="+db+"|"+dir)
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Duration(30+rng.IntN(400)) * time.Millisecond)
		if err := cmd.Process.Signal(syscall.SIGKILL); err == nil {
			kills++
		}
		_ = cmd.Wait()
	}
	st, err := store.Open(context.Background(), db, store.Options{})
	if err != nil {
		t.Fatalf("reopen after %d kills: %v", kills, err)
	}
	t.Cleanup(func() { _ = st.Close() })
	before := scalar(t, st, `SELECT count(*) FROM objects`)
	if _, err := Run(context.Background(), st, []Job{crashJob(t, dir)}, Options{}); err != nil {
		t.Fatal(err)
	}
	t.Logf("%d kills; %d of %d objects were committed before the final run", kills, before, objects)
	if kills < 10 {
		t.Errorf("only %d kills landed", kills)
	}
	if got := scalar(t, st, `SELECT count(*) FROM events`); got != want {
		t.Errorf("events = %d, want %d", got, want)
	}
	if dup := scalar(t, st, `SELECT count(*) - count(DISTINCT object_ref) FROM events`); dup != 0 {
		t.Errorf("%d duplicate object_ref", dup)
	}
	if got := scalar(t, st, `SELECT count(*) FROM objects`); got != int64(objects) {
		t.Errorf("objects = %d, want %d", got, objects)
	}
	if got := scalar(t, st, `SELECT count(DISTINCT uri) FROM objects`); got != int64(objects) {
		t.Errorf("distinct object uris = %d, want %d", got, objects)
	}
	if orphans := scalar(t, st, `SELECT count(*) FROM events e WHERE NOT EXISTS (SELECT 1 FROM objects o WHERE o.object_id = e.object_id)`); orphans != 0 {
		t.Errorf("%d events without their object row", orphans)
	}
}
