import { type ReactNode, useState } from "react";
import type { RequestError } from "../api";
import { Empty, ErrorState, useResource } from "../resource";

/** One page of a list as the API answers it: a cursor to the next page, and the count when it is known. */
export interface ListPage<T> {
  items: T[];
  nextCursor: string | null;
  total?: number | undefined;
}

/** "26–50 of 158" (or "26–50" while the count is unknown). */
export function rangeText(offset: number, shown: number, total: number | undefined): string {
  const range = shown === 0 ? "0" : `${offset + 1}–${offset + shown}`;
  return total === undefined ? range : `${range} of ${total}`;
}

/**
 * A list read a page at a time with the API's cursor: Previous and Next, the range shown and the count.
 * `queryKey` names the list and its filters; a change of filters starts again at the first page.
 */
export function PagedList<T>(props: {
  queryKey: string;
  pageSize: number;
  load: (cursor: string | undefined, signal: AbortSignal) => Promise<ListPage<T>>;
  testId: string;
  empty: ReactNode;
  children: (items: T[]) => ReactNode;
}) {
  const [state, setState] = useState<{ key: string; cursors: (string | undefined)[] }>({
    key: props.queryKey,
    cursors: [undefined],
  });
  const cursors = state.key === props.queryKey ? state.cursors : [undefined];
  const index = cursors.length - 1;
  const cursor = cursors[index];
  const page = useResource(`${props.queryKey}|${cursor ?? ""}`, (signal) => props.load(cursor, signal), {
    keepPrevious: true,
  });
  const move = (next: (string | undefined)[]) => setState({ key: props.queryKey, cursors: next });
  if (page.status === "loading")
    return (
      <div className="state loading" data-testid="loading">
        Loading…
      </div>
    );
  if (page.status === "error") return <ErrorState error={page.error as RequestError} onRetry={page.retry} />;
  const { items, nextCursor, total } = page.value;
  if (items.length === 0 && index === 0) return <Empty>{props.empty}</Empty>;
  const offset = index * props.pageSize;
  return (
    <div data-testid={props.testId}>
      {props.children(items)}
      <div className="pager">
        <button
          type="button"
          data-testid={`${props.testId}-previous`}
          disabled={index === 0}
          onClick={() => move(cursors.slice(0, -1))}
        >
          Previous
        </button>
        <span data-testid={`${props.testId}-range`}>{rangeText(offset, items.length, total)}</span>
        <button
          type="button"
          data-testid={`${props.testId}-next`}
          disabled={nextCursor === null || page.fetching}
          onClick={() => nextCursor !== null && move([...cursors, nextCursor])}
        >
          Next
        </button>
      </div>
    </div>
  );
}
