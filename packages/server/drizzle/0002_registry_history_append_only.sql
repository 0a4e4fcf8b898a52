-- The action history is append-only: the database itself refuses to change or remove an event.
-- Hand-written (not generated): carry this file over when migrations are regenerated.
CREATE OR REPLACE FUNCTION history_events_refuse_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'history_events is append-only: % is refused', TG_OP
    USING ERRCODE = 'insufficient_privilege';
END;
$$;
--> statement-breakpoint
CREATE TRIGGER history_events_append_only
  BEFORE UPDATE OR DELETE ON history_events
  FOR EACH ROW EXECUTE FUNCTION history_events_refuse_change();
--> statement-breakpoint
CREATE TRIGGER history_events_no_truncate
  BEFORE TRUNCATE ON history_events
  FOR EACH STATEMENT EXECUTE FUNCTION history_events_refuse_change();
