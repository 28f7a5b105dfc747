// Package config reads the auditlens configuration file: the case file (db)
// and the list of sources to sync. It owns the file's format, its default
// location, ~ expansion and validation; the messages it returns name the
// file, the line, the source and the field, ready to show to the user.
//
// It must not import ingest, store, tui or any AWS package: it only describes
// sources, cmd turns them into source.Source values.
package config

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// Source kinds.
const (
	KindDAS     = "das"
	KindPgAudit = "pgaudit"
)

// DAS modes.
const (
	ModeSync  = "sync"
	ModeAsync = "async"
)

// Log formats of pgaudit sources.
const (
	FormatAuto       = "auto"
	FormatStderr     = "stderr"
	FormatCSVLog     = "csvlog"
	FormatJSONLog    = "jsonlog"
	FormatCloudWatch = "cloudwatch"
)

// DefaultLinePrefix is the log_line_prefix of RDS and Aurora PostgreSQL, used
// when a pgaudit source does not give one.
const DefaultLinePrefix = "%t:%r:%u@%d:[%p]:"

// Config is one configuration file.
type Config struct {
	// Path is the file the configuration was read from ("" when parsed from
	// memory without a name).
	Path string `yaml:"-"`
	// DB is the case file, ~ expanded and made absolute (relative paths are
	// relative to the configuration file's folder). "" when not set: the
	// --db flag is then required.
	DB      string   `yaml:"db"`
	Sources []Source `yaml:"sources"`
	// EncryptionKeyEnv names an environment variable holding the passphrase of
	// an encrypted case file (the passphrase itself never goes in this file).
	// Without it, auditlens asks for the passphrase on the terminal.
	EncryptionKeyEnv string `yaml:"encryption_key_env"`
	// Findings configures the findings rules.
	Findings Findings `yaml:"findings"`
}

// Source is one entry of sources:.
type Source struct {
	// Name identifies the source in --source NAME, the store and messages.
	Name string `yaml:"name"`
	// Kind is das or pgaudit.
	Kind string `yaml:"kind"`
	// URL is s3://bucket/prefix, or a local folder or glob; a local path is
	// ~ expanded and made absolute (relative to the configuration file's
	// folder).
	URL string `yaml:"url"`
	// Cluster is the DB cluster (or instance) identifier the events belong to.
	Cluster string `yaml:"cluster"`
	// Instance optionally names the DB instance whose logs these are.
	Instance string `yaml:"instance"`

	// ResourceID (das) is the DbClusterResourceId used as the KMS encryption
	// context; "" means it is read from the object names.
	ResourceID string `yaml:"resource_id"`
	// Mode (das) is the activity stream mode, sync or async. "" means not
	// configured: sync asks the RDS API, and records it as unknown if that
	// fails. It is never guessed, because gap analysis depends on it.
	Mode string `yaml:"mode"`

	// Format (pgaudit) is auto, stderr, csvlog, jsonlog or cloudwatch
	// (default auto).
	Format string `yaml:"format"`
	// LinePrefix (pgaudit) is the server's log_line_prefix for stderr logs
	// (default DefaultLinePrefix).
	LinePrefix string `yaml:"line_prefix"`

	// Region and Profile select the AWS region and the shared-config profile
	// for S3 and KMS. Credentials themselves never appear in this file.
	Region  string `yaml:"region"`
	Profile string `yaml:"profile"`
	// Endpoint and PathStyle reach an S3-compatible store (s3:// URLs only).
	Endpoint  string `yaml:"endpoint"`
	PathStyle bool   `yaml:"path_style"`

	// Line is where the entry starts in the file, for messages.
	Line int `yaml:"-"`
}

// IsS3 reports whether the source is in S3.
func (s Source) IsS3() bool { return strings.HasPrefix(s.URL, "s3://") }

// Lookup returns the source with that name.
func (c *Config) Lookup(name string) (Source, bool) {
	for _, s := range c.Sources {
		if s.Name == name {
			return s, true
		}
	}
	return Source{}, false
}

// Default returns the default configuration path:
// $XDG_CONFIG_HOME/auditlens/config.yaml, else ~/.config/auditlens/config.yaml.
// It returns "" when neither can be determined.
func Default() string {
	if x := os.Getenv("XDG_CONFIG_HOME"); x != "" && filepath.IsAbs(x) {
		return filepath.Join(x, "auditlens", "config.yaml")
	}
	home, err := os.UserHomeDir()
	if err != nil || home == "" {
		return ""
	}
	return filepath.Join(home, ".config", "auditlens", "config.yaml")
}

// Load reads and validates the configuration at path (Default() when "").
// A missing file is an error wrapping fs.ErrNotExist, so that callers can
// treat an absent default file as an empty configuration.
func Load(path string) (*Config, error) {
	if path == "" {
		path = Default()
		if path == "" {
			return nil, errors.New("config: no home folder for the default configuration; use --config FILE")
		}
	}
	path, err := ExpandHome(path)
	if err != nil {
		return nil, fmt.Errorf("config %s: %w", path, err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("config %s: %w", path, fs.ErrNotExist)
		}
		return nil, fmt.Errorf("config: %w", err)
	}
	return Parse(path, data)
}

// ExpandHome replaces a leading "~" or "~/" with the user's home folder.
// "~user/" forms are not supported and returned unchanged.
func ExpandHome(p string) (string, error) {
	if p != "~" && !strings.HasPrefix(p, "~/") && !strings.HasPrefix(p, `~`+string(filepath.Separator)) {
		return p, nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return p, fmt.Errorf("expand %s: %w", p, err)
	}
	return filepath.Join(home, p[1:]), nil
}

// Findings is the findings: section: a file of user rules and the settings of
// the built-in rules (see auditlens findings --list).
type Findings struct {
	// Rules is a YAML file of user rules (overriding built-ins by id).
	Rules            string         `yaml:"rules"`
	WorkingHours     string         `yaml:"working_hours"`
	WorkingDays      []string       `yaml:"working_days"`
	TimeZone         string         `yaml:"time_zone"`
	SensitiveObjects []string       `yaml:"sensitive_objects"`
	BulkRows         *int64         `yaml:"bulk_rows"`
	Params           map[string]any `yaml:"params"`
}
