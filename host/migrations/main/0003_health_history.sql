-- The health loop's checks (framework diagnostics): one row per check, kept for
-- `diagnostics.history_days` days.
CREATE TABLE IF NOT EXISTS health_history (
    at INTEGER NOT NULL,           -- Unix time, seconds
    tier TEXT NOT NULL,            -- healthy | degraded | critical
    cpu_percent REAL,
    rss_mb REAL,
    threads INTEGER,
    lag_ms REAL NOT NULL,
    commands_per_sec REAL NOT NULL,
    error_rate REAL NOT NULL,
    latency_ms REAL,
    reasons TEXT NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS health_history_at ON health_history (at);
