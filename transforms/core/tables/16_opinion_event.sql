-- core.opinion_event: public-opinion events about companies from the
-- external feed (舆情), one row per event: a later delivery of an event
-- replaces an earlier one. The company is named by its unified social
-- credit code, resolved like core.company_financials'. Rebuilt whole every
-- build.
-- kind: derived
SELECT c.party_id, o.event_id, o.credit_code, o.event_date, o.media, o.sentiment, o.severity, o.topic, o.title,
       o.source_ref, o.load_id
FROM (
    SELECT event_id, upper(replace(replace(credit_code, '-', ''), ' ', '')) AS credit_code, event_date, media, sentiment,
           severity, topic, title, _source AS source_ref, _load_id AS load_id
    FROM raw.external_opinion
    QUALIFY row_number() OVER (PARTITION BY event_id ORDER BY _load_id DESC, _source DESC) = 1
) o
LEFT JOIN core.company_code c ON c.org_code = substr(o.credit_code, 9, 9)
