-- core.party_group: companies sharing a legal representative (a group under
-- one controller, 同一法定代表人), from the identity stage's relationships.
CREATE OR REPLACE VIEW core.party_group AS
SELECT r.party_id, 'LR:' || r.related_party_id AS group_id, count(*) OVER (PARTITION BY r.related_party_id) AS group_size
FROM core.party_relationship r
WHERE r.rel_type = 'legal_representative'
QUALIFY count(*) OVER (PARTITION BY r.related_party_id) > 1;
