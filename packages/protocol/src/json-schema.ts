import { z } from "zod";

/**
 * The JSON Schema of what a client may send for `schema`: its input side (before defaults and transforms),
 * with the bounds and documented examples the protocol's schemas carry. Refinements (a sum of sizes, a vN
 * bound inside a ref) are not expressible in JSON Schema and are left out.
 */
export function requestJsonSchema(schema: z.ZodType): Record<string, unknown> {
  return z.toJSONSchema(schema, { io: "input", unrepresentable: "any" }) as Record<string, unknown>;
}
