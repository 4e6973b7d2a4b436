-- core.digital_event: every e-banking event. Ingest keeps one copy of an
-- event_id (later copies are duplicate_key rejects), so no version is
-- chosen here.
-- kind: unique
-- key: event_id
-- repoint: party_id = ebank.user_id
SELECT x.party_id, e.event_id, e.user_id, e.ts, e.channel, e.event_type, e.amount, e.currency,
       e.counterparty_name, e.counterparty_bank, e.cross_border, e.product_code,
       e._source AS source_ref, e._load_id AS load_id
FROM raw.ebank_events e
LEFT JOIN core.party_xref x ON x.system = 'ebank' AND x.source_key = e.user_id
WHERE {new:e}
