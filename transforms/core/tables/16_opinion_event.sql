-- core.opinion_event: public-opinion events about companies from the
-- external feed (舆情), one row per event: the delivery of the latest
-- business day (then the latest load) wins. The company is named by its
-- unified social credit code, resolved like core.company_financials'.
-- Rebuilt whole every build.
-- kind: derived
SELECT c.party_id, o.event_id, o.credit_code, o.event_date, o.media, o.sentiment, o.severity, o.topic, o.title,
       o.source_ref, o.load_id
FROM (
    SELECT x.event_id, upper(trim(x.credit_code)) AS credit_code, x.event_date, x.media, x.sentiment,
           x.severity, x.topic, x.title, x._source AS source_ref, x._load_id AS load_id
    FROM raw.external_opinion x
    QUALIFY row_number() OVER (PARTITION BY x.event_id ORDER BY {date:x} DESC, x._load_id DESC, x._source DESC) = 1
) o
LEFT JOIN core.company_code c ON c.org_code = substr(o.credit_code, 9, 9)
