// Package transforms shapes the warehouse: one package per stage. It reads
// raw.* and core.* and writes core.* and mart.*; it never talks to a source
// or a broker (events leave through cdp/outbox) and composes no DAG (that
// is cdp/pipeline's).
//
// Sub-packages: identity (records → parties, stable ids, golden records,
// relationships), identity/match (the record-linkage engine, also behind
// `cdp link`), identity/normal (identity value normalisers), core (the core
// model, and the business date), tags, tiers, view (mart.customer_360 and
// profile events), signals, and sqltext (the placeholders of their SQL).
package transforms
