import type { Actor } from "../auth/users";

/** Who acts and the clock: every registry change is recorded as that actor, at that server time. */
export interface RegistryContext {
  actor: Actor;
  now: () => Date;
}
