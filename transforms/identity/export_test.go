package identity

// SetRowsPerPart sets how many raw rows a full run reads at once per GiB
// of DuckDB's memory, until the returned func puts it back.
func SetRowsPerPart(n int64) (restore func()) {
	was := rowsPerPart
	rowsPerPart = n
	return func() { rowsPerPart = was }
}
