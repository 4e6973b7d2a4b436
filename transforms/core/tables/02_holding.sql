-- core.holding: the holdings of each system's newest snapshot day. A party
-- absent from it holds nothing there.
-- kind: derived
SELECT * FROM core.holding_daily
QUALIFY as_of_date = max(as_of_date) OVER (PARTITION BY system)
