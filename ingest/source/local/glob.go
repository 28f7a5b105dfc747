package local

import (
	"path"
	"strings"
)

// validatePattern checks every segment of a slash-separated glob.
func validatePattern(pattern string) error {
	for _, seg := range strings.Split(pattern, "/") {
		if seg == "**" {
			continue
		}
		if _, err := path.Match(seg, ""); err != nil {
			return err
		}
	}
	return nil
}

// match reports whether key matches the glob; "**" matches zero or more
// whole segments.
func match(pattern, key string) bool {
	return matchSegs(strings.Split(pattern, "/"), strings.Split(key, "/"), false)
}

// matchPrefix reports whether some key below the folder dir could match.
func matchPrefix(pattern, dir string) bool {
	return matchSegs(strings.Split(pattern, "/"), strings.Split(dir, "/"), true)
}

// matchSegs matches name segments against pattern segments. With prefix set,
// it succeeds when names are used up while pattern segments remain (a folder
// whose contents might still match).
func matchSegs(pat, names []string, prefix bool) bool {
	for len(pat) > 0 {
		if pat[0] == "**" {
			for i := 0; i <= len(names); i++ {
				if matchSegs(pat[1:], names[i:], prefix) {
					return true
				}
			}
			return false
		}
		if len(names) == 0 {
			return prefix
		}
		if ok, _ := path.Match(pat[0], names[0]); !ok {
			return false
		}
		pat, names = pat[1:], names[1:]
	}
	return len(names) == 0
}

// escapeGlob quotes glob characters so a file name matches only itself.
func escapeGlob(name string) string {
	var b strings.Builder
	for _, r := range name {
		if strings.ContainsRune(`*?[\`, r) {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}
