-- Late files already alerted (the daemon raises the alert hook once per
-- feed, entity and business day, across restarts).
CREATE TABLE ops.feed_alerts (
    feed         VARCHAR NOT NULL,
    entity       VARCHAR NOT NULL,
    business_day DATE NOT NULL,
    due          TIMESTAMPTZ NOT NULL,
    alerted_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (feed, entity, business_day)
);
