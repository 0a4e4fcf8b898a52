import type { MiddlewareHandler } from "hono";
import type { AppEnv } from "../context";
import { ApiError } from "../errors";

export interface RateLimit {
  /** Sustained writes per second per user (all of the user's keys together). */
  perSecond: number;
  /** Writes a user may make at once after being idle. */
  burst: number;
}

/** `PEDIGREE_RATE_LIMIT`: `off`, `<per second>` (burst 10× that) or `<per second>:<burst>`. */
export function parseRateLimit(text: string | undefined, fallback: RateLimit | null): RateLimit | null {
  if (text === undefined || text.trim() === "") return fallback;
  if (text.trim() === "off") return null;
  const match = /^\s*(\d+(?:\.\d+)?)\s*(?::\s*(\d+))?\s*$/.exec(text);
  const perSecond = Number(match?.[1]);
  const burst = match?.[2] !== undefined ? Number(match[2]) : Math.max(1, Math.ceil(perSecond * 10));
  if (!match || !(perSecond > 0) || !(burst >= 1)) {
    throw new Error(`PEDIGREE_RATE_LIMIT must be 'off', '<per second>' or '<per second>:<burst>', not '${text}'`);
  }
  return { perSecond, burst };
}

/**
 * A token bucket per user, in memory (one server process), over writes only: reads stay free, so a client
 * backing off can still look. Per user, not per key: a user mints keys at will, so spare keys add no
 * writes. A refused write is a 429 with Retry-After and changes nothing.
 */
export function rateLimitWrites(
  limit: RateLimit | null,
  nowMs: () => number = () => performance.now(),
): MiddlewareHandler<AppEnv> {
  const buckets = new Map<string, { tokens: number; at: number }>();
  return async (c, next) => {
    const method = c.req.method;
    if (!limit || method === "GET" || method === "HEAD" || method === "OPTIONS") return next();
    const now = nowMs();
    const actor = c.get("actor");
    const bucket = buckets.get(actor.userId) ?? { tokens: limit.burst, at: now };
    bucket.tokens = Math.min(limit.burst, bucket.tokens + ((now - bucket.at) / 1000) * limit.perSecond);
    bucket.at = now;
    buckets.set(actor.userId, bucket);
    if (bucket.tokens < 1) {
      const waitSeconds = Math.ceil((1 - bucket.tokens) / limit.perSecond);
      c.header("retry-after", String(waitSeconds));
      throw new ApiError(
        "RATE_LIMITED",
        `user '${actor.userName}' is limited to ${limit.perSecond} writes per second (burst ${limit.burst}) across all of their API keys; retry in ${waitSeconds}s`,
        "authorization",
      );
    }
    bucket.tokens -= 1;
    if (buckets.size > 10_000) forgetIdle(buckets, limit, now);
    return next();
  };
}

/** Full buckets carry no information: dropping them bounds memory by the number of busy users. */
function forgetIdle(buckets: Map<string, { tokens: number; at: number }>, limit: RateLimit, now: number) {
  for (const [userId, bucket] of buckets) {
    if (bucket.tokens + ((now - bucket.at) / 1000) * limit.perSecond >= limit.burst) buckets.delete(userId);
  }
}
