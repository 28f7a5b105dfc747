package ingest

import (
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/auditlens/auditlens/ingest/pgaudit"
	"github.com/auditlens/auditlens/ingest/source/local"
)

const pgBin = "/usr/lib/postgresql/15/bin"

// pgServer is a throwaway PostgreSQL 15 + pgaudit cluster on 127.0.0.1.
type pgServer struct {
	dir, logDir string
	port        int
	asPostgres  bool
}

func startPostgres(t *testing.T) *pgServer {
	t.Helper()
	_, errBin := os.Stat(filepath.Join(pgBin, "postgres"))
	libdir, _ := exec.Command(filepath.Join(pgBin, "pg_config"), "--pkglibdir").Output()
	_, errLib := os.Stat(filepath.Join(strings.TrimSpace(string(libdir)), "pgaudit.so"))
	if errBin != nil || errLib != nil {
		msg := "PostgreSQL 15 with pgaudit is not installed (apt-get install postgresql-15 postgresql-15-pgaudit; .ci/run does this)"
		if os.Getenv("CI") != "" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	s := &pgServer{dir: t.TempDir()}
	s.logDir = filepath.Join(s.dir, "log")
	// initdb and postgres refuse to run as root: use the postgres account then.
	if u, err := user.Current(); err == nil && u.Uid == "0" {
		s.asPostgres = true
		if out, err := exec.Command("chown", "-R", "postgres:postgres", s.dir).CombinedOutput(); err != nil {
			t.Fatalf("chown: %v %s", err, out)
		}
		// t.TempDir's parent must be traversable by postgres.
		_ = os.Chmod(filepath.Dir(s.dir), 0o755)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s.port = l.Addr().(*net.TCPAddr).Port
	l.Close()
	data := filepath.Join(s.dir, "data")
	s.run(t, filepath.Join(pgBin, "initdb"), "-D", data, "-A", "trust", "-U", "postgres", "--no-sync", "-E", "UTF8", "--locale", "C.UTF-8")
	conf := fmt.Sprintf(`
listen_addresses = '127.0.0.1'
port = %d
unix_socket_directories = '%s'
shared_preload_libraries = 'pgaudit'
logging_collector = on
log_destination = 'stderr,csvlog'
log_directory = '%s'
log_filename = 'postgresql.log.2026-11-25-11'
log_line_prefix = '%%t:%%r:%%u@%%d:[%%p]:'
log_connections = on
log_disconnections = on
log_timezone = 'UTC'
timezone = 'UTC'
pgaudit.log = 'all'
pgaudit.log_catalog = off
pgaudit.log_parameter = on
pgaudit.log_rows = off
fsync = off
`, s.port, s.dir, s.logDir)
	f, err := os.OpenFile(filepath.Join(data, "postgresql.conf"), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = f.WriteString(conf)
	f.Close()
	s.run(t, filepath.Join(pgBin, "pg_ctl"), "-D", data, "-w", "-l", filepath.Join(s.dir, "startup.log"), "start")
	t.Cleanup(func() { s.stop(t) })
	return s
}

func (s *pgServer) cmd(name string, args ...string) *exec.Cmd {
	if s.asPostgres {
		return exec.Command("runuser", append([]string{"-u", "postgres", "--", name}, args...)...)
	}
	return exec.Command(name, args...)
}

func (s *pgServer) run(t *testing.T, name string, args ...string) {
	t.Helper()
	if out, err := s.cmd(name, args...).CombinedOutput(); err != nil {
		t.Fatalf("%s %v: %v\n%s", name, args, err, out)
	}
}

func (s *pgServer) stop(t *testing.T) {
	_ = s.cmd(filepath.Join(pgBin, "pg_ctl"), "-D", filepath.Join(s.dir, "data"), "-w", "-m", "fast", "stop").Run()
}

// psql runs a script as user on db over TCP.
func (s *pgServer) psql(t *testing.T, user, db, script string) {
	t.Helper()
	conn := fmt.Sprintf("host=127.0.0.1 port=%d dbname=%s user='%s' application_name=e2e-test", s.port, db,
		strings.ReplaceAll(strings.ReplaceAll(user, `\`, `\\`), `'`, `\'`))
	c := exec.Command(filepath.Join(pgBin, "psql"), "-X", "-q", "-v", "ON_ERROR_STOP=0", conn)
	c.Stdin = strings.NewReader(script)
	if out, err := c.CombinedOutput(); err != nil {
		t.Fatalf("psql as %s: %v\n%s", user, err, out)
	}
}

// TestPgAuditEndToEnd runs a workload with awkward cases on a real server,
// ingests the stderr and csv logs it wrote, and compares with counts computed
// here from that run's csvlog with encoding/csv.
func TestPgAuditEndToEnd(t *testing.T) {
	s := startPostgres(t)
	s.psql(t, "postgres", "postgres", `
CREATE EXTENSION pgaudit;
CREATE ROLE "Weird, ""Quoted"" User" LOGIN;
CREATE ROLE "app:svc@prod" LOGIN;
CREATE TABLE notes (id serial PRIMARY KEY, body text, tags text);
GRANT ALL ON notes TO "Weird, ""Quoted"" User", "app:svc@prod";
GRANT USAGE ON SEQUENCE notes_id_seq TO "Weird, ""Quoted"" User", "app:svc@prod";
`)
	s.psql(t, `Weird, "Quoted" User`, "postgres", `
SELECT id,
       body
  FROM notes
 WHERE body LIKE '%,%';
PREPARE ins(text, text) AS INSERT INTO notes (body, tags) VALUES ($1, $2);
EXECUTE ins('a, b, "c"', E'line one\nline two\ttabbed');
EXECUTE ins('it''s', NULL);
EXECUTE ins(E'crlf\r\nend', '');
SELECT 1/0;
`)
	s.psql(t, "app:svc@prod", "postgres", `
BEGIN;
UPDATE notes SET tags = 'x' WHERE id = 1;
COMMIT;
DROP TABLE IF EXISTS nothing_here;
`)
	// A failed login.
	_ = exec.Command(filepath.Join(pgBin, "psql"), "-X", fmt.Sprintf("host=127.0.0.1 port=%d user=ghost dbname=postgres", s.port), "-c", "SELECT 1").Run()
	s.stop(t)

	csvPath := filepath.Join(s.logDir, "postgresql.log.2026-11-25-11.csv")
	wantTotal, wantByClass, wantDisc := countCSV(t, csvPath)
	if wantTotal < 15 {
		t.Fatalf("workload wrote only %d AUDIT records", wantTotal)
	}
	for _, name := range []string{"postgresql.log.2026-11-25-11", "postgresql.log.2026-11-25-11.csv"} {
		t.Run(name, func(t *testing.T) {
			st := openStore(t)
			src, err := local.New(filepath.Join(s.logDir, name))
			if err != nil {
				t.Fatal(err)
			}
			sum, err := Run(context.Background(), st, []Job{{Name: "e2e", Source: src, Decoder: PgAudit{Options: pgaudit.Options{Cluster: "e2e"}}}}, Options{})
			if err != nil {
				t.Fatal(err)
			}
			if tot := sum.Totals(); tot.Rejects != 0 {
				t.Errorf("rejects: %+v", sum.Sources[0].Problems)
			}
			if got := scalar(t, st, `SELECT count(*) FROM events WHERE audit_type IS NOT NULL`); got != wantTotal {
				t.Errorf("AUDIT records = %d, want %d", got, wantTotal)
			}
			for class, n := range wantByClass {
				if got := scalar(t, st, `SELECT count(*) FROM events WHERE audit_type IS NOT NULL AND class = ?`, class); got != n {
					t.Errorf("class %s = %d, want %d", class, got, n)
				}
			}
			if got := scalar(t, st, `SELECT count(*) FROM events WHERE command = 'DISCONNECT'`); got != wantDisc {
				t.Errorf("disconnections = %d, want %d", got, wantDisc)
			}
			if got := scalar(t, st, `SELECT count(*) FROM events WHERE user_name = 'Weird, "Quoted" User' AND audit_type IS NOT NULL`); got < 5 {
				t.Errorf("quoted user records = %d", got)
			}
			var params string
			if err := st.DB().QueryRow(`SELECT params::VARCHAR FROM events WHERE command = 'INSERT' AND params IS NOT NULL ORDER BY event_id LIMIT 1`).Scan(&params); err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(params, `a, b, "c"`) || !strings.Contains(params, "line one\nline two\ttabbed") {
				t.Errorf("parameters with commas, quotes and newlines = %q", params)
			}
			if got := scalar(t, st, `SELECT count(*) FROM events WHERE list_contains(params, 'crlf' || chr(13) || chr(10) || 'end')`); got != 1 {
				t.Errorf("CR LF inside a parameter was not kept (%d)", got)
			}
			if got := scalar(t, st, `SELECT count(*) FROM events WHERE class = 'CONNECT' AND error_message IS NOT NULL AND user_name = 'ghost'`); got < 1 {
				t.Errorf("failed login of ghost not recorded")
			}
			if got := scalar(t, st, `SELECT count(*) FROM events WHERE statement LIKE 'SELECT id,%' AND statement LIKE '%' || chr(10) || '  FROM notes%'`); got != 1 {
				t.Errorf("multi-line statement = %d", got)
			}
		})
	}
}

// countCSV counts AUDIT messages by class and disconnections in a csvlog.
func countCSV(t *testing.T, path string) (int64, map[string]int64, int64) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r := csv.NewReader(f)
	r.FieldsPerRecord = -1
	var total, disc int64
	byClass := map[string]int64{}
	for {
		rec, err := r.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		msg := rec[13]
		if strings.HasPrefix(msg, "disconnection: ") {
			disc++
		}
		if !strings.HasPrefix(msg, "AUDIT: ") {
			continue
		}
		fields, err := csv.NewReader(strings.NewReader(msg[len("AUDIT: "):])).Read()
		if err != nil {
			t.Fatalf("AUDIT payload %q: %v", msg, err)
		}
		if _, err := strconv.Atoi(fields[1]); err != nil {
			t.Fatalf("statement id in %q", msg)
		}
		total++
		byClass[fields[3]]++
	}
	return total, byClass, disc
}
