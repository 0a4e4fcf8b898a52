import { type ReactNode, useState } from "react";
import { Empty, ErrorState, useResource } from "../resource";

/** One page of a list as the API answers it, with the count over all pages. */
export interface ListPage<T> {
  items: T[];
  total: number;
}

/** "26–50 of 158" (or "26–50" while the count is unknown). */
export function rangeText(offset: number, shown: number, total: number | undefined): string {
  const range = shown === 0 ? "0" : `${offset + 1}–${offset + shown}`;
  return total === undefined ? range : `${range} of ${total}`;
}

/**
 * A list read a page at a time (`offset`, `limit`): Previous and Next and "26–50 of 158". `queryKey` names the
 * list and its filters; a change of filters starts again at the first page.
 */
export function PagedList<T>(props: {
  queryKey: string;
  pageSize: number;
  load: (offset: number, signal: AbortSignal) => Promise<ListPage<T>>;
  testId: string;
  empty: ReactNode;
  children: (items: T[]) => ReactNode;
}) {
  const [state, setState] = useState({ key: props.queryKey, offset: 0 });
  const offset = state.key === props.queryKey ? state.offset : 0;
  const page = useResource(`${props.queryKey}|${offset}`, (signal) => props.load(offset, signal), {
    keepPrevious: true,
  });
  const move = (next: number) => setState({ key: props.queryKey, offset: next });
  if (page.status === "loading")
    return (
      <div className="state loading" data-testid="loading">
        Loading…
      </div>
    );
  if (page.status === "error") return <ErrorState error={page.error} onRetry={page.retry} />;
  const { items, total } = page.value;
  if (total === 0) return <Empty>{props.empty}</Empty>;
  return (
    <div data-testid={props.testId}>
      {props.children(items)}
      <div className="pager">
        <button
          type="button"
          data-testid={`${props.testId}-previous`}
          disabled={offset === 0 || page.fetching}
          onClick={() => move(Math.max(0, offset - props.pageSize))}
        >
          Previous
        </button>
        <span data-testid={`${props.testId}-range`}>{rangeText(offset, items.length, total)}</span>
        <button
          type="button"
          data-testid={`${props.testId}-next`}
          disabled={offset + items.length >= total || page.fetching}
          onClick={() => move(offset + props.pageSize)}
        >
          Next
        </button>
      </div>
    </div>
  );
}
