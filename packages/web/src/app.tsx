import { WhoAmI } from "@pedigree/protocol";
import { useEffect, useState } from "react";
import { apiWithKey, forgetApiKey, keyRefusedEvent, RequestError, saveApiKey, savedApiKey } from "./api";
import { GlobalSearch, SearchPage } from "./global-search";
import { Link, useLocation, useTitle } from "./navigation";
import { ArtifactPage, HomePage, ProjectPage } from "./pages/browse";
import { NodePage } from "./pages/node-pages";
import { CollectionPage, RegistryPage } from "./registry/registry-pages";
import { Loaded, queryClient, useResource } from "./resource";

const segment = "([^/]+)";
const routes: { pattern: RegExp; render: (match: string[], query: URLSearchParams) => React.ReactNode }[] = [
  { pattern: /^\/$/, render: () => <HomePage /> },
  { pattern: /^\/search$/, render: (_, query) => <SearchPage q={query.get("q") ?? ""} /> },
  { pattern: new RegExp(`^/projects/${segment}$`), render: ([p]) => <ProjectPage project={p!} /> },
  {
    pattern: new RegExp(`^/projects/${segment}/artifacts/${segment}$`),
    render: ([p, a]) => <ArtifactPage project={p!} artifact={a!} />,
  },
  {
    pattern: new RegExp(`^/projects/${segment}/(versions|runs)/${segment}$`),
    render: ([p, kind, id], query) => (
      <NodePage key={`${kind}:${id}`} project={p!} kind={kind as "versions" | "runs"} id={id!} query={query} />
    ),
  },
  { pattern: new RegExp(`^/registries/${segment}$`), render: ([r]) => <RegistryPage registry={r!} /> },
  {
    pattern: new RegExp(`^/registries/${segment}/collections/${segment}$`),
    render: ([r, c], query) => <CollectionPage registry={r!} collection={c!} query={query} />,
  },
];

function Page() {
  const { path, query } = useLocation();
  useTitle(path === "/" ? "Projects and registries" : null);
  for (const route of routes) {
    const match = route.pattern.exec(path);
    if (match) return <>{route.render(match.slice(1).map(decodeURIComponent), query)}</>;
  }
  return (
    <div className="state error" data-testid="error">
      No page at {path}. <Link to="/">Start page</Link>
    </div>
  );
}

/** Signed in once `/me` accepts the key kept in localStorage; otherwise the sign-in form. */
export function App() {
  const [apiKey, setApiKey] = useState(savedApiKey);
  const [refused, setRefused] = useState(false);
  const signOut = (wasRefused: boolean) => {
    forgetApiKey();
    queryClient.clear();
    setRefused(wasRefused);
    setApiKey(null);
  };
  // Any answer 401 to the saved key (revoked, or wrong from the start) ends the session with a message.
  // biome-ignore lint/correctness/useExhaustiveDependencies: signOut only sets state
  useEffect(() => {
    const onRefused = () => signOut(true);
    window.addEventListener(keyRefusedEvent, onRefused);
    return () => window.removeEventListener(keyRefusedEvent, onRefused);
  }, []);
  const me = useResource(`me:${apiKey ?? ""}`, (signal) =>
    apiKey
      ? apiWithKey(apiKey, "whoAmI", { signal })
      : Promise.reject(new RequestError(401, "UNAUTHORIZED", "not signed in")),
  );
  if (!apiKey || (me.status === "error" && me.error.status === 401))
    return (
      <SignIn
        failed={refused || apiKey !== null}
        onKey={(key) => {
          saveApiKey(key);
          setRefused(false);
          setApiKey(key);
        }}
      />
    );
  return (
    <Loaded resource={me}>
      {(me) => (
        <div className="app">
          <header>
            <Link to="/" className="brand">
              Pedigree
            </Link>
            <HeaderSearch />
            <span className="user" data-testid="user">
              {me.user.name}
            </span>
            <button type="button" onClick={() => signOut(false)}>
              Sign out
            </button>
          </header>
          <main>
            <Page />
          </main>
        </div>
      )}
    </Loaded>
  );
}

function SignIn(props: { failed: boolean; onKey: (key: string) => void }) {
  const [key, setKey] = useState("");
  useTitle("Sign in");
  return (
    <form
      className="sign-in"
      onSubmit={(event) => {
        event.preventDefault();
        if (key.trim()) props.onKey(key.trim());
      }}
    >
      <h1>Pedigree</h1>
      <p>Paste an API key (the server prints the admin key on first start; it is in ~/.pedigree/credentials).</p>
      {props.failed ? (
        <p className="state error" role="alert" data-testid="sign-in-error">
          The server did not accept that API key (wrong, or revoked since): paste a valid key to sign in again.
        </p>
      ) : null}
      <input
        type="password"
        data-testid="api-key"
        placeholder="pdg_…"
        value={key}
        onChange={(event) => setKey(event.target.value)}
      />
      <button type="submit" data-testid="sign-in">
        Sign in
      </button>
    </form>
  );
}

function HeaderSearch() {
  const { path, query } = useLocation();
  return <GlobalSearch initial={path === "/search" ? (query.get("q") ?? "") : ""} />;
}
