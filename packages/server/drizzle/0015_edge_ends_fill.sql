-- The ends of each lineage edge (run job type, version artifact type and generated flag) beside the edge, for
-- clustering from an index (db/schema/artifacts.ts `edgeEnds`). A trigger fills them on every insert, so no
-- writer can forget them; runs and versions never change these values. Hand-written: carry this file over
-- when migrations are regenerated.
CREATE OR REPLACE FUNCTION lineage_edge_ends() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  SELECT r.job_type INTO NEW.run_job_type FROM runs r WHERE r.id = NEW.run_id;
  SELECT a.type, v.generated INTO NEW.version_type, NEW.version_generated
  FROM versions v JOIN artifacts a ON a.id = v.artifact_id WHERE v.id = NEW.version_id;
  RETURN NEW;
END;
$$;
--> statement-breakpoint
CREATE TRIGGER run_inputs_edge_ends BEFORE INSERT ON run_inputs
  FOR EACH ROW EXECUTE FUNCTION lineage_edge_ends();
--> statement-breakpoint
CREATE TRIGGER run_outputs_edge_ends BEFORE INSERT ON run_outputs
  FOR EACH ROW EXECUTE FUNCTION lineage_edge_ends();
--> statement-breakpoint
-- Edges recorded before this migration.
UPDATE run_inputs e SET run_job_type = r.job_type, version_type = a.type, version_generated = v.generated
FROM runs r, versions v, artifacts a
WHERE r.id = e.run_id AND v.id = e.version_id AND a.id = v.artifact_id;
--> statement-breakpoint
UPDATE run_outputs e SET run_job_type = r.job_type, version_type = a.type, version_generated = v.generated
FROM runs r, versions v, artifacts a
WHERE r.id = e.run_id AND v.id = e.version_id AND a.id = v.artifact_id;
