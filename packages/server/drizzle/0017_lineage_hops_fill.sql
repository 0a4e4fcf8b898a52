-- Two-hop paths version → run → version (db/schema/artifacts.ts `lineageHops`), kept by triggers after every
-- edge insert: an input edge joins its version to every output the run logged so far, an output edge joins
-- every input the run used so far to its version. Edges are never deleted or changed, so rows only appear or
-- move their `reached_at` earlier. Rows are written in key order, so two runs committing the same content at
-- once take the rows' locks in one order (no deadlock). Hand-written: carry this file over when migrations are regenerated.
CREATE OR REPLACE FUNCTION lineage_hops_from_input() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO lineage_hops (from_version_id, run_job_type, to_version_id, to_type, to_generated, reached_at)
  SELECT NEW.version_id, NEW.run_job_type, o.version_id, o.version_type, o.version_generated,
    greatest(NEW.created_at, o.created_at)
  FROM run_outputs o WHERE o.run_id = NEW.run_id ORDER BY o.version_id
  ON CONFLICT (from_version_id, run_job_type, to_version_id)
  DO UPDATE SET reached_at = least(lineage_hops.reached_at, excluded.reached_at);
  RETURN NULL;
END;
$$;
--> statement-breakpoint
CREATE OR REPLACE FUNCTION lineage_hops_from_output() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO lineage_hops (from_version_id, run_job_type, to_version_id, to_type, to_generated, reached_at)
  SELECT i.version_id, NEW.run_job_type, NEW.version_id, NEW.version_type, NEW.version_generated,
    greatest(i.created_at, NEW.created_at)
  FROM run_inputs i WHERE i.run_id = NEW.run_id ORDER BY i.version_id
  ON CONFLICT (from_version_id, run_job_type, to_version_id)
  DO UPDATE SET reached_at = least(lineage_hops.reached_at, excluded.reached_at);
  RETURN NULL;
END;
$$;
--> statement-breakpoint
CREATE TRIGGER run_inputs_lineage_hops AFTER INSERT ON run_inputs
  FOR EACH ROW EXECUTE FUNCTION lineage_hops_from_input();
--> statement-breakpoint
CREATE TRIGGER run_outputs_lineage_hops AFTER INSERT ON run_outputs
  FOR EACH ROW EXECUTE FUNCTION lineage_hops_from_output();
--> statement-breakpoint
-- Paths of edges recorded before this migration.
INSERT INTO lineage_hops (from_version_id, run_job_type, to_version_id, to_type, to_generated, reached_at)
SELECT i.version_id, i.run_job_type, o.version_id, o.version_type, o.version_generated,
  min(greatest(i.created_at, o.created_at))
FROM run_inputs i JOIN run_outputs o ON o.run_id = i.run_id
GROUP BY i.version_id, i.run_job_type, o.version_id, o.version_type, o.version_generated
ON CONFLICT DO NOTHING;
