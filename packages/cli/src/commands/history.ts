import { HistoryAction, type HistoryEvent, type HistoryVerification, HistoryVerifyQuery } from "@pedigree/protocol";
import { z } from "zod";
import { type Command, parseClientArgs, print, table } from "./command";

const HistoryActionList = z.array(HistoryAction);
const usage =
  "Usage: pedigree history <registry>/<collection> [--action a,b] [--since <seq>:<hash>] [--json]\n" +
  "  --since  a checkpoint printed by an earlier run: also prove the chain still extends it";

export const historyCommand: Command = {
  summary: "a registry collection's action history, and whether it verifies (chain, state, checkpoint)",
  async run(args) {
    const parsed = parseClientArgs(args, usage, { action: { type: "string" }, since: { type: "string" } });
    if (!parsed) return 0;
    const [target] = parsed.positionals;
    const [registry, collection] = target?.split("/") ?? [];
    if (!registry || !collection)
      throw new Error("name a collection as registry/collection, e.g. model/zoo-classifier");
    const handle = parsed.client.registry(registry).collection(collection);
    const action =
      typeof parsed.values.action === "string" ? HistoryActionList.parse(parsed.values.action.split(",")) : undefined;
    const since = typeof parsed.values.since === "string" ? parseCheckpoint(parsed.values.since) : undefined;
    const events: HistoryEvent[] = [];
    for await (const event of handle.actionHistory(action ? { action } : {})) events.push(event);
    const verification = await handle.verifyHistory(since ? { since } : {});
    print(parsed.json, { events, verification }, () =>
      [
        table([
          ["at", "actor", "action", "version", "alias"],
          ...events.map((event) => [event.at, event.actor, event.action, event.version ?? "", event.alias ?? ""]),
        ]),
        ...describeVerification(verification),
      ].join("\n"),
    );
    return verification.ok ? 0 : 1;
  },
};

/** `<seq>:<hash>`, as `describeVerification` prints the head. */
function parseCheckpoint(text: string): { seq: number; hash: string } {
  const [seq, hash] = text.split(":");
  const parsed = HistoryVerifyQuery.safeParse({ sinceSeq: seq, sinceHash: hash });
  if (!parsed.success || parsed.data.sinceSeq === undefined || parsed.data.sinceHash === undefined) {
    throw new Error(`--since takes a checkpoint '<seq>:<hash>' as printed after 'keep', not '${text}'`);
  }
  return { seq: parsed.data.sinceSeq, hash: parsed.data.sinceHash };
}

function describeVerification(verification: HistoryVerification): string[] {
  const lines: string[] = [];
  if (verification.firstBroken) {
    const { seq, reason } = verification.firstBroken;
    lines.push(`chain BROKEN at event ${seq}: ${reason}`);
  } else {
    lines.push(`chain verified (${verification.eventCount} events)`);
  }
  if (verification.stateDifferences.length === 0) lines.push("state matches the events (links, aliases, fields)");
  for (const difference of verification.stateDifferences) lines.push(`state DIFFERS: ${difference.message}`);
  if (verification.since) {
    const { seq, inChain, reason } = verification.since;
    lines.push(inChain ? `checkpoint ${seq} is in the chain` : `checkpoint ${seq} NOT in the chain: ${reason}`);
  }
  lines.push(`keep ${verification.head.seq}:${verification.head.hash} (pass it as --since to check later)`);
  return lines;
}
