/** The write rate limit as configured: read from the environment by `config.ts`, applied by `rate-limit.ts`. */
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
