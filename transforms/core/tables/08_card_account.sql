-- core.card_account: every card account as in the latest snapshot it
-- appeared in; a supplementary card also names its primary holder's party.
-- kind: latest
-- key: card_account_id
-- newest: last_seen, load_id
-- repoint: party_id = card.holder_id
-- repoint: primary_party_id = card.primary_holder_id
SELECT x.party_id, p.party_id AS primary_party_id, a.card_account_id, a.holder_id, a.primary_holder_id,
       a.product_tier, a.credit_limit, a.open_date, a.status, a.card_last4,
       {date:a} AS last_seen, a._source AS source_ref, a._load_id AS load_id
FROM raw.card_accounts a
LEFT JOIN core.party_xref x ON x.system = 'card' AND x.source_key = a.holder_id
LEFT JOIN core.party_xref p ON p.system = 'card' AND p.source_key = a.primary_holder_id
WHERE {new:a}
