-- The most severe level each incident reached (IncidentStatus.highestSeverity), beside its final `severity`.
-- 6.1 sets the post-mortem by it and the 6.4 report groups its targets by it: an incident downgraded before
-- resolution still answers to the target of the severity it had. Nullable so a worker of the previous
-- release (which does not write it) keeps working during a rolling deploy; readers fall back to the
-- snapshot's highestSeverity, then to `severity`.

-- Up Migration

ALTER TABLE incidents
  ADD COLUMN highest_severity text CHECK (highest_severity IN ('P0', 'P1', 'P2', 'P3'));

UPDATE incidents
   SET highest_severity = CASE WHEN snapshot->>'highestSeverity' IN ('P0', 'P1', 'P2', 'P3')
                               THEN snapshot->>'highestSeverity' ELSE severity END;

CREATE INDEX incidents_highest_severity_opened_at_idx ON incidents (highest_severity, opened_at);

-- Down Migration

DROP INDEX incidents_highest_severity_opened_at_idx;
ALTER TABLE incidents DROP COLUMN highest_severity;
