import { z } from "zod";
import { Timestamp } from "./common";

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
