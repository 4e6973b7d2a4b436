// Package transforms shapes the warehouse: identity unification into
// core.party, the core model, tags, value tiers, the 360° view and signal
// rules. It reads raw.* and core.* and writes core.* and mart.*; it never
// talks to a source or a broker.
//
// Sub-packages: identity (records → parties, stable ids, golden records,
// relationships), identity/match (the record-linkage engine, also behind
// `cdp link`) and identity/normal (identity value normalisers). Tags, tiers,
// the 360° view and signals land here with their issues.
package transforms
