-- The DuckDB baseline of bench/bench.py: the same job as `aiobs summarize FILE --format json`.
--
-- `$path` is bound to the input file (plain JSONL, or .gz which read_ndjson decompresses itself).
-- bench.py runs the sections in order; each starts with a `-- name: <section>` line.
-- Percentiles use linear interpolation at (n - 1) * q (quantile_cont), like numpy's default.

-- name: requests
-- One row per request. Only the needed columns are read; malformed lines become all-NULL rows
-- (ignore_errors) and lines without a request_id are dropped.
CREATE TEMP TABLE req AS
SELECT
    request_id,
    -- End to end: the gateway event's latency, else the time envelope of the request's events. User
    -- feedback arrives minutes later and annotates the request: it is not part of its timeline.
    coalesce(
        max(latency_ms) FILTER (WHERE event = 'gateway'),
        (
            max(epoch_us(ts) + coalesce(latency_ms, 0) * 1000) FILTER (WHERE event IS DISTINCT FROM 'feedback')
            - min(epoch_us(ts)) FILTER (WHERE event IS DISTINCT FROM 'feedback')
        ) / 1000.0
    ) AS e2e_ms,
    sum(input_tokens) AS input_tokens,
    sum(output_tokens) AS output_tokens,
    -- Failed: any event with status 'error', an HTTP status >= 400, or an `error` event.
    coalesce(bool_or(status = 'error' OR try_cast(status AS INTEGER) >= 400 OR event = 'error'), false) AS is_error,
    -- The model of the request's last LLM call.
    arg_max(model, ts) FILTER (WHERE event = 'llm') AS model
FROM read_ndjson(
    $path,
    format = 'newline_delimited',
    ignore_errors = true,
    columns = {
        request_id: 'VARCHAR',
        event: 'VARCHAR',
        ts: 'TIMESTAMPTZ',
        latency_ms: 'DOUBLE',
        status: 'VARCHAR',
        model: 'VARCHAR',
        input_tokens: 'BIGINT',
        output_tokens: 'BIGINT'
    }
)
WHERE request_id IS NOT NULL
GROUP BY request_id;

-- name: overall
SELECT
    count(*) AS requests,
    count(*) FILTER (WHERE is_error) AS errors,
    avg(is_error::INTEGER) AS error_rate,
    quantile_cont(e2e_ms, [0.50, 0.90, 0.95, 0.99]) AS latency_ms_p50_p90_p95_p99,
    sum(input_tokens) AS input_tokens,
    sum(output_tokens) AS output_tokens
FROM req;

-- name: models
SELECT
    model,
    count(*) AS requests,
    count(*) FILTER (WHERE is_error) AS errors,
    quantile_cont(e2e_ms, 0.95) AS p95_ms,
    sum(input_tokens) AS input_tokens,
    sum(output_tokens) AS output_tokens
FROM req
GROUP BY model
ORDER BY requests DESC, model;
