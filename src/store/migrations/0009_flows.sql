-- 0009: configurable checkout flows (API.md "Flows"). The standard flow is
-- not a row: it is compiled into the binary (src/flows/standard.c) and
-- shared by every store. A store's own flows are rows here.
--
-- status: Draft (the only one that changes; each change raises version),
-- Active (the store's flow for new sessions; frozen), Inactive (frozen;
-- sessions pinned to it run on it to the end). A session pins flow_id and
-- flow_version when it is created; since only a Draft changes and no
-- session ever starts on a Draft, (id, version) names one definition for
-- good. steps is the definition as saved: the JSON text of the steps list.
CREATE TABLE flows (
  id TEXT PRIMARY KEY,
  store_id TEXT NOT NULL REFERENCES stores(id),
  name TEXT NOT NULL,
  version BIGINT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('Draft', 'Active', 'Inactive')),
  steps TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL
);
CREATE INDEX flows_store ON flows (store_id, id);
-- At most one Active flow per store (stores.active_flow_id names it, or the
-- standard flow when the store has none).
CREATE UNIQUE INDEX flows_store_active ON flows (store_id) WHERE status = 'Active';
-- inFlightSessions: the live sessions pinned to a flow.
CREATE INDEX checkout_sessions_flow ON checkout_sessions (flow_id) WHERE is_archived = 0 AND state <> 'Completed';
