import { type ReactNode, useEffect, useState } from "react";
import { RequestError } from "./api";

export type Resource<T> =
  | { status: "loading" }
  | { status: "error"; error: RequestError }
  | { status: "ready"; value: T };

/** Loads once per key; a newer key wins over an answer still in flight. */
export function useResource<T>(key: string, load: () => Promise<T>): Resource<T> {
  const [resource, setResource] = useState<Resource<T>>({ status: "loading" });
  // biome-ignore lint/correctness/useExhaustiveDependencies: the key names everything `load` reads
  useEffect(() => {
    let current = true;
    setResource({ status: "loading" });
    load().then(
      (value) => current && setResource({ status: "ready", value }),
      (error: unknown) =>
        current &&
        setResource({
          status: "error",
          error: error instanceof RequestError ? error : new RequestError(0, "CLIENT", String(error)),
        }),
    );
    return () => {
      current = false;
    };
  }, [key]);
  return resource;
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
  if (resource.status === "error")
    return (
      <div className="state error" data-testid="error" role="alert">
        {resource.error.status ? `${resource.error.status} ${resource.error.code}: ` : ""}
        {resource.error.message}
      </div>
    );
  return <>{props.children(resource.value)}</>;
}

export function Empty(props: { children: ReactNode }) {
  return (
    <div className="state empty" data-testid="empty">
      {props.children}
    </div>
  );
}
