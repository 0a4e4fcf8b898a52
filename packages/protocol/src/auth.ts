import { z } from "zod";
import { Timestamp } from "./bounds";

export const WhoAmI = z.object({
  user: z.object({ id: z.string(), name: z.string(), isAdmin: z.boolean() }),
  keyId: z.string(),
});
export type WhoAmI = z.infer<typeof WhoAmI>;

export const Health = z.object({
  status: z.literal("ok"),
  version: z.string(),
  database: z.enum(["pglite", "postgres"]),
});
export type Health = z.infer<typeof Health>;

export const ProjectSummary = z.object({
  name: z.string(),
  createdAt: Timestamp,
  runCount: z.number().int(),
  artifactCount: z.number().int(),
});
export type ProjectSummary = z.infer<typeof ProjectSummary>;
export const ProjectList = z.object({ projects: z.array(ProjectSummary) });

/**
 * `~/.pedigree/credentials` (mode 0600): one API key per server URL, written by the server on first start
 * (and by `pedigree login`), read by the SDK and the CLI when no key is given.
 */
export const CredentialsFile = z.object({
  servers: z.record(z.string(), z.object({ apiKey: z.string(), user: z.string().optional() })).default({}),
});
export type CredentialsFile = z.infer<typeof CredentialsFile>;

/** User ids are `u_` and 12 letters or digits; a name of that shape could be taken for another user's id. */
const USER_ID_SHAPE = /^u_/i;

/** User names: what `actor` shows in history and what project membership routes take. */
export const UserName = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$/, "user names are letters, digits, '.', '_', '@', '-' (at most 64)")
  .refine((name) => !USER_ID_SHAPE.test(name), "user names may not start with 'u_': that is how user ids look");

/** Per project (and later per registry): a viewer reads, a member also writes, an admin also manages members. */
export const Role = z.enum(["viewer", "member", "admin"]);
export type Role = z.infer<typeof Role>;

export const UserSummary = z.object({
  id: z.string(),
  name: z.string(),
  isAdmin: z.boolean(),
  createdAt: Timestamp,
});
export type UserSummary = z.infer<typeof UserSummary>;
export const UserList = z.object({ users: z.array(UserSummary) });

const KeyName = z.string().min(1).max(128);
export const KeyId = z.string().regex(/^k_[a-z0-9]{12}$/, "key ids look like k_ and 12 letters or digits");

export const CreateKeyBody = z.object({
  name: KeyName.default("default"),
  /** When the key stops working; never when not given. */
  expiresAt: Timestamp.optional(),
});
export type CreateKeyBody = z.input<typeof CreateKeyBody>;

export const ApiKeySummary = z.object({
  id: z.string(),
  name: z.string(),
  userId: z.string(),
  createdAt: Timestamp,
  expiresAt: Timestamp.nullable(),
  revokedAt: Timestamp.nullable(),
});
export type ApiKeySummary = z.infer<typeof ApiKeySummary>;
export const ApiKeyList = z.object({ keys: z.array(ApiKeySummary) });

/** The key itself appears in this answer only; the server keeps a hash. */
export const CreatedApiKey = z.object({ key: ApiKeySummary, apiKey: z.string() });
export type CreatedApiKey = z.infer<typeof CreatedApiKey>;

export const CreateUserBody = z.object({
  name: UserName,
  isAdmin: z.boolean().default(false),
  key: CreateKeyBody.default({ name: "default" }),
});
export type CreateUserBody = z.input<typeof CreateUserBody>;
export const CreatedUser = z.object({ user: UserSummary, key: ApiKeySummary, apiKey: z.string() });
export type CreatedUser = z.infer<typeof CreatedUser>;

export const SetMemberBody = z.object({ role: Role });
export type SetMemberBody = z.input<typeof SetMemberBody>;
export const ProjectMember = z.object({ user: z.string(), userId: z.string(), role: Role, addedAt: Timestamp });
export type ProjectMember = z.infer<typeof ProjectMember>;
export const ProjectMemberList = z.object({ members: z.array(ProjectMember) });
