-- core.aum_daily: AUM per party and day, split into deposits and
-- investments; a party with nothing on a day has no row.
-- kind: aggregate
-- scope: (as_of_date IN (SELECT as_of_date FROM cdp_aum_days) OR party_id IN (SELECT party_id FROM cdp_aum_parties))
--
-- Its own incremental logic: a sum per party and day, which a new holding
-- or a wealth or core banking record moving between parties changes without any row of it
-- being replaced. An incremental build sums again the days that got
-- holdings and the parties records moved between ({scope}).
SELECT party_id, as_of_date,
       sum(amount_cny) AS aum,
       coalesce(sum(amount_cny) FILTER (product_type IN ('DEMAND', 'TIME_DEPOSIT', 'LARGE_CD')), 0) AS deposits,
       coalesce(sum(amount_cny) FILTER (product_type NOT IN ('DEMAND', 'TIME_DEPOSIT', 'LARGE_CD')), 0) AS investments,
       count(*) AS holdings,
       -- The earliest opening date of the day's holdings (customer since).
       min(open_date) AS first_open_date
FROM core.holding_daily
WHERE party_id IS NOT NULL AND {scope}
GROUP BY party_id, as_of_date
-- incremental:
-- (A replaced version has its new version's day: the day is in the key.)
CREATE OR REPLACE TEMP TABLE cdp_aum_days AS SELECT DISTINCT as_of_date FROM cdp_new_holding_daily;
CREATE OR REPLACE TEMP TABLE cdp_aum_parties AS
SELECT party_id FROM cdp_moved_from WHERE system IN ('wealth', 'core_banking') AND party_id IS NOT NULL
UNION
SELECT party_id FROM cdp_moved WHERE system IN ('wealth', 'core_banking') AND party_id IS NOT NULL;
DELETE FROM core.aum_daily WHERE {scope};
INSERT INTO core.aum_daily {definition};
