import { HistoryAction, type HistoryEvent } from "@pedigree/protocol";
import { z } from "zod";
import { type Command, parseClientArgs, print, table } from "./command";

const HistoryActionList = z.array(HistoryAction);

export const historyCommand: Command = {
  summary: "a registry collection's action history, and whether its chain verifies",
  async run(args) {
    const parsed = parseClientArgs(args, "Usage: pedigree history <registry>/<collection> [--action a,b] [--json]", {
      action: { type: "string" },
    });
    if (!parsed) return 0;
    const [target] = parsed.positionals;
    const [registry, collection] = target?.split("/") ?? [];
    if (!registry || !collection)
      throw new Error("name a collection as registry/collection, e.g. model/zoo-classifier");
    const handle = parsed.client.registry(registry).collection(collection);
    const action =
      typeof parsed.values.action === "string" ? HistoryActionList.parse(parsed.values.action.split(",")) : undefined;
    const events: HistoryEvent[] = [];
    for await (const event of handle.actionHistory(action ? { action } : {})) events.push(event);
    const verification = await handle.verifyHistory();
    print(parsed.json, { events, verification }, () =>
      [
        table([
          ["at", "actor", "action", "version", "alias"],
          ...events.map((event) => [event.at, event.actor, event.action, event.version ?? "", event.alias ?? ""]),
        ]),
        verification.ok
          ? `chain verified (${verification.eventCount} events)`
          : `chain BROKEN: ${JSON.stringify(verification.firstBroken)}`,
      ].join("\n"),
    );
    return verification.ok ? 0 : 1;
  },
};
