import { execFileSync } from "node:child_process";

/** What the exit hook needs of a run (implemented by `Run`): its id, finishing it, and the request that does. */
export interface ExitWatchedRun {
  readonly id: string;
  finish(state: "finished"): Promise<unknown>;
  /** Marks the run ended locally and describes the one request that tells the server (null: it stays queued). */
  finishRequest(state: "finished" | "failed"): FinishRequest | null;
}

/** The PATCH that ends a run, sent by a child process once the parent can no longer wait on promises. */
export interface FinishRequest {
  url: string;
  apiKey: string | undefined;
  body: { state: string };
}

/**
 * Ends runs the script forgot to finish: `finished` when the process runs out of work or exits with 0, `failed`
 * when it dies of an uncaught error or exits with another code. After an uncaught error or `process.exit()` no
 * promise can complete, so the last request is sent by a short synchronous child process (bounded by a timeout).
 */
const openRuns = new Set<ExitWatchedRun>();
let installed = false;

export function watchRun(run: ExitWatchedRun) {
  openRuns.add(run);
  if (installed) return;
  installed = true;
  process.on("beforeExit", finishOpenRuns);
  process.on("uncaughtExceptionMonitor", () => endOpenRunsSync("failed"));
  process.on("exit", (code) => endOpenRunsSync(code === 0 ? "finished" : "failed"));
}

export function forgetRun(run: ExitWatchedRun) {
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
