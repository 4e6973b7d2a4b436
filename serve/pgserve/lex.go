package pgserve

import "strings"

// A token of SQL text, enough to read the first keywords of a statement
// and the short statements drivers send on their own. What a statement
// does is DuckDB's parser's call, not this lexer's.
type token struct {
	kind tokenKind
	text string // words lower-cased; quoted identifiers and strings without their quotes
	pos  int    // byte offset in the query
	end  int    // byte offset just after it
}

type tokenKind int

const (
	tokWord   tokenKind = iota // keyword or identifier
	tokIdent                   // "quoted identifier"
	tokString                  // 'string', E'string' or $$string$$
	tokNumber                  // 42, 1.5
	tokSymbol                  // any other character: ( ) = , ; . $
)

// lex reads at most limit tokens of query (all of them when limit < 0),
// skipping blanks and comments. complete is false when more tokens follow;
// a complete list has its trailing semicolons dropped.
func lex(query string, limit int) (toks []token, complete bool) {
	i := 0
	for {
		i = skipBlank(query, i)
		if i >= len(query) {
			break
		}
		if len(toks) == limit {
			return toks, false
		}
		t, next := lexOne(query, i)
		t.end = next
		toks = append(toks, t)
		i = next
	}
	for len(toks) > 0 && toks[len(toks)-1].kind == tokSymbol && toks[len(toks)-1].text == ";" {
		toks = toks[:len(toks)-1]
	}
	return toks, true
}

// skipBlank skips white space, -- comments and (nested) /* comments */.
func skipBlank(q string, i int) int {
	for i < len(q) {
		switch {
		case q[i] == ' ' || q[i] == '\t' || q[i] == '\n' || q[i] == '\r' || q[i] == '\f':
			i++
		case strings.HasPrefix(q[i:], "--"):
			end := strings.IndexByte(q[i:], '\n')
			if end < 0 {
				return len(q)
			}
			i += end + 1
		case strings.HasPrefix(q[i:], "/*"):
			depth := 0
			for i < len(q) {
				if strings.HasPrefix(q[i:], "/*") {
					depth, i = depth+1, i+2
				} else if strings.HasPrefix(q[i:], "*/") {
					depth, i = depth-1, i+2
					if depth == 0 {
						break
					}
				} else {
					i++
				}
			}
		default:
			return i
		}
	}
	return i
}

func lexOne(q string, i int) (token, int) {
	c := q[i]
	switch {
	case c == '\'':
		s, next := quoted(q, i, '\'')
		return token{kind: tokString, text: s, pos: i}, next
	case (c == 'e' || c == 'E') && i+1 < len(q) && q[i+1] == '\'':
		s, next := quoted(q, i+1, '\'')
		return token{kind: tokString, text: s, pos: i}, next
	case c == '"':
		s, next := quoted(q, i, '"')
		return token{kind: tokIdent, text: s, pos: i}, next
	case c == '$':
		if tag, ok := dollarTag(q, i); ok {
			body := q[i+len(tag):]
			end := strings.Index(body, tag)
			if end < 0 {
				return token{kind: tokString, text: body, pos: i}, len(q)
			}
			return token{kind: tokString, text: body[:end], pos: i}, i + len(tag) + end + len(tag)
		}
	case isWordStart(c):
		j := i + 1
		for j < len(q) && (isWordStart(q[j]) || isDigit(q[j]) || q[j] == '$') {
			j++
		}
		return token{kind: tokWord, text: strings.ToLower(q[i:j]), pos: i}, j
	case isDigit(c):
		j := i + 1
		for j < len(q) && (isDigit(q[j]) || q[j] == '.' || q[j] == '_') {
			j++
		}
		return token{kind: tokNumber, text: q[i:j], pos: i}, j
	}
	return token{kind: tokSymbol, text: string(c), pos: i}, i + 1
}

// quoted reads a literal opened by the quote at q[i]; a doubled quote is
// one quote character.
func quoted(q string, i int, quote byte) (string, int) {
	var b strings.Builder
	for j := i + 1; j < len(q); j++ {
		if q[j] != quote {
			b.WriteByte(q[j])
			continue
		}
		if j+1 < len(q) && q[j+1] == quote {
			b.WriteByte(quote)
			j++
			continue
		}
		return b.String(), j + 1
	}
	return b.String(), len(q)
}

// dollarTag is the $tag$ opening a dollar-quoted string at q[i], if any.
func dollarTag(q string, i int) (string, bool) {
	for j := i + 1; j < len(q); j++ {
		switch {
		case q[j] == '$':
			return q[i : j+1], true
		case !isWordStart(q[j]) && !(j > i+1 && isDigit(q[j])):
			return "", false
		}
	}
	return "", false
}

func isWordStart(c byte) bool {
	return c == '_' || c >= 0x80 || (c|0x20) >= 'a' && (c|0x20) <= 'z'
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }
