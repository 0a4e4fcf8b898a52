/**
 * The circuit breaker of one server (base URL), shared by every client of that URL in the process. Once the
 * server is known unreachable, requests fail at once instead of each waiting out its own timeout, and a run's
 * writes go to the spool at once; a background probe (GET /api/v1/health, backoff, unref'd timer) closes the
 * circuit again when the server answers, and the writers waiting for that resume sending.
 *
 * It opens when a request gives up on a network failure (refused, reset, timed out: after the client's retries)
 * or a probe fails; any HTTP answer closes it.
 */
export class Circuit {
  private openSince: number | undefined;
  private reason = "";
  private probeTimer: NodeJS.Timeout | undefined;
  private probeDelayMs = FIRST_PROBE_MS;
  private probing: Promise<boolean> | undefined;
  private opened = deferred();
  private readonly closedListeners = new Set<() => void>();

  constructor(
    readonly baseUrl: string,
    private readonly probeTimeoutMs: number,
  ) {}

  get isOpen(): boolean {
    return this.openSince !== undefined;
  }

  /** Why the server is unreachable, for messages: "connect ECONNREFUSED 127.0.0.1:4000 (since 10:31:02)". */
  get description(): string {
    const since = this.openSince === undefined ? "" : ` (since ${new Date(this.openSince).toISOString()})`;
    return `${this.reason}${since}`;
  }

  /** Settles when the circuit opens (at once when it is open). */
  whenOpen(): Promise<void> {
    return this.opened.promise;
  }

  /** Calls `listener` each time the server is reachable again; answers the unsubscribe function. */
  onClosed(listener: () => void): () => void {
    this.closedListeners.add(listener);
    return () => this.closedListeners.delete(listener);
  }

  /** A request got an HTTP answer: the server is reachable. */
  answered(): void {
    if (this.openSince === undefined) return;
    this.openSince = undefined;
    this.opened = deferred();
    clearTimeout(this.probeTimer);
    this.probeTimer = undefined;
    this.probeDelayMs = FIRST_PROBE_MS;
    for (const listener of [...this.closedListeners]) listener();
  }

  /** A request (after its retries) or a probe got no answer: refused, reset, timed out. */
  failed(reason: string): void {
    if (this.openSince !== undefined) return;
    this.reason = reason;
    this.openSince = Date.now();
    this.opened.resolve();
    this.scheduleProbe();
  }

  /** Asks the server now, whatever the backoff says; answers whether it is reachable. */
  probeNow(): Promise<boolean> {
    this.probing ??= this.probe().finally(() => {
      this.probing = undefined;
    });
    return this.probing;
  }

  /** A caller waited its whole budget without an answer: ask the server whether it is there at all. */
  suspect(): void {
    if (!this.isOpen) void this.probeNow();
  }

  /** A wrapped fetch for the HTTP client: fails at once while open; an answer closes the circuit. */
  readonly fetch = async (input: Parameters<typeof fetch>[0], init?: RequestInit): Promise<Response> => {
    if (this.isOpen) throw new ServerUnreachable(this);
    const response = await fetch(input, init);
    this.answered();
    return response;
  };

  private async probe(): Promise<boolean> {
    try {
      const response = await fetch(`${this.baseUrl}/api/v1/health`, {
        signal: AbortSignal.timeout(this.probeTimeoutMs),
      });
      await response.body?.cancel();
      if (response.ok) {
        this.answered();
        return true;
      }
      this.failed(`GET /api/v1/health answered ${response.status}`);
    } catch (error) {
      this.failed(reasonOf(error));
    }
    return false;
  }

  private scheduleProbe(): void {
    clearTimeout(this.probeTimer);
    this.probeTimer = setTimeout(async () => {
      this.probeTimer = undefined;
      if (!(await this.probeNow()) && this.probeTimer === undefined && this.isOpen) this.scheduleProbe();
    }, this.probeDelayMs);
    this.probeTimer.unref();
    this.probeDelayMs = Math.min(this.probeDelayMs * 2, MAX_PROBE_MS);
  }
}

const FIRST_PROBE_MS = 250;
const MAX_PROBE_MS = 10_000;

/** Thrown instead of a request while the circuit is open. */
export class ServerUnreachable extends Error {
  constructor(circuit: Circuit) {
    super(`${circuit.baseUrl} is unreachable: ${circuit.description}`);
    this.name = "ServerUnreachable";
  }
}

const circuits = new Map<string, Circuit>();

/** The process-wide circuit of `baseUrl`. */
export function circuitFor(baseUrl: string, probeTimeoutMs: number): Circuit {
  let circuit = circuits.get(baseUrl);
  if (!circuit) {
    circuit = new Circuit(baseUrl, probeTimeoutMs);
    circuits.set(baseUrl, circuit);
  }
  return circuit;
}

export function reasonOf(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause = error.cause;
  if (cause instanceof Error) {
    const nested = (cause as { errors?: unknown[] }).errors?.[0];
    return nested instanceof Error ? nested.message : cause.message;
  }
  return error.message;
}

function deferred() {
  let resolve!: () => void;
  const promise = new Promise<void>((done) => {
    resolve = done;
  });
  return { promise, resolve };
}
