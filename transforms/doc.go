// Package transforms shapes the warehouse: identity unification into
// core.party, the core model, tags, value tiers, the 360° view and signal
// rules. It reads raw.* and core.* and writes core.* and mart.*; it never
// talks to a source or a broker.
//
// It is empty until the unification stage lands (see the project issues);
// the folder exists so the layout the design names is in place from the
// start.
package transforms
