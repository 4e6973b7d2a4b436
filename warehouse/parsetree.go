package warehouse

// EachNode calls f on every object of a parsed SQL tree (DuckDB's
// json_serialize_sql, unmarshalled into maps and slices), parents first.
func EachNode(n any, f func(map[string]any)) {
	switch v := n.(type) {
	case map[string]any:
		f(v)
		for _, c := range v {
			EachNode(c, f)
		}
	case []any:
		for _, c := range v {
			EachNode(c, f)
		}
	}
}
