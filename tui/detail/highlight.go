package detail

import (
	"strings"

	"github.com/auditlens/auditlens/tui/theme"
)

// sqlKeywords are highlighted; a list, not a grammar: highlighting is a
// reading aid and must stay cheap on any input. Spaces delimit every word.
const sqlKeywords = " SELECT FROM WHERE AND OR NOT IN IS NULL AS ON JOIN LEFT RIGHT INNER OUTER FULL CROSS" +
	" GROUP BY ORDER HAVING LIMIT OFFSET UNION ALL DISTINCT INSERT INTO VALUES UPDATE SET DELETE" +
	" CREATE ALTER DROP TRUNCATE TABLE VIEW INDEX SCHEMA DATABASE SEQUENCE FUNCTION PROCEDURE TRIGGER" +
	" ROLE USER GRANT REVOKE TO WITH RETURNING CASE WHEN THEN ELSE END BEGIN COMMIT ROLLBACK" +
	" COPY EXPLAIN ANALYZE VACUUM IF EXISTS CASCADE PRIMARY KEY FOREIGN REFERENCES DEFAULT" +
	" LIKE ILIKE BETWEEN EXCEPT INTERSECT OWNER PASSWORD LOGIN SUPERUSER EXECUTE DO LANGUAGE "

func isKeyword(w string) bool {
	return len(w) >= 2 && len(w) <= 12 && strings.Contains(sqlKeywords, " "+strings.ToUpper(w)+" ")
}

// Highlight styles SQL keywords, quoted literals and -- comments of one line
// of already sanitized text. Unclosed quotes run to the end of the line.
func Highlight(t theme.Theme, line string) string {
	if t.NoColor {
		return line
	}
	var b strings.Builder
	i := 0
	for i < len(line) {
		c := line[i]
		switch {
		case c == '-' && strings.HasPrefix(line[i:], "--"):
			b.WriteString(t.Comment.Render(line[i:]))
			return b.String()
		case c == '\'':
			j := i + 1
			for j < len(line) && line[j] != '\'' {
				j++
			}
			j = min(j+1, len(line))
			b.WriteString(t.Literal.Render(line[i:j]))
			i = j
		case isWordByte(c):
			j := i
			for j < len(line) && isWordByte(line[j]) {
				j++
			}
			w := line[i:j]
			if isKeyword(w) {
				b.WriteString(t.Keyword.Render(w))
			} else {
				b.WriteString(w)
			}
			i = j
		default:
			j := i + 1
			for j < len(line) && !isWordByte(line[j]) && line[j] != '\'' && line[j] != '-' {
				j++
			}
			b.WriteString(line[i:j])
			i = j
		}
	}
	return b.String()
}

func isWordByte(c byte) bool {
	return c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
}
