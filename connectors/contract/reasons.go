package contract

// Reject reasons: the closed set of codes stored in ops.rejects.reason. The
// detail column says which column and value; the code is what dashboards group by.
const (
	// ReasonMalformed: the row cannot be split into fields (wrong field count,
	// unbalanced quote, not a JSON object, a fixed-width line of another width).
	ReasonMalformed = "malformed_row"
	// ReasonEncoding: bytes that are not valid in the feed's declared encoding.
	ReasonEncoding = "bad_encoding"
	// ReasonMissing: a required value is empty, null or absent.
	ReasonMissing = "missing_required"
	// ReasonType: a number or boolean that does not parse as its column type.
	ReasonType = "bad_type"
	// ReasonDate: a date or timestamp that does not parse or does not exist.
	ReasonDate = "bad_date"
	// ReasonEnum: a value outside the contract's list for the column.
	ReasonEnum = "bad_enum"
	// ReasonSplitChar: a fixed-width column boundary falls inside a
	// multi-byte character.
	ReasonSplitChar = "split_character"
	// ReasonInvisible: an identifier (a key, a required code, an ID number
	// or a phone) holds a control or invisible character.
	ReasonInvisible = "invisible_character"
	// ReasonDuplicate: the entity's unique key was already loaded (stream
	// redelivery, or the same event in the stream and the archive).
	ReasonDuplicate = "duplicate_key"
	// ReasonUnknownSignal: the row answers a signal (a ce_id) cdp never
	// published.
	ReasonUnknownSignal = "unknown_signal"
	// ReasonUnknownParty: the row names a party (a party id or a source
	// system's key) the warehouse does not know.
	ReasonUnknownParty = "unknown_party"
	// ReasonValue: a value of the right type but outside what its column
	// can hold (a credit code of the wrong length, a severity above 5, a
	// negative balance-sheet total): a check of the contract.
	ReasonValue = "bad_value"
)

// Reasons lists every reject reason with its meaning, for docs and status.
var Reasons = []struct{ Code, Meaning string }{
	{ReasonMalformed, "the row cannot be split into the header's fields (field count, quoting, invalid JSON)"},
	{ReasonEncoding, "bytes that are not valid in the feed's encoding (e.g. a broken GBK sequence)"},
	{ReasonMissing, "a required value is empty, null or absent"},
	{ReasonType, "a number or boolean that does not parse as its column type"},
	{ReasonDate, "a date or timestamp that does not parse or does not exist"},
	{ReasonEnum, "a value outside the contract's list of values for the column"},
	{ReasonSplitChar, "a fixed-width column boundary falls inside a double-byte character (the widths or the encoding are wrong)"},
	{ReasonInvisible, "an identifier (a key, a required code, an ID number or a phone) holds a control or invisible character (zero-width space, BOM, no-break space …), which would make it silently differ from the same identifier elsewhere"},
	{ReasonDuplicate, "the unique key (ebank event_id) was already loaded from the stream or an archive"},
	{ReasonUnknownSignal, "the row answers a signal event (ce_id) cdp never published (a check of the contract)"},
	{ReasonUnknownParty, "the row names a party id or a source system's customer key the warehouse does not know (a check of the contract)"},
	{ReasonValue, "a value of the right type that its column cannot hold: a code of the wrong form, a number out of range (a check of the contract)"},
}
