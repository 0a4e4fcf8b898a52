import { useEffect, useState } from "react";

/** The app's own location: pathname and query, changed by `navigate` and by the browser's back/forward. */
export interface AppLocation {
  path: string;
  query: URLSearchParams;
}

const locationEvent = "pedigree:navigate";
const currentLocation = (): AppLocation => ({
  path: window.location.pathname,
  query: new URLSearchParams(window.location.search),
});

export function navigate(to: string, options: { replace?: boolean } = {}) {
  if (options.replace) window.history.replaceState(null, "", to);
  else window.history.pushState(null, "", to);
  window.dispatchEvent(new Event(locationEvent));
}

export function useLocation(): AppLocation {
  const [location, setLocation] = useState(currentLocation);
  useEffect(() => {
    const update = () => setLocation(currentLocation());
    window.addEventListener("popstate", update);
    window.addEventListener(locationEvent, update);
    return () => {
      window.removeEventListener("popstate", update);
      window.removeEventListener(locationEvent, update);
    };
  }, []);
  return location;
}

/** A link that navigates inside the app without reloading it. */
export function Link(props: { to: string; children: React.ReactNode; className?: string; testId?: string }) {
  return (
    <a
      href={props.to}
      className={props.className}
      data-testid={props.testId}
      onClick={(event) => {
        if (event.metaKey || event.ctrlKey || event.shiftKey || event.button !== 0) return;
        event.preventDefault();
        navigate(props.to);
      }}
    >
      {props.children}
    </a>
  );
}

type PageQueryValue = string | number | boolean | string[] | undefined | null;

/** The query of a page URL of this app (not of the API): lists comma-joined, empty values left out. */
export function pageQueryString(query: Record<string, PageQueryValue>): string {
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(query)) {
    if (value === undefined || value === null || value === "") continue;
    if (Array.isArray(value)) {
      if (value.length > 0) params.set(name, value.join(","));
    } else params.set(name, String(value));
  }
  const text = params.toString();
  return text ? `?${text}` : "";
}

/** The browser tab's title: `<what> · Pedigree`; null leaves it to another component. */
export function useTitle(title: string | null) {
  useEffect(() => {
    if (title !== null) document.title = title ? `${title} · Pedigree` : "Pedigree";
  }, [title]);
}
