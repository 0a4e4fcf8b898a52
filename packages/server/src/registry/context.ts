import type { Role } from "@pedigree/protocol";
import type { Actor } from "../auth/actor";

/** Who acts and the clock: every registry change is recorded as that actor, at that server time. */
export interface RegistryContext {
  actor: Actor;
  now: () => Date;
  /** The actor's role in the registry being changed, as the registry gate found it (admin for server admins). */
  role: Role | null;
}
