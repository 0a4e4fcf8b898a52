import { syncSpool } from "@pedigree/sdk";
import { type Command, parseClientArgs, print, table } from "./command";

const usage = `Usage: pedigree sync [--dry-run] [--retry-rejected] [--json]

Sends, in order, the writes that crashed, killed or offline runs left queued in $PEDIGREE_DIR/spool. A run
still live in another process (or being sent by another sync) holds its spool's lock and is skipped.
--retry-rejected first sends again the writes parked in each spool's rejected.jsonl (the server answered 5xx
after every retry, or refused them).`;

export const syncCommand: Command = {
  summary: "send what crashed or offline runs left queued",
  async run(args) {
    const parsed = parseClientArgs(args, usage, {
      "dry-run": { type: "boolean" },
      "retry-rejected": { type: "boolean" },
    });
    if (!parsed) return 0;
    const dryRun = Boolean(parsed.values["dry-run"]);
    const report = await syncSpool({ dryRun, retryRejected: Boolean(parsed.values["retry-rejected"]) });
    const verb = dryRun ? "would send" : "sent";
    print(parsed.json, report, () =>
      report.length === 0
        ? "nothing queued"
        : [
            table([
              ["run", "project", "server", verb, "left", "parked"],
              ...report.map((run) => [
                run.runId,
                run.project,
                run.baseUrl,
                run.skipped ? "-" : String(run.sent),
                String(run.left),
                run.rejected.join("; "),
              ]),
            ]),
            ...report.flatMap((run) => (run.skipped ? [`skipped run ${run.runId}: ${run.skipped}`] : [])),
          ].join("\n"),
    );
    return report.some((run) => run.left > 0 || run.rejected.length > 0) && !dryRun ? 1 : 0;
  },
};
