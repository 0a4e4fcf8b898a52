import { execFileSync } from "node:child_process";
import type { Run } from "./run";

/**
 * Ends runs the script forgot to finish: `finished` when the process runs out of work or exits with 0, `failed`
 * when it dies of an uncaught error or exits with another code. After an uncaught error or `process.exit()` no
 * promise can complete, so the last request is sent by a short synchronous child process (bounded by a timeout).
 */
const openRuns = new Set<Run>();
let installed = false;

export function watchRun(run: Run) {
  openRuns.add(run);
  if (installed) return;
  installed = true;
  process.on("beforeExit", finishOpenRuns);
  process.on("uncaughtExceptionMonitor", () => endOpenRunsSync("failed"));
  process.on("exit", (code) => endOpenRunsSync(code === 0 ? "finished" : "failed"));
}

export function forgetRun(run: Run) {
  openRuns.delete(run);
}

function finishOpenRuns() {
  for (const run of [...openRuns]) {
    run
      .finish("finished")
      .catch((error: unknown) => console.warn(`[pedigree] could not finish run ${run.id}: ${String(error)}`));
  }
}

/** For `process.exit()` and uncaught errors: no promise completes after them. */
function endOpenRunsSync(state: "finished" | "failed") {
  const requests = [...openRuns].flatMap((run) => run.finishRequest(state) ?? []);
  openRuns.clear();
  if (requests.length === 0) return;
  const script = `
    const requests = JSON.parse(require("fs").readFileSync(0, "utf8"));
    Promise.all(requests.map((r) => fetch(r.url, {
      method: "PATCH",
      headers: { "content-type": "application/json", ...(r.apiKey ? { authorization: "Bearer " + r.apiKey } : {}) },
      body: JSON.stringify(r.body),
      signal: AbortSignal.timeout(4000),
    }).catch(() => {})));`;
  try {
    execFileSync(process.execPath, ["-e", script], {
      input: JSON.stringify(requests),
      timeout: 5_000,
      stdio: ["pipe", "ignore", "ignore"],
    });
  } catch {
    // The server will mark the run crashed when its heartbeat stops.
  }
}
