-- One row per comment, written from `crm.intake.request.commented.v1` (no comment text: reports
-- count comments, they do not read them). A comment delivered twice collapses on the sorting key.
CREATE TABLE IF NOT EXISTS request_comments
(
    event_id String,
    tenant_id String,
    request_id String,
    comment_id String,
    author_id String,
    created_at DateTime('UTC'),
    day Date,
    ingested_at DateTime('UTC')
)
ENGINE = ReplacingMergeTree(ingested_at)
PARTITION BY toYYYYMM(day)
ORDER BY (tenant_id, day, request_id, comment_id);
