-- core.holding: the holdings of each system's newest snapshot day. A party
-- absent from it holds nothing there. (A join on each system's newest day,
-- not a window over every day's rows: the window held the whole history in
-- memory, 16M rows at 50k parties × 91 days.)
-- kind: derived
SELECT h.* FROM core.holding_daily h
JOIN (SELECT system, max(as_of_date) AS as_of_date FROM core.holding_daily GROUP BY system) n
  ON n.system IS NOT DISTINCT FROM h.system AND n.as_of_date = h.as_of_date
