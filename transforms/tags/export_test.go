package tags

// SetEventParts builds the tag-change events in n parts, whatever the
// budget, until the returned func puts it back.
func SetEventParts(n int64) (restore func()) {
	was := eventParts
	eventParts = n
	return func() { eventParts = was }
}
