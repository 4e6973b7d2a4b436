-- Each party's open signals (mart.signals, status open or updated), best
-- first, as the 360 view and the cdp.profile summary carry them: the CRM
-- reads the customer whole, with what cdp is asking the RM to do and why.
CREATE OR REPLACE VIEW mart.party_open_signals AS
SELECT party_id,
       list(struct_pack(rule_id := rule_id, kind := kind, priority := priority, score := round(score, 1),
                        reason := reason, reason_zh := reason_zh, opened_on := opened_on, expires_on := expires_on)
            ORDER BY score DESC, rule_id) AS open_signals
FROM mart.signals WHERE status IN ('open', 'updated')
GROUP BY party_id;
