-- The four layers of the warehouse. raw: as delivered; ops: ledgers;
-- core: one row per real-world thing; mart: what analysts and CRMs read.
CREATE SCHEMA IF NOT EXISTS raw;
CREATE SCHEMA IF NOT EXISTS ops;
CREATE SCHEMA IF NOT EXISTS core;
CREATE SCHEMA IF NOT EXISTS mart;
