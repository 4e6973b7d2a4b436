// Package warehouse owns the DuckDB file: opening it, versioned migrations, the
// Arrow loads into raw.*, and the ops ledgers (loads, rejects, checkpoints).
//
// Layers: raw.<feed>_<entity> holds rows as delivered, typed by the feed
// contract, with lineage (_load_id, _source, _ingested_at). ops.* holds the
// ledgers. core.* and mart.* are created empty here and filled by transforms.
//
// Guarantees of Load:
//   - One load is one DuckDB transaction: its rows, its rejects, its ops.loads
//     row and its checkpoint (file md5 or stream offsets) commit together or
//     not at all. A crash at any point followed by a rerun neither loses nor
//     duplicates a row.
//   - rows in = rows loaded + rows rejected, checked before commit.
//   - A file delivered again under the same name with a new md5 is a
//     correction: the earlier load's rows are deleted in the same transaction
//     and that load is marked superseded.
//   - Entities with a unique key (ebank events) keep the first copy of each
//     key; later copies, from the stream or an archive, become duplicate_key
//     rejects that name where the kept copy came from.
//
// Ways out of the live file: Snapshot writes a consistent read-only copy
// (the mart only, for analysts, or every schema) that OpenSnapshot opens
// locked down for untrusted readers, and pgserve serves over the Postgres
// wire protocol; Export writes core and mart as Parquet in Hive partitions.
//
// DuckDB lets one process hold the file; this package opens one connector per
// process and every caller shares it.
package warehouse
