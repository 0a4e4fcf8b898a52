import { Limits, LineageQuery, LoggedJsonObject, Page } from "@pedigree/protocol";
import { describe, expect, it } from "vitest";
import { parseRateLimit } from "../../packages/server/src/limits/rate-limit-setting";

/** Limits of the wire contract: each refusal names its limit, so a user knows what to change. */
describe("limits: wire schemas", () => {
  const messageOf = (result: { success: boolean; error?: { issues: { message: string; path: PropertyKey[] }[] } }) =>
    result.error?.issues.map((issue) => `${issue.path.join(".")}: ${issue.message}`).join("; ");

  it("refuses lineage hops over maxHops and maxNodes over its cap", () => {
    expect(messageOf(LineageQuery.safeParse({ node: "ds", upstream: Limits.maxHops + 1 }))).toContain(
      "upstream: at most 50 hops (maxHops)",
    );
    expect(messageOf(LineageQuery.safeParse({ node: "ds", downstream: "51" }))).toContain("(maxHops)");
    expect(messageOf(LineageQuery.safeParse({ node: "ds", maxNodes: Limits.maxNodes + 1 }))).toContain(
      "maxNodes: maxNodes is at most 10000 (maxNodes)",
    );
    expect(LineageQuery.safeParse({ node: "ds", upstream: 50, maxNodes: 10_000 }).success).toBe(true);
  });

  it("refuses pages over maxPageSize", () => {
    expect(messageOf(Page.safeParse({ limit: "1001" }))).toContain("(maxPageSize)");
    expect(Page.parse({ limit: "1000" }).limit).toBe(1000);
  });

  it("refuses logged JSON too deep or too large, without overflowing the stack", () => {
    let deep: unknown = 0;
    for (let level = 0; level < 200_000; level++) deep = [deep];
    expect(messageOf(LoggedJsonObject.safeParse({ deep }))).toContain("(maxJsonDepth)");
    expect(messageOf(LoggedJsonObject.safeParse({ s: "x".repeat(Limits.maxJsonBytes) }))).toContain("(maxJsonBytes)");
    let fine: unknown = 0;
    for (let level = 0; level < Limits.maxJsonDepth - 1; level++) fine = [fine];
    expect(LoggedJsonObject.safeParse({ fine }).success).toBe(true);
  });
});

describe("limits: PEDIGREE_RATE_LIMIT", () => {
  it("reads off, a rate, or a rate and a burst, and refuses anything else", () => {
    const fallback = { perSecond: 200, burst: 2000 };
    expect(parseRateLimit(undefined, fallback)).toEqual(fallback);
    expect(parseRateLimit("off", fallback)).toBeNull();
    expect(parseRateLimit("20", fallback)).toEqual({ perSecond: 20, burst: 200 });
    expect(parseRateLimit("5:7", fallback)).toEqual({ perSecond: 5, burst: 7 });
    for (const bad of ["0", "-1", "fast", "5:0", "5:"])
      expect(() => parseRateLimit(bad, fallback)).toThrow(/PEDIGREE_RATE_LIMIT/);
  });
});
