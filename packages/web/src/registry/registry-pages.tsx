import { useState } from "react";
import { api } from "../api";
import { formatTime, visibilityHint } from "../format";
import { Link, useTitle } from "../navigation";
import { EnterInput } from "../pages/browse";
import { PagedList } from "../pages/paged-list";
import { Empty, Loaded, useResource } from "../resource";
import { ActionHistory } from "./action-history";

const enc = encodeURIComponent;
const collectionsPageSize = 50;

/** A registry's collections. */
export function RegistryPage(props: { registry: string }) {
  const { registry } = props;
  useTitle(`Registry ${registry}`);
  const details = useResource(`registry:${registry}`, (signal) => api("getRegistry", { params: { registry }, signal }));
  const [q, setQ] = useState("");
  return (
    <div>
      <div className="breadcrumbs">
        <Link to="/">registries</Link> / {registry}
      </div>
      <Loaded resource={details}>
        {(details) => (
          <div>
            <h1>
              {details.name}{" "}
              <span className="badge" title={visibilityHint[details.visibility]}>
                {details.visibility}
              </span>
            </h1>
            <p className="muted">{details.description}</p>
          </div>
        )}
      </Loaded>
      <h2>Collections</h2>
      <div className="list-filters">
        <EnterInput testId="collections-search" placeholder="Name contains (Enter)" onCommit={setQ} />
      </div>
      <PagedList
        queryKey={`collections:${registry}:${q}`}
        pageSize={collectionsPageSize}
        testId="collections-list"
        empty={q ? "No collection matches." : "No collections in this registry."}
        load={async (offset, signal) => {
          const page = await api("listCollections", {
            params: { registry },
            query: { limit: collectionsPageSize, offset, q },
            signal,
          });
          return { items: page.collections, total: page.total };
        }}
      >
        {(collections) => (
          <table data-testid="collections">
            <thead>
              <tr>
                <th>Collection</th>
                <th>Type</th>
                <th>Linked versions</th>
                <th>Tags</th>
              </tr>
            </thead>
            <tbody>
              {collections.map((collection) => (
                <tr key={collection.name}>
                  <td>
                    <Link to={`/registries/${enc(registry)}/collections/${enc(collection.name)}`}>
                      {collection.name}
                    </Link>
                  </td>
                  <td>{collection.type}</td>
                  <td>{collection.linkedCount}</td>
                  <td>{collection.tags.join(", ")}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </PagedList>
    </div>
  );
}

/** A collection: its linked versions with their aliases, and its action history. */
export function CollectionPage(props: { registry: string; collection: string; query: URLSearchParams }) {
  const { registry, collection } = props;
  useTitle(`${registry}/${collection}`);
  const path = `/registries/${enc(registry)}/collections/${enc(collection)}`;
  const params = { registry, collection };
  const details = useResource(`collection:${path}`, (signal) => api("getCollection", { params, signal }));
  const versions = useResource(`collection-versions:${path}`, (signal) =>
    api("listCollectionVersions", { params, signal }),
  );
  return (
    <div>
      <div className="breadcrumbs">
        <Link to="/">registries</Link> / <Link to={`/registries/${enc(registry)}`}>{registry}</Link> / {collection}
      </div>
      <Loaded resource={details}>
        {(details) => (
          <div>
            <h1>
              {details.registry}/{details.name} <span className="badge">{details.type}</span>
            </h1>
            <p className="muted">{details.description}</p>
          </div>
        )}
      </Loaded>
      <h2>Versions</h2>
      <Loaded resource={versions}>
        {({ versions }) =>
          versions.length === 0 ? (
            <Empty>No versions linked.</Empty>
          ) : (
            <table data-testid="collection-versions">
              <thead>
                <tr>
                  <th>Version</th>
                  <th>Aliases</th>
                  <th>Source</th>
                  <th>Linked</th>
                </tr>
              </thead>
              <tbody>
                {versions.map((version) => (
                  <tr key={version.version}>
                    <td>{version.version}</td>
                    <td>
                      {version.aliases.map((alias) => (
                        <span key={alias} className="alias">
                          {alias}
                        </span>
                      ))}
                    </td>
                    <td>
                      <Link to={`/projects/${enc(version.source.project)}/versions/${version.source.id}?tab=lineage`}>
                        {version.source.project}/{version.source.artifact}:{version.source.version}
                      </Link>
                    </td>
                    <td>{formatTime(version.linkedAt)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )
        }
      </Loaded>
      <ActionHistory registry={registry} collection={collection} query={props.query} />
    </div>
  );
}
