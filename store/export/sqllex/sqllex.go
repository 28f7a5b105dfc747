// Package sqllex is a lexer for PostgreSQL statement text as it appears in
// audit logs. It exists so exports can redact string and numeric literals
// without guessing with regular expressions: it understands standard strings
// with ” escapes, E” strings with backslash escapes, U&” strings, B”/X”/N”
// strings, dollar quotes ($$…$$, $tag$…$tag$), quoted identifiers, line
// comments and nested block comments, numeric literals (decimals, exponents,
// 0x/0o/0b integers, digit-group underscores) and $n placeholders.
//
// Lexing is lossless (the tokens concatenate to the input) and never fails:
// unterminated strings, quotes and comments run to the end of the input.
// Statements are assumed to be logged with standard_conforming_strings on
// (the PostgreSQL default), where a backslash in '…' is an ordinary character.
//
// sqllex imports only the standard library.
package sqllex

import "strings"

// Kind classifies a token.
type Kind int

// Token kinds.
const (
	Space        Kind = iota // whitespace
	Comment                  // -- line or /* block */ comment
	Ident                    // unquoted identifier or keyword
	QuotedIdent              // "identifier" or U&"identifier"
	String                   // '…', E'…', U&'…', B'…', X'…', N'…'
	DollarString             // $$…$$ or $tag$…$tag$
	Number                   // 42, 3.14, 1e-3, 0x1F, 1_000
	Param                    // $1
	Operator                 // operators and punctuation
)

// IsLiteral reports whether tokens of this kind hold data values.
func (k Kind) IsLiteral() bool { return k == String || k == DollarString || k == Number }

// Token is one lexical element of a statement.
type Token struct {
	Kind Kind
	Text string // exactly as in the input
	Pos  int    // byte offset in the input
}

// Tokens splits s into tokens. Concatenating their Text gives s back.
func Tokens(s string) []Token {
	var out []Token
	for i := 0; i < len(s); {
		k, n := next(s, i)
		out = append(out, Token{Kind: k, Text: s[i : i+n], Pos: i})
		i += n
	}
	return out
}

// RedactLiterals replaces every string literal (including dollar-quoted ones)
// with '?' and every numeric literal with ?. Identifiers, quoted identifiers,
// comments, placeholders and operators are kept as they are.
func RedactLiterals(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); {
		k, n := next(s, i)
		switch k {
		case String, DollarString:
			b.WriteString("'?'")
		case Number:
			b.WriteString("?")
		default:
			b.WriteString(s[i : i+n])
		}
		i += n
	}
	return b.String()
}

// next returns the kind and byte length (at least 1) of the token at s[i:].
func next(s string, i int) (Kind, int) {
	c := s[i]
	switch {
	case isSpace(c):
		j := i + 1
		for j < len(s) && isSpace(s[j]) {
			j++
		}
		return Space, j - i
	case c == '-' && at(s, i+1) == '-':
		j := i + 2
		for j < len(s) && s[j] != '\n' && s[j] != '\r' {
			j++
		}
		return Comment, j - i
	case c == '/' && at(s, i+1) == '*':
		return Comment, blockComment(s, i)
	case c == '\'':
		return String, quoted(s, i+1, '\'', false) - i
	case c == '"':
		return QuotedIdent, quoted(s, i+1, '"', false) - i
	case c == '$':
		if isDigit(at(s, i+1)) {
			j := i + 1
			for j < len(s) && isDigit(s[j]) {
				j++
			}
			return Param, j - i
		}
		if n := dollarQuote(s, i); n > 0 {
			return DollarString, n
		}
		return Operator, 1
	case isDigit(c) || (c == '.' && isDigit(at(s, i+1))):
		return Number, number(s, i) - i
	case isIdentStart(c):
		// Prefixed strings: the prefix is one token with the quote.
		switch {
		case (c == 'E' || c == 'e') && at(s, i+1) == '\'':
			return String, quoted(s, i+2, '\'', true) - i
		case (c == 'B' || c == 'b' || c == 'X' || c == 'x' || c == 'N' || c == 'n') && at(s, i+1) == '\'':
			return String, quoted(s, i+2, '\'', false) - i
		case (c == 'U' || c == 'u') && at(s, i+1) == '&' && at(s, i+2) == '\'':
			return String, quoted(s, i+3, '\'', false) - i
		case (c == 'U' || c == 'u') && at(s, i+1) == '&' && at(s, i+2) == '"':
			return QuotedIdent, quoted(s, i+3, '"', false) - i
		}
		j := i + 1
		for j < len(s) && isIdentCont(s[j]) {
			j++
		}
		return Ident, j - i
	}
	return Operator, 1
}

// quoted returns the index just past the closing quote of a literal whose
// content starts at j; a doubled quote is an escaped quote, and with
// backslash set a backslash escapes the next byte. Unterminated: len(s).
func quoted(s string, j int, q byte, backslash bool) int {
	for j < len(s) {
		switch s[j] {
		case '\\':
			if backslash {
				j += 2
				continue
			}
		case q:
			if at(s, j+1) == q {
				j += 2
				continue
			}
			return j + 1
		}
		j++
	}
	return len(s)
}

// blockComment returns the length of the (nested) block comment at s[i:].
func blockComment(s string, i int) int {
	depth := 0
	j := i
	for j < len(s) {
		switch {
		case s[j] == '/' && at(s, j+1) == '*':
			depth++
			j += 2
		case s[j] == '*' && at(s, j+1) == '/':
			depth--
			j += 2
			if depth == 0 {
				return j - i
			}
		default:
			j++
		}
	}
	return len(s) - i
}

// dollarQuote returns the length of a dollar-quoted string at s[i:] ('$'),
// or 0 when s[i:] does not open one.
func dollarQuote(s string, i int) int {
	j := i + 1
	if j < len(s) && s[j] != '$' {
		if !isIdentStart(s[j]) {
			return 0
		}
		for j < len(s) && s[j] != '$' {
			if !isTagCont(s[j]) {
				return 0
			}
			j++
		}
	}
	if j >= len(s) {
		return 0
	}
	tag := s[i : j+1]
	end := strings.Index(s[j+1:], tag)
	if end < 0 {
		return len(s) - i
	}
	return j + 1 + end + len(tag) - i
}

// number returns the index just past the numeric literal at s[i:].
func number(s string, i int) int {
	if s[i] == '0' {
		var ok func(byte) bool
		switch at(s, i+1) {
		case 'x', 'X':
			ok = isHex
		case 'o', 'O':
			ok = func(c byte) bool { return c >= '0' && c <= '7' }
		case 'b', 'B':
			ok = func(c byte) bool { return c == '0' || c == '1' }
		}
		if ok != nil && (ok(at(s, i+2)) || at(s, i+2) == '_') {
			j := i + 2
			for j < len(s) && (ok(s[j]) || s[j] == '_') {
				j++
			}
			return j
		}
	}
	j := digits(s, i)
	if at(s, j) == '.' && at(s, j+1) != '.' { // "1..2" is not a decimal
		j = digits(s, j+1)
	}
	if e := at(s, j); e == 'e' || e == 'E' {
		k := j + 1
		if sg := at(s, k); sg == '+' || sg == '-' {
			k++
		}
		if isDigit(at(s, k)) {
			j = digits(s, k)
		}
	}
	return j
}

func digits(s string, j int) int {
	for j < len(s) && (isDigit(s[j]) || (s[j] == '_' && j > 0 && isDigit(s[j-1]) && isDigit(at(s, j+1)))) {
		j++
	}
	return j
}

// at returns s[i], or 0 past the end.
func at(s string, i int) byte {
	if i < len(s) {
		return s[i]
	}
	return 0
}

func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'
}
func isDigit(c byte) bool { return c >= '0' && c <= '9' }
func isHex(c byte) bool {
	return isDigit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')
}

// Identifier bytes follow PostgreSQL's scanner: any byte >= 0x80 counts as a
// letter, so multi-byte UTF-8 names lex as one identifier.
func isIdentStart(c byte) bool {
	return c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c >= 0x80
}
func isIdentCont(c byte) bool { return isIdentStart(c) || isDigit(c) || c == '$' }
func isTagCont(c byte) bool   { return isIdentStart(c) || isDigit(c) }
