import { Limits, LineageQuery, LoggedJsonObject, Page } from "@pedigree/protocol";
import { describe, expect, it } from "vitest";

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
