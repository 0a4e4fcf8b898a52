import { syncSpool } from "@pedigree/sdk";
import { type Command, parseClientArgs, print, table } from "./command";

const usage = `Usage: pedigree sync [--dry-run] [--json]

Sends, in order, the writes that crashed, killed or offline runs left queued in $PEDIGREE_DIR/spool.`;

export const syncCommand: Command = {
  summary: "send what crashed or offline runs left queued",
  async run(args) {
    const parsed = parseClientArgs(args, usage, { "dry-run": { type: "boolean" } });
    if (!parsed) return 0;
    const report = await syncSpool({ dryRun: Boolean(parsed.values["dry-run"]) });
    const verb = parsed.values["dry-run"] ? "would send" : "sent";
    print(parsed.json, report, () =>
      report.length === 0
        ? "nothing queued"
        : table([
            ["run", "project", "server", verb, "left", "refused"],
            ...report.map((run) => [
              run.runId,
              run.project,
              run.baseUrl,
              String(run.sent),
              String(run.left),
              run.rejected.join("; "),
            ]),
          ]),
    );
    return report.some((run) => run.left > 0 || run.rejected.length > 0) && !parsed.values["dry-run"] ? 1 : 0;
  },
};
