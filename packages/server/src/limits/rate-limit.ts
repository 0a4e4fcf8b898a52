import type { MiddlewareHandler } from "hono";
import type { AppEnv } from "../context";
import { ApiError } from "../errors";
import type { RateLimit } from "./rate-limit-setting";

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
