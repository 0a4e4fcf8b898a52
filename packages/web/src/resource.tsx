import { keepPreviousData, QueryClient, useQuery } from "@tanstack/react-query";
import type { ReactNode } from "react";
import { RequestError } from "./api";

/**
 * Every read of the app goes through TanStack Query: answers are cached per key (going back to a page
 * draws at once), equal requests in flight are shared, a request whose page went away is aborted, and a
 * failed one can be retried. Network failures are retried twice on their own; API errors are not.
 */
export const queryClient = new QueryClient({
  defaultOptions: {
    queries: {
      staleTime: 10_000,
      refetchOnWindowFocus: false,
      retry: (count, error) => error instanceof RequestError && error.status === 0 && count < 2,
    },
  },
});

export type Resource<T> = (
  | { status: "loading" }
  | { status: "error"; error: RequestError }
  | { status: "ready"; value: T }
) & {
  /** Loads again (the retry button). */
  retry: () => void;
  /** The last answer for this key or the previous one, while a newer one loads or after it failed. */
  previous: T | undefined;
  fetching: boolean;
};

const asRequestError = (error: unknown) =>
  error instanceof RequestError ? error : new RequestError(0, "CLIENT", String(error));

/** Loads `key` with `load`; a newer key wins over an answer still in flight, which is aborted. */
export function useResource<T>(
  key: string,
  load: (signal: AbortSignal) => Promise<T>,
  options: { keepPrevious?: boolean } = {},
): Resource<T> {
  const query = useQuery({
    queryKey: [key],
    queryFn: ({ signal }) => load(signal),
    ...(options.keepPrevious ? { placeholderData: keepPreviousData } : {}),
  });
  const common = { retry: () => void query.refetch(), previous: query.data, fetching: query.isFetching };
  if (query.isError) return { status: "error", error: asRequestError(query.error), ...common };
  if (query.data === undefined) return { status: "loading", ...common };
  return { status: "ready", value: query.data, ...common };
}

/** An API error as a person reads it, with a button that tries again. */
export function ErrorState(props: { error: RequestError; onRetry?: () => void }) {
  const { error } = props;
  return (
    <div className="state error" data-testid="error" role="alert">
      {error.status ? `${error.status} ${error.code}: ` : ""}
      {error.message}
      {props.onRetry ? (
        <button type="button" className="retry" data-testid="retry" onClick={props.onRetry}>
          Retry
        </button>
      ) : null}
    </div>
  );
}

/** Loading, error and ready states drawn the same way on every page. */
export function Loaded<T>(props: { resource: Resource<T>; children: (value: T) => ReactNode }) {
  const { resource } = props;
  if (resource.status === "loading")
    return (
      <div className="state loading" data-testid="loading">
        Loading…
      </div>
    );
  if (resource.status === "error") return <ErrorState error={resource.error} onRetry={resource.retry} />;
  return <>{props.children(resource.value)}</>;
}

export function Empty(props: { children: ReactNode }) {
  return (
    <div className="state empty" data-testid="empty">
      {props.children}
    </div>
  );
}
