-- One row per request, written from `crm.intake.request.created.v1`.
-- Replays of a request (the same event delivered again, or re-published with a new ce_id) share the
-- sorting key (tenant_id, day, request_id) and collapse into one row when parts merge; until then
-- queries read with FINAL / uniqExact(request_id), so they are right before any merge happens.
-- The version column keeps the latest ingested copy.
-- Statements end with a `;` at the end of a line (the runner splits on that); each is idempotent
-- (IF NOT EXISTS), because ClickHouse DDL is not transactional and a half-applied file is re-run.
CREATE TABLE IF NOT EXISTS requests
(
    event_id String,
    tenant_id String,
    request_id String,
    created_at DateTime('UTC'),
    day Date,
    channel LowCardinality(String),
    number_axis LowCardinality(String),
    meaning_axis LowCardinality(String),
    contact_axis LowCardinality(String),
    qualification_axis LowCardinality(String),
    state LowCardinality(String),
    utm_source String,
    utm_medium String,
    utm_campaign String,
    utm_content String,
    utm_term String,
    landing_page String,
    referrer String,
    ingested_at DateTime('UTC')
)
ENGINE = ReplacingMergeTree(ingested_at)
PARTITION BY toYYYYMM(day)
ORDER BY (tenant_id, day, request_id);
