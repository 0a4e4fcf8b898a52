-- The ends' projects beside every edge (db/schema/artifacts.ts `edgeEnds`: the edge-ends trigger of 0015 now fills
-- them too), and the two-hop paths version → run → version (`lineageHops`), kept by triggers after every edge
-- insert: an input edge joins its version to every output the run logged so far, an output edge joins every
-- input the run used so far to its version. Edges are never deleted or changed, so rows only appear or move their
-- `reached_at` earlier. Rows are written in key order, so two runs committing the same content at once take the
-- rows' locks in one order (no deadlock). Hand-written: carry this file over when migrations are regenerated.
CREATE OR REPLACE FUNCTION lineage_edge_ends() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  SELECT r.job_type, r.project INTO NEW.run_job_type, NEW.run_project FROM runs r WHERE r.id = NEW.run_id;
  SELECT a.type, v.generated, v.project INTO NEW.version_type, NEW.version_generated, NEW.version_project
  FROM versions v JOIN artifacts a ON a.id = v.artifact_id WHERE v.id = NEW.version_id;
  RETURN NEW;
END;
$$;
--> statement-breakpoint
UPDATE run_inputs e SET run_project = r.project, version_project = v.project
FROM runs r, versions v WHERE r.id = e.run_id AND v.id = e.version_id;
--> statement-breakpoint
UPDATE run_outputs e SET run_project = r.project, version_project = v.project
FROM runs r, versions v WHERE r.id = e.run_id AND v.id = e.version_id;
--> statement-breakpoint
CREATE OR REPLACE FUNCTION lineage_hops_from_input() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO lineage_hops (from_version_id, run_job_type, to_version_id, to_type, to_generated, to_project, reached_at)
  SELECT NEW.version_id, NEW.run_job_type, o.version_id, o.version_type, o.version_generated, o.version_project,
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
  INSERT INTO lineage_hops (from_version_id, run_job_type, to_version_id, to_type, to_generated, to_project, reached_at)
  SELECT i.version_id, NEW.run_job_type, NEW.version_id, NEW.version_type, NEW.version_generated, NEW.version_project,
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
INSERT INTO lineage_hops (from_version_id, run_job_type, to_version_id, to_type, to_generated, to_project, reached_at)
SELECT i.version_id, i.run_job_type, o.version_id, o.version_type, o.version_generated, o.version_project,
  min(greatest(i.created_at, o.created_at))
FROM run_inputs i JOIN run_outputs o ON o.run_id = i.run_id
GROUP BY i.version_id, i.run_job_type, o.version_id, o.version_type, o.version_generated, o.version_project
ON CONFLICT DO NOTHING;
