-- core.holding: the holdings of the newest snapshot day. A client absent
-- from it holds nothing.
-- kind: derived
SELECT * FROM core.holding_daily WHERE as_of_date = (SELECT max(as_of_date) FROM core.holding_daily)
