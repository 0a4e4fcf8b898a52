/** Who writes, to which project, at what time: what every write service is given by its route. */
export interface WriteContext {
  project: string;
  actor: string;
  /** The actor is a server admin (reads every project); least privilege when unset. */
  actorIsAdmin?: boolean;
  now: () => Date;
  /** Set by the project gate when this write may create the project (see auth/access.ts). */
  claimsProject?: boolean;
  /** Set by the project gate when it saw the project: `ensureProject` has nothing to do. */
  projectExists?: boolean;
  /** An OpenLineage consumer is configured: run changes queue their events (openlineage/outbox.ts). */
  emitsOpenLineage?: boolean;
}
