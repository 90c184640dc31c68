-- Incident ledger (issue 5 item 4): the record that outlives Temporal's retention and feeds the monthly
-- 6.4 metrics report. Every table is written by idempotent activities (src/activities/ledger.ts): each
-- write is keyed so that repeating it changes nothing. Writes may arrive in any order (activities run
-- concurrently and are retried), so incident_events, pages and approvals carry no foreign key to incidents.

-- Up Migration

CREATE TABLE incidents (
  id                      text PRIMARY KEY,                 -- the incidentWorkflow id
  title                   text NOT NULL,
  kind                    text NOT NULL,
  severity                text NOT NULL CHECK (severity IN ('P0', 'P1', 'P2', 'P3')),
  status                  text NOT NULL CHECK (status IN ('triggered', 'acknowledged', 'resolved', 'closed')),
  summary                 text,
  source_system           text,
  opened_at               timestamptz NOT NULL,
  detected_at             timestamptz NOT NULL,
  first_paged_at          timestamptz,
  acknowledged_at         timestamptz,
  acknowledged_by         text,
  resolved_at             timestamptz,
  resolved_by             text,
  closed_at               timestamptz,
  -- 6.4 metrics in playbook seconds (real elapsed time x time_scale), as the workflow computed them.
  mttd_seconds            integer,
  mtta_seconds            integer,
  mttr_seconds            integer,
  time_scale              double precision NOT NULL DEFAULT 1 CHECK (time_scale > 0),
  response_deadline       timestamptz,
  resolution_deadline     timestamptz,
  response_breached_at    timestamptz,
  resolution_breached_at  timestamptz,
  breaches                jsonb NOT NULL DEFAULT '[]'::jsonb, -- [{type, at, severity}]
  loss_usd                numeric(16, 2) NOT NULL DEFAULT 0,
  financial_impact_usd    numeric(16, 2),
  missed_trades           integer,
  trading_downtime_minutes double precision,
  root_cause              text,
  resolution              text,
  reopen_count            integer NOT NULL DEFAULT 0,
  engaged_roles           text[] NOT NULL DEFAULT '{}',
  policy_version          text,
  -- Monotonic version of the snapshot (the caller's timeline length): an older snapshot never overwrites
  -- a newer one, whatever order retried activities land in.
  version                 integer NOT NULL DEFAULT 0,
  snapshot                jsonb NOT NULL,                   -- the whole `status` query result
  created_at              timestamptz NOT NULL DEFAULT now(),
  updated_at              timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX incidents_opened_at_idx ON incidents (opened_at);
CREATE INDEX incidents_severity_opened_at_idx ON incidents (severity, opened_at);

-- Append-only timeline: (incident_id, seq) is the event's index in the workflow's timeline, so a re-sent
-- event is a no-op (ON CONFLICT DO NOTHING) and the trigger below refuses UPDATE and DELETE.
CREATE TABLE incident_events (
  incident_id  text NOT NULL,
  seq          integer NOT NULL CHECK (seq >= 0),
  at           timestamptz NOT NULL,
  actor        text NOT NULL,
  type         text NOT NULL,
  text         text NOT NULL,
  data         jsonb,
  recorded_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (incident_id, seq)
);
CREATE INDEX incident_events_type_idx ON incident_events (type);

CREATE FUNCTION ledger_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'ledger table % is append-only (% refused)', TG_TABLE_NAME, TG_OP
    USING ERRCODE = 'insufficient_privilege';
END;
$$;
CREATE TRIGGER incident_events_append_only
  BEFORE UPDATE OR DELETE ON incident_events
  FOR EACH ROW EXECUTE FUNCTION ledger_append_only();

-- One row per delivered notification per channel (DESIGN "Side effects": the idempotency key
-- `<incident id>:<step>:<target>` is delivered at most once per channel).
CREATE TABLE pages (
  channel          text NOT NULL,
  idempotency_key  text NOT NULL,
  incident_id      text NOT NULL,
  step             text NOT NULL,
  target           text NOT NULL,
  kind             text NOT NULL,
  severity         text NOT NULL,
  template         text,
  ref              text,
  created_at       timestamptz NOT NULL,   -- workflow time the message was composed
  delivered_at     timestamptz NOT NULL,
  PRIMARY KEY (channel, idempotency_key)
);
CREATE INDEX pages_incident_idx ON pages (incident_id);

-- Approval gates of mutating remediations: request and decision may be written in either order.
CREATE TABLE approvals (
  incident_id                 text NOT NULL,
  action_id                   text NOT NULL,
  action                      text,
  description                 text,
  requested_at                timestamptz,
  expires_at                  timestamptz,
  requires_confirmation_code  boolean,
  outcome                     text CHECK (outcome IN ('approved', 'rejected', 'pre-approved', 'withdrawn', 'expired')),
  decided_by                  text,
  decided_at                  timestamptz,
  reason                      text,
  updated_at                  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (incident_id, action_id)
);

-- 6.1 post-mortem obligation, written by postmortemWorkflow.
CREATE TABLE postmortems (
  incident_id            text PRIMARY KEY,
  workflow_id            text NOT NULL,
  title                  text NOT NULL,
  severity               text NOT NULL CHECK (severity IN ('P0', 'P1', 'P2', 'P3')),
  requirement            text NOT NULL CHECK (requirement IN ('mandatory', 'recommended', 'none')),
  status                 text NOT NULL CHECK (status IN ('open', 'overdue', 'tracking', 'done', 'not-required', 'lapsed')),
  owner                  text NOT NULL,
  resolved_at            timestamptz NOT NULL,
  due_at                 timestamptz,              -- real time: resolved_at + 6.1 timeline / time_scale
  time_scale             double precision NOT NULL DEFAULT 1 CHECK (time_scale > 0),
  reminders_sent         integer NOT NULL DEFAULT 0,
  overdue_escalated_at   timestamptz,
  completed_at           timestamptz,
  completed_by           text,
  document_url           text,
  version                integer NOT NULL DEFAULT 0,
  created_at             timestamptz NOT NULL DEFAULT now(),
  updated_at             timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX postmortems_open_due_idx ON postmortems (due_at) WHERE completed_at IS NULL;

-- 6.3 action items: each with an owner and a due date, tracked until done.
CREATE TABLE action_items (
  incident_id            text NOT NULL REFERENCES postmortems (incident_id),
  item_index             integer NOT NULL CHECK (item_index >= 0),
  id                     text NOT NULL,            -- "AI-1", "AI-2", ... within the post-mortem
  title                  text NOT NULL,
  owner                  text NOT NULL,
  due_date               date NOT NULL,            -- as given (a COT calendar date)
  due_at                 timestamptz NOT NULL,     -- real time the item falls due (scaled by time_scale)
  assigned_at            timestamptz,
  reminders_sent         integer NOT NULL DEFAULT 0,
  overdue_escalated_at   timestamptz,
  done_at                timestamptz,
  done_by                text,
  version                integer NOT NULL DEFAULT 0,
  created_at             timestamptz NOT NULL DEFAULT now(),
  updated_at             timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (incident_id, item_index),
  UNIQUE (incident_id, id)
);
CREATE INDEX action_items_open_due_idx ON action_items (due_at) WHERE done_at IS NULL;

-- Idempotency and message references for Slack and PagerDuty (KeyValueStore in src/activities/notify/http.ts).
CREATE TABLE kv_store (
  key         text PRIMARY KEY,
  value       text NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now(),
  updated_at  timestamptz NOT NULL DEFAULT now()
);

-- Down Migration

DROP TABLE kv_store;
DROP TABLE action_items;
DROP TABLE postmortems;
DROP TABLE approvals;
DROP TABLE pages;
DROP TABLE incident_events;
DROP FUNCTION ledger_append_only();
DROP TABLE incidents;
