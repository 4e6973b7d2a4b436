package signals

// SetCoverageParts builds the service coverage in n parts, whatever the
// budget, until the returned func puts it back.
func SetCoverageParts(n int64) (restore func()) {
	was := coverageParts
	coverageParts = n
	return func() { coverageParts = was }
}
