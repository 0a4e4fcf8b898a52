import { type SearchHit, SearchKind, type SearchResults } from "@pedigree/protocol";
import { useEffect, useState } from "react";
import { api } from "./api";
import { Link, navigate, pageQueryString, useTitle } from "./navigation";
import { Empty, Loaded, useResource } from "./resource";

const enc = encodeURIComponent;

/** The header's search box: Enter opens the results page for what is typed. */
export function GlobalSearch(props: { initial: string }) {
  const [text, setText] = useState(props.initial);
  useEffect(() => setText(props.initial), [props.initial]);
  return (
    <input
      type="search"
      className="global-search"
      data-testid="global-search"
      placeholder="Search runs, artifacts, versions, collections (Enter)"
      value={text}
      onChange={(event) => setText(event.target.value)}
      onKeyDown={(event) => {
        if (event.key === "Enter" && text.trim()) navigate(`/search${pageQueryString({ q: text.trim() })}`);
      }}
    />
  );
}

const kindTitle: Record<SearchKind, string> = {
  run: "Runs",
  artifact: "Artifacts",
  version: "Versions",
  collection: "Collections",
};
const searchLimit = 20;

/** Where a hit opens: the run's, version's, artifact's or collection's own page. */
function hitUrl(hit: SearchHit): string {
  const name = hit.id.slice(hit.id.indexOf("/") + 1);
  if (hit.kind === "run") return `/projects/${enc(hit.scope)}/runs/${hit.id}`;
  if (hit.kind === "version") return `/projects/${enc(hit.scope)}/versions/${hit.id}`;
  if (hit.kind === "artifact") return `/projects/${enc(hit.scope)}/artifacts/${enc(name)}`;
  return `/registries/${enc(hit.scope)}/collections/${enc(name)}`;
}

/** `/search?q=`: what the server's name search finds, by kind, with how many match in all. */
export function SearchPage(props: { q: string }) {
  const { q } = props;
  useTitle(`Search “${q}”`);
  const results = useResource(`search:${q}`, (signal) =>
    q
      ? api("search", { query: { q, limit: searchLimit }, signal })
      : Promise.resolve<SearchResults>({ q, totals: { run: 0, artifact: 0, version: 0, collection: 0 }, hits: [] }),
  );
  if (!q) return <Empty>Type a name in the search box and press Enter.</Empty>;
  return (
    <div data-testid="search-results">
      <h1>Search “{q}”</h1>
      <Loaded resource={results}>
        {(results) =>
          results.hits.length === 0 ? (
            <Empty>Nothing is named like “{q}”.</Empty>
          ) : (
            <div className="columns">
              {SearchKind.options.map((kind) => {
                const hits = results.hits.filter((hit) => hit.kind === kind);
                const total = results.totals[kind] ?? 0;
                return (
                  <section key={kind} data-testid={`search-${kind}`}>
                    <h2>
                      {kindTitle[kind]} <span className="muted">({total})</span>
                    </h2>
                    {hits.length === 0 ? (
                      <p className="muted">none</p>
                    ) : (
                      <ul className="list">
                        {hits.map((hit) => (
                          <li key={`${hit.kind}:${hit.id}`} data-testid="search-hit">
                            <Link to={hitUrl(hit)}>{hit.name}</Link>{" "}
                            <span className="muted">
                              {hit.type} · {hit.scope}
                            </span>
                          </li>
                        ))}
                      </ul>
                    )}
                    {total > hits.length ? (
                      <p className="muted">
                        {hits.length} of {total} shown: type more of the name to narrow them.
                      </p>
                    ) : null}
                  </section>
                );
              })}
            </div>
          )
        }
      </Loaded>
    </div>
  );
}
