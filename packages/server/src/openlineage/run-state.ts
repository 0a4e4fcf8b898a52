/**
 * A run's state from its events, whatever order they arrive in. Each event that moves the state has a key
 * (terminal?, eventTime, rank); the state is that of the greatest key seen, so the outcome is the same for
 * every arrival order: a terminal event is never undone by a START or RUNNING, and between two terminal
 * events the later eventTime wins (at equal times ABORT over FAIL over COMPLETE). OTHER moves nothing.
 */
import type { EventType, RunState } from "@pedigree/protocol";

export interface StateKey {
  time: Date;
  rank: number;
}

const rankOf: Partial<Record<EventType, number>> = { START: 1, RUNNING: 1, COMPLETE: 2, FAIL: 3, ABORT: 4 };
const stateOfRank: Record<number, RunState> = { 1: "running", 2: "finished", 3: "failed", 4: "aborted" };

export function stateKeyOf(eventType: EventType | undefined, time: Date): StateKey | null {
  const rank = eventType ? rankOf[eventType] : undefined;
  return rank ? { time, rank } : null;
}

export const isTerminalRank = (rank: number) => rank >= 2;
export const runStateOfRank = (rank: number): RunState => stateOfRank[rank] ?? "running";

/** Whether `next` outranks `current` (null: nothing has set the state yet). */
export function supersedes(next: StateKey, current: StateKey | null): boolean {
  if (!current) return true;
  const nextTerminal = isTerminalRank(next.rank);
  if (nextTerminal !== isTerminalRank(current.rank)) return nextTerminal;
  const delta = next.time.getTime() - current.time.getTime();
  return delta !== 0 ? delta > 0 : next.rank > current.rank;
}
