package config_test

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rogpeppe/go-internal/txtar"

	"github.com/auditlens/auditlens/internal/config"
)

// Each case is a pair of files: NAME.yaml is the configuration, NAME.want
// holds "ok" or one expected message fragment per line (every one must appear
// in the error).
const cases = `
-- design-example.yaml --
# as in DESIGN.md
db: ~/cases/acme.duckdb
sources:
  - name: orders-das
    kind: das
    url: s3://acme-das/orders/
    cluster: orders-prod
    resource_id: cluster-ABCDEFGHIJKLMNOPQRSTUVWXYZ
    mode: sync
    region: us-east-1
    profile: audit-readonly
  - name: orders-logs
    kind: pgaudit
    url: s3://acme-logs/orders/
    cluster: orders-prod
    format: auto
    line_prefix: "%t:%r:%u@%d:[%p]:"
-- design-example.want --
ok
-- minimal-local.yaml --
sources:
  - name: local.logs_1
    kind: pgaudit
    url: ./logs/**/postgresql.log.*
    cluster: c
    instance: c-1
  - name: minio
    kind: das
    url: s3://b
    cluster: c
    endpoint: http://127.0.0.1:9000
    path_style: true
-- minimal-local.want --
ok
-- empty.yaml --
# nothing yet
-- empty.want --
ok
-- unknown-top.yaml --
db: x.duckdb
alerts:
  - rule: superuser
-- unknown-top.want --
config.yaml:2: unknown key "alerts"
-- unknown-source-key.yaml --
sources:
  - name: a
    kind: das
    url: s3://b/p
    cluster: c
    bucket: b
-- unknown-source-key.want --
config.yaml:6: unknown key "bucket"
-- secrets.yaml --
sources:
  - name: a
    kind: das
    url: s3://b/p
    cluster: c
    aws_access_key_id: AKIAEXAMPLE
    aws_secret_access_key: wJalrXUtnFEMI
aws_session_token: x
-- secrets.want --
config.yaml:6: sources[0].aws_access_key_id: credentials do not belong
config.yaml:7: sources[0].aws_secret_access_key: credentials do not belong
config.yaml:8: aws_session_token: credentials do not belong
-- endpoint-userinfo.yaml --
sources:
  - name: a
    kind: das
    url: s3://b/p
    cluster: c
    endpoint: https://user:pass@minio.local
-- endpoint-userinfo.want --
config.yaml:6: source "a": endpoint: credentials do not belong
-- kinds.yaml --
sources:
  - name: a
    kind: cloudtrail
    url: s3://b/p
    cluster: c
  - name: b
    url: s3://b/p
    cluster: c
-- kinds.want --
config.yaml:3: source "a": kind: "cloudtrail" is not das or pgaudit
config.yaml:6: source "b": kind: missing
-- missing.yaml --
sources:
  - kind: das
  - name: x
    kind: pgaudit
    url: "-"
    cluster: c
-- missing.want --
config.yaml:2: source #1: name: missing
source #1: url: missing
source #1: cluster: missing
config.yaml:5: source "x": url: standard input is not a source
-- duplicates.yaml --
sources:
  - name: a
    kind: das
    url: s3://b/1
    cluster: c
  - name: a
    kind: das
    url: s3://b/2
    cluster: c
-- duplicates.want --
config.yaml:6: source "a": name: duplicate of the source on line 2
-- das-fields.yaml --
sources:
  - name: a
    kind: das
    url: s3://b/p
    cluster: c
    mode: fast
    format: csvlog
    resource_id: orders-prod
-- das-fields.want --
config.yaml:6: source "a": mode: "fast" is not sync or async
config.yaml:7: source "a": format: applies to pgaudit sources only
config.yaml:8: source "a": resource_id: "orders-prod" is not a resource id
-- pgaudit-fields.yaml --
sources:
  - name: a
    kind: pgaudit
    url: /var/log/pg
    cluster: c
    mode: sync
    format: syslog
    endpoint: http://x
    path_style: true
-- pgaudit-fields.want --
config.yaml:6: source "a": mode: applies to das sources only
config.yaml:7: source "a": format: "syslog" is not auto
config.yaml:8: source "a": endpoint: applies to s3:// URLs only
config.yaml:9: source "a": path_style: applies to s3:// URLs only
-- bad-url.yaml --
sources:
  - name: a
    kind: das
    url: https://b.s3.amazonaws.com/p
    cluster: c
  - name: "has space"
    kind: das
    url: s3:///nobucket
    cluster: c
-- bad-url.want --
config.yaml:4: source "a": url: "https://b.s3.amazonaws.com/p": only s3:// URLs and local paths
config.yaml:6: source "has space": name: use letters
config.yaml:8: source "has space": url: "s3:///nobucket" is not s3://bucket/prefix
-- syntax.yaml --
sources:
  - name: a
   kind: das
-- syntax.want --
config.yaml:3:
-- wrong-type.yaml --
sources: s3://b/p
-- wrong-type.want --
config.yaml:1:
`

func TestParse(t *testing.T) {
	home := t.TempDir()
	t.Setenv("HOME", home)
	dir := t.TempDir()
	file := filepath.Join(dir, "config.yaml")
	ar := txtar.Parse([]byte(cases))
	want := map[string]string{}
	for _, f := range ar.Files {
		if name, ok := strings.CutSuffix(f.Name, ".want"); ok {
			want[name] = strings.TrimSpace(string(f.Data))
		}
	}
	for _, f := range ar.Files {
		name, ok := strings.CutSuffix(f.Name, ".yaml")
		if !ok {
			continue
		}
		t.Run(name, func(t *testing.T) {
			w, ok := want[name]
			if !ok {
				t.Fatalf("no %s.want", name)
			}
			if err := os.WriteFile(file, f.Data, 0o600); err != nil {
				t.Fatal(err)
			}
			cfg, err := config.Load(file)
			if w == "ok" {
				if err != nil {
					t.Fatalf("Load: %v", err)
				}
				if cfg.Path != file {
					t.Errorf("Path = %q", cfg.Path)
				}
				return
			}
			if err == nil {
				t.Fatalf("Load succeeded, want:\n%s", w)
			}
			msg := strings.ReplaceAll(err.Error(), file, "config.yaml")
			for _, frag := range strings.Split(w, "\n") {
				if !strings.Contains(msg, frag) {
					t.Errorf("error lacks %q; got:\n%s", frag, msg)
				}
			}
			var ps config.Problems
			if !errors.As(err, &ps) {
				t.Errorf("error is %T, want config.Problems", err)
			}
		})
	}
}

func TestDefaultsAndPaths(t *testing.T) {
	home := t.TempDir()
	t.Setenv("HOME", home)
	dir := t.TempDir()
	file := filepath.Join(dir, "config.yaml")
	os.WriteFile(file, []byte(`
db: ~/cases/acme.duckdb
sources:
  - {name: das, kind: das, url: s3://b/p, cluster: c}
  - {name: logs, kind: pgaudit, url: ./logs/, cluster: c}
  - {name: home, kind: pgaudit, url: ~/pg/**/postgresql.log.*, cluster: c, format: csvlog}
`), 0o600)
	cfg, err := config.Load(file)
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(home, "cases", "acme.duckdb"); cfg.DB != want {
		t.Errorf("db = %q, want %q", cfg.DB, want)
	}
	das, _ := cfg.Lookup("das")
	if das.Mode != "" || das.URL != "s3://b/p" || !das.IsS3() || das.Line != 4 {
		t.Errorf("das source = %+v: mode must stay unset, url untouched, line 4", das)
	}
	logs, _ := cfg.Lookup("logs")
	if logs.URL != filepath.Join(dir, "logs") || logs.Format != config.FormatAuto || logs.LinePrefix != config.DefaultLinePrefix {
		t.Errorf("logs source = %+v: url relative to the config folder, format auto, RDS prefix", logs)
	}
	h, _ := cfg.Lookup("home")
	if h.URL != filepath.Join(home, "pg", "**", "postgresql.log.*") || h.Format != config.FormatCSVLog {
		t.Errorf("home source = %+v", h)
	}
	if _, ok := cfg.Lookup("nope"); ok {
		t.Error("Lookup of an unknown name succeeded")
	}
}

func TestDefaultPath(t *testing.T) {
	t.Setenv("HOME", "/home/ann")
	t.Setenv("XDG_CONFIG_HOME", "")
	if got := config.Default(); got != "/home/ann/.config/auditlens/config.yaml" {
		t.Errorf("Default() = %q", got)
	}
	t.Setenv("XDG_CONFIG_HOME", "/xdg")
	if got := config.Default(); got != "/xdg/auditlens/config.yaml" {
		t.Errorf("Default() with XDG_CONFIG_HOME = %q", got)
	}
	t.Setenv("XDG_CONFIG_HOME", "relative") // the spec says to ignore it
	if got := config.Default(); got != "/home/ann/.config/auditlens/config.yaml" {
		t.Errorf("Default() with a relative XDG_CONFIG_HOME = %q", got)
	}
}

func TestLoadMissing(t *testing.T) {
	t.Setenv("XDG_CONFIG_HOME", t.TempDir())
	_, err := config.Load("")
	if !errors.Is(err, fs.ErrNotExist) || !strings.Contains(err.Error(), config.Default()) {
		t.Errorf("Load of a missing default = %v, want fs.ErrNotExist naming %s", err, config.Default())
	}
}
