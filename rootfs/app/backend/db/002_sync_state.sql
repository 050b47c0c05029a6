-- What HAsync keeps between runs: key/value settings and sync checkpoints.
CREATE TABLE settings (
  key   TEXT PRIMARY KEY,
  value TEXT NOT NULL
);
CREATE TABLE sync_checkpoints (
  entity_id  TEXT PRIMARY KEY,
  last_state TEXT,
  updated_at TEXT NOT NULL DEFAULT (datetime('now'))
);
