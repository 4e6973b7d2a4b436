-- What the last event of each signal told the CRM: the reason (the
-- reason columns are the latest evaluation's, which may move every day).
ALTER TABLE mart.signals ADD COLUMN IF NOT EXISTS sent_reason VARCHAR;
ALTER TABLE mart.signals ADD COLUMN IF NOT EXISTS sent_reason_zh VARCHAR;
UPDATE mart.signals SET sent_reason = reason, sent_reason_zh = reason_zh WHERE sent_reason IS NULL;

-- Each party's open signals (mart.signals, status open or updated), best
-- first, as the 360 view and the cdp.profile summary carry them: the CRM
-- reads the customer whole, with what cdp is asking the RM to do and why.
-- Score and reason are those of the last event sent, so a party's profile
-- changes when a signal opens, rises or closes, not with every day's
-- evaluation.
CREATE OR REPLACE VIEW mart.party_open_signals AS
SELECT party_id,
       list(struct_pack(rule_id := rule_id, kind := kind, priority := priority, score := round(sent_score, 1),
                        reason := coalesce(sent_reason, reason), reason_zh := coalesce(sent_reason_zh, reason_zh),
                        opened_on := opened_on, expires_on := expires_on)
            ORDER BY sent_score DESC, rule_id) AS open_signals
FROM mart.signals WHERE status IN ('open', 'updated')
GROUP BY party_id;
