// Package normal owns the canonical forms of identity values: resident
// identity numbers (GB 11643), company codes (unified social credit codes
// GB 32100, organisation codes GB 11714, business licence numbers), mobile
// and landline numbers, and person and company names.
//
// Source systems key these values the way Chinese bank systems really do:
// lower-case check characters, legacy 15-digit IDs, spaces and dashes, +86
// prefixes, full-width letters and brackets, traditional characters,
// 有限责任公司 for 有限公司, Latin transliterations. The functions here undo
// that noise and nothing else.
//
// Guarantees, relied on by identity unification:
//
//   - Pure and deterministic: the output depends only on the input string; no
//     I/O, no clock, no global state beyond read-only tables built at init.
//   - Never trusting: a code is Valid only when its check character (and, for
//     resident IDs, its birth date and region) is right. Invalid values are
//     returned cleaned, with a short Problem code saying why, never dropped
//     and never "repaired" by guessing.
//   - Idempotent: normalising an output again returns the same output.
//   - Allocation-light: no regular expressions; a value that is already
//     canonical is returned as the same string without allocating where the
//     shape allows it.
//
// Nothing here needs cgo or a database; the traditional→simplified table is
// embedded (see Simplify) and pinyin comes from github.com/mozillazg/go-pinyin.
package normal

// Problem codes shared by the normalisers. A Problem is "" when the value is
// valid.
const (
	ProblemEmpty         = "empty"               // nothing but blanks
	ProblemBadLength     = "bad_length"          // not a length the kind can have
	ProblemBadChar       = "bad_char"            // a character the kind does not allow
	ProblemBadCheck      = "bad_check"           // check character wrong
	ProblemBadBirthDate  = "bad_birth_date"      // resident ID: digits 7-14 not a date in 1900..2100
	ProblemBadRegion     = "bad_region"          // resident ID: region code 000000
	ProblemBadPrefix     = "bad_prefix"          // phone: 11 digits starting 10, 11 or 12
	ProblemForeign       = "foreign"             // phone: an international number other than +86
	ProblemBirthMismatch = "birth_date_mismatch" // CheckBirth: keyed birth date disagrees with the ID
)
