package config

import (
	"errors"
	"fmt"
	"net/url"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/parser"
)

// Problem is one thing wrong in a configuration file.
type Problem struct {
	File   string
	Line   int    // 0 when unknown
	Source string // source name, or "#N" for an unnamed one; "" for top level
	Field  string // YAML key; "" for the file as a whole
	Msg    string
}

func (p Problem) Error() string {
	var b strings.Builder
	b.WriteString(p.File)
	if p.File == "" {
		b.WriteString("config")
	}
	if p.Line > 0 {
		b.WriteString(":" + strconv.Itoa(p.Line))
	}
	b.WriteString(": ")
	if p.Source != "" {
		b.WriteString("source " + p.Source + ": ")
	}
	if p.Field != "" {
		b.WriteString(p.Field + ": ")
	}
	b.WriteString(p.Msg)
	return b.String()
}

// Problems is every problem found in one file; Parse returns it as its error.
type Problems []Problem

func (ps Problems) Error() string {
	msgs := make([]string, len(ps))
	for i, p := range ps {
		msgs[i] = p.Error()
	}
	return strings.Join(msgs, "\n")
}

// secretKey matches keys that would hold credentials. The file may name a
// profile; keys stay in ~/.aws or the SSO cache, never here.
var secretKey = regexp.MustCompile(`(?i)(access_?key|secret|session_?token|password|passwd|credential|private_?key|api_?key|^token$)`)

var nameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]*$`)

// Parse reads a configuration from data; file names it in messages and
// anchors relative paths (its folder; the working folder when file is "").
func Parse(file string, data []byte) (*Config, error) {
	f, err := parser.ParseBytes(data, 0)
	if err != nil {
		return nil, yamlProblem(file, err)
	}
	lines := map[string]int{}
	var ps Problems
	for _, doc := range f.Docs {
		walk(doc.Body, "", lines, func(path string, line int, key string) {
			if secretKey.MatchString(key) {
				ps = append(ps, Problem{File: file, Line: line, Field: path,
					Msg: "credentials do not belong in the configuration; name a profile (profile: NAME) and keep keys in the AWS config or SSO cache"})
			}
		})
	}
	if len(ps) > 0 {
		return nil, ps
	}
	if len(f.Docs) > 1 {
		return nil, Problems{{File: file, Msg: "the configuration is one YAML document; found several"}}
	}
	cfg := &Config{}
	if err := yaml.UnmarshalWithOptions(data, cfg, yaml.Strict()); err != nil {
		return nil, yamlProblem(file, err)
	}
	cfg.Path = file
	for i := range cfg.Sources {
		cfg.Sources[i].Line = lines[fmt.Sprintf("sources[%d]", i)]
	}
	if ps := cfg.validate(lines); len(ps) > 0 {
		return nil, ps
	}
	return cfg, nil
}

// walk calls fn for every mapping key under n with its path (db,
// sources[0].url) and line, and records the line of every path.
func walk(n ast.Node, path string, lines map[string]int, fn func(path string, line int, key string)) {
	switch n := n.(type) {
	case *ast.MappingNode:
		for _, mv := range n.Values {
			walk(mv, path, lines, fn)
		}
	case *ast.MappingValueNode:
		tk := n.Key.GetToken()
		key := tk.Value
		p := key
		if path != "" {
			p = path + "." + key
		}
		lines[p] = tk.Position.Line
		fn(p, tk.Position.Line, key)
		walk(n.Value, p, lines, fn)
	case *ast.SequenceNode:
		for i, v := range n.Values {
			p := fmt.Sprintf("%s[%d]", path, i)
			if v != nil && v.GetToken() != nil {
				lines[p] = v.GetToken().Position.Line
			}
			walk(v, p, lines, fn)
		}
	case *ast.TagNode:
		walk(n.Value, path, lines, fn)
	case *ast.AnchorNode:
		walk(n.Value, path, lines, fn)
	}
}

// yamlProblem turns a go-yaml error into a Problem with its line.
func yamlProblem(file string, err error) error {
	var ye yaml.Error
	if errors.As(err, &ye) {
		p := Problem{File: file, Msg: ye.GetMessage()}
		if tk := ye.GetToken(); tk != nil {
			p.Line = tk.Position.Line
		}
		var unknown *yaml.UnknownFieldError
		if errors.As(err, &unknown) {
			p.Msg = strings.Replace(p.Msg, "unknown field", "unknown key", 1) +
				" (known: db, sources; in a source: name, kind, url, cluster, instance, resource_id, mode, format, line_prefix, region, profile, endpoint, path_style)"
		}
		return Problems{p}
	}
	return Problems{{File: file, Msg: err.Error()}}
}

func (c *Config) validate(lines map[string]int) Problems {
	var ps Problems
	base := "."
	if c.Path != "" {
		base = filepath.Dir(c.Path)
	}
	add := func(src string, idx int, field, format string, args ...any) {
		path := field
		if idx >= 0 {
			path = fmt.Sprintf("sources[%d].%s", idx, field)
		}
		line, ok := lines[path]
		if !ok && idx >= 0 {
			line = lines[fmt.Sprintf("sources[%d]", idx)]
		}
		ps = append(ps, Problem{File: c.Path, Line: line, Source: src, Field: field, Msg: fmt.Sprintf(format, args...)})
	}

	if c.DB != "" {
		db, err := localPath(base, c.DB)
		if err != nil {
			add("", -1, "db", "%v", err)
		}
		c.DB = db
	}

	seen := map[string]int{}
	for i := range c.Sources {
		s := &c.Sources[i]
		src := strconv.Quote(s.Name)
		if s.Name == "" {
			src = fmt.Sprintf("#%d", i+1)
			add(src, i, "name", "missing")
		} else if !nameRE.MatchString(s.Name) {
			add(src, i, "name", "use letters, digits, '.', '_' and '-' (it is typed as --source NAME)")
		} else if first, dup := seen[s.Name]; dup {
			add(src, i, "name", "duplicate of the source on line %d", c.Sources[first].Line)
		} else {
			seen[s.Name] = i
		}

		switch s.Kind {
		case KindDAS:
			if s.Format != "" {
				add(src, i, "format", "applies to pgaudit sources only")
			}
			if s.LinePrefix != "" {
				add(src, i, "line_prefix", "applies to pgaudit sources only")
			}
			switch s.Mode {
			case "", ModeSync, ModeAsync:
			default:
				add(src, i, "mode", "%q is not sync or async", s.Mode)
			}
			if s.ResourceID != "" && !strings.HasPrefix(s.ResourceID, "cluster-") && !strings.HasPrefix(s.ResourceID, "db-") {
				add(src, i, "resource_id", "%q is not a resource id (cluster-… or db-…); it is not the cluster name", s.ResourceID)
			}
		case KindPgAudit:
			if s.Mode != "" {
				add(src, i, "mode", "applies to das sources only")
			}
			if s.ResourceID != "" {
				add(src, i, "resource_id", "applies to das sources only")
			}
			switch s.Format {
			case "":
				s.Format = FormatAuto
			case FormatAuto, FormatStderr, FormatCSVLog, FormatJSONLog, FormatCloudWatch:
			default:
				add(src, i, "format", "%q is not auto, stderr, csvlog, jsonlog or cloudwatch", s.Format)
			}
			if s.LinePrefix == "" {
				s.LinePrefix = DefaultLinePrefix
			}
		case "":
			add(src, i, "kind", "missing (das or pgaudit)")
		default:
			add(src, i, "kind", "%q is not das or pgaudit", s.Kind)
		}

		if s.Cluster == "" {
			add(src, i, "cluster", "missing")
		}

		switch {
		case s.URL == "":
			add(src, i, "url", "missing (s3://bucket/prefix or a local folder or glob)")
		case s.URL == "-":
			add(src, i, "url", "standard input is not a source; use `auditlens ingest -`")
		case s.IsS3():
			if u, err := url.Parse(s.URL); err != nil || u.Host == "" || u.User != nil || u.RawQuery != "" {
				add(src, i, "url", "%q is not s3://bucket/prefix", s.URL)
			}
		case strings.Contains(s.URL, "://"):
			add(src, i, "url", "%q: only s3:// URLs and local paths are sources", s.URL)
		default:
			p, err := localPath(base, s.URL)
			if err != nil {
				add(src, i, "url", "%v", err)
			}
			s.URL = p
		}

		if s.Endpoint != "" {
			if !s.IsS3() {
				add(src, i, "endpoint", "applies to s3:// URLs only")
			} else if u, err := url.Parse(s.Endpoint); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
				add(src, i, "endpoint", "%q is not an http(s):// URL", s.Endpoint)
			} else if u.User != nil {
				add(src, i, "endpoint", "credentials do not belong in the configuration; remove them from the URL and name a profile")
			}
		}
		if s.PathStyle && !s.IsS3() {
			add(src, i, "path_style", "applies to s3:// URLs only")
		}
	}
	return ps
}

// localPath expands ~ and makes p absolute relative to base.
func localPath(base, p string) (string, error) {
	p, err := ExpandHome(p)
	if err != nil {
		return p, err
	}
	if !filepath.IsAbs(p) {
		p = filepath.Join(base, p)
	}
	return filepath.Abs(p)
}
