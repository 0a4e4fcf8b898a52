import { HistoryAction, HistoryCheckpoint, type HistoryVerification } from "@pedigree/protocol";
import { useRef, useState } from "react";
import { api, callKey } from "../api";
import { formatTime } from "../format";
import { Link, navigate } from "../navigation";
import { rangeText } from "../pages/paged-list";
import { Empty, Loaded, useResource } from "../resource";

const pageSize = 25;

/**
 * A collection's action history, newest first: filters live in the URL (action, actor, version, from, to),
 * paging follows the API's cursor, and the chain verification is shown beside it.
 */
export function ActionHistory(props: { registry: string; collection: string; query: URLSearchParams }) {
  const { registry, collection, query } = props;
  const filters = {
    action: query.get("action") ?? "",
    actor: query.get("actor") ?? "",
    version: query.get("version") ?? "",
    from: query.get("from") ?? "",
    to: query.get("to") ?? "",
  };
  const [cursors, setCursors] = useState<string[]>([]);
  const cursor = cursors.at(-1);
  const list = {
    params: { registry, collection },
    query: {
      action: filters.action || undefined,
      actor: filters.actor || undefined,
      version: filters.version || undefined,
      from: filters.from ? new Date(filters.from).toISOString() : undefined,
      to: filters.to ? new Date(filters.to).toISOString() : undefined,
      limit: pageSize,
      cursor,
    },
  };
  const page = useResource(callKey("listHistory", list), (signal) => api("listHistory", { ...list, signal }), {
    keepPrevious: true,
  });
  const verification = useResource(callKey("verifyHistory", { params: list.params }), () =>
    verifyAgainstCheckpoint(list.params),
  );
  const [versionError, setVersionError] = useState<string | null>(null);
  const versionApplied = useRef(filters.version);
  const filtered = Object.values(filters).some(Boolean);
  // Unfiltered, the chain's length is the count; filtered, the API does not count (yet).
  const total = !filtered && verification.status === "ready" ? verification.value.eventCount : undefined;
  const setFilter = (name: keyof typeof filters, value: string) => {
    const next = new URLSearchParams(query);
    if (value) next.set(name, value);
    else next.delete(name);
    setCursors([]);
    const text = next.toString();
    navigate(`${window.location.pathname}${text ? `?${text}` : ""}`, { replace: true });
  };

  // `vN` goes to the API as is; a source ref (artifact:v3, artifact:alias or an id) is looked up among
  // the collection's linked versions and filtered by the `vN` it is linked as.
  const applyVersion = async (text: string) => {
    if (text === versionApplied.current) return;
    versionApplied.current = text;
    setVersionError(null);
    if (text === "" || /^v\d+$/.test(text)) return setFilter("version", text);
    const { versions } = await api("listCollectionVersions", { params: list.params });
    const linked = versions.find(({ source }) => {
      const names = [
        source.id,
        `${source.artifact}:${source.version}`,
        ...source.aliases.map((a) => `${source.artifact}:${a}`),
      ];
      return names.includes(text) || (!text.includes(":") && source.aliases.includes(text));
    });
    if (linked) setFilter("version", linked.version);
    else setVersionError(`'${text}' is not linked in this collection`);
  };

  return (
    <section className="history" data-testid="history">
      <h2>Action history</h2>
      <Loaded resource={verification}>{(verification) => <VerificationStatus verification={verification} />}</Loaded>
      <div className="history-filters">
        <label>
          Action
          <select
            data-testid="filter-action"
            value={filters.action}
            onChange={(event) => setFilter("action", event.target.value)}
          >
            <option value="">all</option>
            {HistoryAction.options.map((action) => (
              <option key={action} value={action}>
                {action}
              </option>
            ))}
          </select>
        </label>
        <label>
          Actor
          <input
            data-testid="filter-actor"
            defaultValue={filters.actor}
            onBlur={(event) => setFilter("actor", event.target.value.trim())}
            onKeyDown={(event) => {
              if (event.key === "Enter") setFilter("actor", event.currentTarget.value.trim());
            }}
          />
        </label>
        <label>
          Version (vN or the linked version: artifact:v3, artifact:alias, its id)
          <input
            data-testid="filter-version"
            placeholder="v0"
            defaultValue={filters.version}
            aria-invalid={versionError !== null}
            onBlur={(event) => void applyVersion(event.target.value.trim())}
            onKeyDown={(event) => {
              if (event.key === "Enter") void applyVersion(event.currentTarget.value.trim());
            }}
          />
          {versionError ? (
            <span className="state error" role="alert" data-testid="filter-version-error">
              {versionError}
            </span>
          ) : null}
        </label>
        <label>
          From
          <input
            type="datetime-local"
            defaultValue={filters.from}
            onChange={(event) => setFilter("from", event.target.value)}
          />
        </label>
        <label>
          To
          <input
            type="datetime-local"
            defaultValue={filters.to}
            onChange={(event) => setFilter("to", event.target.value)}
          />
        </label>
      </div>
      <Loaded resource={page}>
        {({ events, nextCursor }) => (
          <div>
            {events.length === 0 ? (
              <Empty>No events match.</Empty>
            ) : (
              <table data-testid="history-table">
                <thead>
                  <tr>
                    <th>#</th>
                    <th>Action</th>
                    <th>Alias</th>
                    <th>Version</th>
                    <th>Source (its lineage)</th>
                    <th>Actor</th>
                    <th>Time</th>
                  </tr>
                </thead>
                <tbody>
                  {events.map((event) => (
                    <tr key={event.id} data-testid="history-row" data-action={event.action}>
                      <td>{event.seq}</td>
                      <td>{event.action}</td>
                      <td>{event.alias ?? ""}</td>
                      <td>{event.version ?? ""}</td>
                      <td>
                        {event.sourceVersion && event.sourceProject && event.sourceVersionId ? (
                          <Link
                            to={`/projects/${encodeURIComponent(event.sourceProject)}/versions/${event.sourceVersionId}?tab=lineage`}
                            testId="history-source"
                          >
                            {event.sourceVersion}
                          </Link>
                        ) : (
                          (event.sourceVersion ?? "")
                        )}
                      </td>
                      <td>{event.actor}</td>
                      <td>{formatTime(event.at)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            )}
            <div className="pager">
              <button
                type="button"
                data-testid="history-newer"
                disabled={cursors.length === 0}
                onClick={() => setCursors(cursors.slice(0, -1))}
              >
                Newer
              </button>
              <span data-testid="history-range">{rangeText(cursors.length * pageSize, events.length, total)}</span>
              <button
                type="button"
                data-testid="history-older"
                disabled={!nextCursor}
                onClick={() => nextCursor && setCursors([...cursors, nextCursor])}
              >
                Older
              </button>
            </div>
          </div>
        )}
      </Loaded>
    </section>
  );
}

const checkpointKey = (collection: CollectionParams) =>
  `pedigree.checkpoint:/registries/${encodeURIComponent(collection.registry)}/collections/${encodeURIComponent(collection.collection)}`;

type CollectionParams = { registry: string; collection: string };

/**
 * Verifies against the head this browser saw last time (kept in localStorage), so a history cut or rewritten
 * since then shows; a verification that passes moves the kept checkpoint to the new head.
 */
async function verifyAgainstCheckpoint(params: CollectionParams): Promise<HistoryVerification> {
  const kept = HistoryCheckpoint.safeParse(readJson(localStorage.getItem(checkpointKey(params))));
  const since = kept.success && kept.data.seq > 0 ? kept.data : undefined;
  const query = since ? { sinceSeq: since.seq, sinceHash: since.hash } : {};
  const verification = await api("verifyHistory", { params, query });
  if (verification.ok) localStorage.setItem(checkpointKey(params), JSON.stringify(verification.head));
  return verification;
}

function VerificationStatus(props: { verification: HistoryVerification }) {
  const { firstBroken, stateDifferences, since, eventCount, head } = props.verification;
  if (props.verification.ok) {
    return (
      <div className="verified ok" data-testid="chain-status" title={`head ${head.seq}: ${head.hash}`}>
        Chain verified: {eventCount} events intact, state matches
        {since ? `, extends the checkpoint kept at event ${since.seq}` : ""}
      </div>
    );
  }
  return (
    <div className="verified broken" data-testid="chain-status" role="alert">
      {firstBroken ? (
        <div>
          Chain broken at event {firstBroken.seq}: {firstBroken.reason}
        </div>
      ) : null}
      {stateDifferences.map((difference) => (
        <div key={`${difference.kind}:${difference.name ?? ""}`} data-testid="state-difference">
          State differs from the events: {difference.message}
        </div>
      ))}
      {since && !since.inChain ? (
        <div>
          Checkpoint kept at event {since.seq} is not in the chain: {since.reason}
        </div>
      ) : null}
    </div>
  );
}

function readJson(text: string | null): unknown {
  try {
    return text === null ? null : JSON.parse(text);
  } catch {
    return null;
  }
}
