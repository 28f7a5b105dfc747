package export

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/auditlens/auditlens/internal/version"
	"github.com/auditlens/auditlens/store"
)

// manifestSuffix names the manifest of an export: FILE.manifest.json.
const manifestSuffix = ".manifest.json"

// ManifestPath is where the manifest of an export file or set is written.
func ManifestPath(out string) string { return out + manifestSuffix }

// Manifest describes an export so a reader can check what it holds and that
// it is unchanged. It is written as FILE.manifest.json next to the export.
type Manifest struct {
	Tool    Tool      `json:"tool"`
	Created time.Time `json:"created"`
	Query   Query     `json:"query"`
	Format  Format    `json:"format"`
	// Redaction is none, params (the params column is empty) or literals
	// (also: string and numeric literals in statements replaced with '?' / ?).
	Redaction Redaction `json:"redaction"`
	// FormulaNeutralization: text cells starting with = + - @ TAB or CR were
	// prefixed with an apostrophe (CSV and XLSX).
	FormulaNeutralization bool     `json:"formula_neutralization"`
	BOM                   bool     `json:"bom,omitempty"`
	PartitionBy           []string `json:"partition_by,omitempty"`
	Columns               []string `json:"columns"`
	Rows                  int64    `json:"rows"`
	// TimeRange is the first and last log_time of the exported rows (absent
	// when there are none, or a SQL result has no log_time column).
	TimeRange *TimeRange `json:"time_range,omitempty"`
	Clusters  []string   `json:"clusters"`
	// Files are the export's files with paths relative to the manifest's folder.
	Files []FileEntry `json:"files"`
	// SourcesFrom says how Sources were found: "filter", "event_id" (a SQL
	// result's event_id column) or why none could be.
	SourcesFrom string         `json:"sources_from"`
	Sources     []SourceObject `json:"sources"`
	// RowsWithoutSource counts SQL result rows whose event_id matched no event.
	RowsWithoutSource int64       `json:"rows_without_source,omitempty"`
	Alterations       Alterations `json:"alterations"`
}

// Tool identifies the program that wrote the export.
type Tool struct {
	Name    string `json:"name"`
	Version string `json:"version"`
	Commit  string `json:"commit"`
}

// Query is what selected the rows: a filter (as typed, and structured) or SQL.
type Query struct {
	FilterText string        `json:"filter_text,omitempty"`
	Filter     *store.Filter `json:"filter,omitempty"`
	SQL        string        `json:"sql,omitempty"`
}

// TimeRange spans the log_time of exported rows.
type TimeRange struct {
	First time.Time `json:"first"`
	Last  time.Time `json:"last"`
}

// FileEntry is one file of an export.
type FileEntry struct {
	Path   string `json:"path"` // slash-separated, relative to the manifest's folder
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256"`
}

// SourceObject is an ingested object that contributed rows to the export.
type SourceObject struct {
	URI       string `json:"uri"`
	ETag      string `json:"etag,omitempty"`
	VersionID string `json:"version_id,omitempty"`
	SHA256    string `json:"sha256,omitempty"`
	Status    string `json:"status"` // ok | partial | quarantined, at ingest
	Events    int64  `json:"events"` // rows of the export from this object
}

// Alterations count the cells an export changed on purpose.
type Alterations struct {
	NeutralizedCells int64 `json:"neutralized_cells"`
	// CutCells (XLSX) were longer than Excel's 32,767 characters and end with
	// a marker naming their full length.
	CutCells int64 `json:"cut_cells"`
	// ReplacedCharacterCells (XLSX) held invalid UTF-8 or characters XML
	// cannot carry (NUL, other control characters), replaced with U+FFFD.
	ReplacedCharacterCells int64 `json:"replaced_character_cells"`
	Sheets                 int   `json:"sheets,omitempty"`
}

func newManifest(req Request) Manifest {
	m := Manifest{
		Tool:                  Tool{Name: "auditlens", Version: version.Version, Commit: version.Commit},
		Created:               time.Now().UTC(),
		Query:                 Query{FilterText: req.FilterText, Filter: req.Filter, SQL: req.SQL},
		Format:                req.Format,
		Redaction:             req.Redact,
		FormulaNeutralization: req.neutralize(),
		BOM:                   req.BOM,
		PartitionBy:           req.PartitionBy,
		Clusters:              []string{},
		Sources:               []SourceObject{},
	}
	if req.SQL != "" {
		m.Query.FilterText = ""
	}
	return m
}

// writeManifest writes m atomically with mode 0600.
func writeManifest(p string, m Manifest) (err error) {
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return fmt.Errorf("write manifest %s: %w", p, err)
	}
	b = append(b, '\n')
	f, err := os.CreateTemp(filepath.Dir(p), "."+filepath.Base(p)+".*.tmp")
	if err != nil {
		return fmt.Errorf("write manifest %s: %w", p, err)
	}
	defer func() {
		if err != nil {
			_ = f.Close()
			_ = os.Remove(f.Name())
		}
	}()
	if _, err = f.Write(b); err == nil {
		err = f.Sync()
	}
	if err == nil {
		err = f.Close()
	}
	if err == nil {
		err = os.Rename(f.Name(), p)
	}
	if err != nil {
		return fmt.Errorf("write manifest %s: %w", p, err)
	}
	syncDir(filepath.Dir(p))
	return nil
}

// ErrMismatch: an export does not match its manifest.
var ErrMismatch = errors.New("export does not match its manifest")

// FileCheck is the verification of one file.
type FileCheck struct {
	Path string `json:"path"`
	// Status is ok, changed (other size or SHA-256), missing, or unexpected
	// (a file in a partitioned set the manifest does not list).
	Status string `json:"status"`
	Want   string `json:"want_sha256,omitempty"`
	Got    string `json:"got_sha256,omitempty"`
}

// Result is the outcome of VerifyExport.
type Result struct {
	ManifestPath string      `json:"manifest"`
	Manifest     Manifest    `json:"-"`
	Files        []FileCheck `json:"files"`
	OK           bool        `json:"ok"`
}

// VerifyExport re-hashes the files of an export and compares them with its
// manifest. path is the export (file or partitioned directory) or its
// manifest. A mismatch returns the Result and an error wrapping ErrMismatch
// that names the files; other errors mean the check could not be made.
//
// The manifest is not signed: it proves the files are the ones it lists, not
// who wrote it. Keep it (or its hash) where the recipient can trust it.
func VerifyExport(p string) (Result, error) {
	mp := p
	if !strings.HasSuffix(p, manifestSuffix) {
		mp = p + manifestSuffix
	}
	res := Result{ManifestPath: mp}
	b, err := os.ReadFile(mp)
	if err != nil {
		return res, fmt.Errorf("read manifest %s: %w", mp, err)
	}
	if err := json.Unmarshal(b, &res.Manifest); err != nil {
		return res, fmt.Errorf("read manifest %s: %w", mp, err)
	}
	if len(res.Manifest.Files) == 0 {
		return res, fmt.Errorf("manifest %s lists no files", mp)
	}
	dir := filepath.Dir(mp)
	listed := map[string]bool{}
	var bad []string
	for _, fe := range res.Manifest.Files {
		if !safeRel(fe.Path) {
			return res, fmt.Errorf("manifest %s: file path %q leaves the export's folder", mp, fe.Path)
		}
		listed[fe.Path] = true
		fc := FileCheck{Path: fe.Path, Want: fe.SHA256, Status: "ok"}
		full := filepath.Join(dir, filepath.FromSlash(fe.Path))
		f, err := os.Open(full)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			fc.Status = "missing"
		case err != nil:
			return res, fmt.Errorf("verify %s: %w", full, err)
		default:
			sum, size, herr := hashReader(f, full)
			f.Close()
			if herr != nil {
				return res, herr
			}
			fc.Got = sum
			if sum != fe.SHA256 || size != fe.Size {
				fc.Status = "changed"
			}
		}
		if fc.Status != "ok" {
			bad = append(bad, fe.Path+" ("+fc.Status+")")
		}
		res.Files = append(res.Files, fc)
	}
	if len(res.Manifest.PartitionBy) > 0 {
		// A partitioned set is a directory: files added to it change what a
		// query over the set returns, so they are a mismatch too.
		root := strings.SplitN(res.Manifest.Files[0].Path, "/", 2)[0]
		_ = filepath.WalkDir(filepath.Join(dir, root), func(fp string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return nil
			}
			rel, _ := filepath.Rel(dir, fp)
			rel = filepath.ToSlash(rel)
			if !listed[rel] {
				res.Files = append(res.Files, FileCheck{Path: rel, Status: "unexpected"})
				bad = append(bad, rel+" (unexpected)")
			}
			return nil
		})
	}
	res.OK = len(bad) == 0
	if !res.OK {
		slices.Sort(bad)
		return res, fmt.Errorf("%w (%s): %s", ErrMismatch, mp, strings.Join(bad, ", "))
	}
	return res, nil
}

// safeRel accepts only relative, clean, slash-separated paths inside the
// manifest's folder, so a tampered manifest cannot point at other files.
func safeRel(p string) bool {
	if p == "" || strings.HasPrefix(p, "/") || strings.Contains(p, `\`) {
		return false
	}
	c := path.Clean(p)
	return c == p && c != "." && c != ".." && !strings.HasPrefix(c, "../")
}
