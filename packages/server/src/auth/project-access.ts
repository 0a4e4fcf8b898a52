/** What the project gate learnt about a write's project, handed on to the write (see `auth/access.ts`). */
export interface ProjectAccess {
  /** The project does not exist yet and this write will create it, making the actor its admin. */
  claimsProject: boolean;
  /** The project exists (projects are never deleted), so a write need not make sure of it again. */
  projectExists: boolean;
}
