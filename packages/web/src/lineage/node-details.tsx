import type {
  DatasetOpenLineage,
  LineageNode,
  NodeRegistryLink,
  RunOpenLineage,
  SchemaField,
} from "@pedigree/protocol";
import { useState } from "react";
import { api } from "../api";
import { formatBytes, formatJson, formatTime } from "../format";
import { Link } from "../navigation";
import { EnterInput } from "../pages/browse";
import { PagedList } from "../pages/paged-list";
import { Loaded, useResource } from "../resource";

const enc = encodeURIComponent;

/** The side panel of a selected run or version, loaded from the node's own endpoint. */
export function NodeDetails(props: {
  project: string;
  node: LineageNode;
  isBase: boolean;
  pulled: boolean;
  onPutBack: () => void;
  onMakeBase: () => void;
}) {
  const { project, node } = props;
  return (
    <div data-testid="node-details">
      <div className="panel-actions">
        {props.isBase ? (
          <span className="badge">base</span>
        ) : (
          <button type="button" data-testid="make-base" onClick={props.onMakeBase}>
            Make this the base
          </button>
        )}
        {props.pulled ? (
          <button type="button" data-testid="put-back" onClick={props.onPutBack}>
            Put back in its cluster
          </button>
        ) : null}
      </div>
      {node.kind === "version" && node.registryLinks ? <GraphRegistryLinks links={node.registryLinks} /> : null}
      {node.kind === "version" ? <VersionPanel project={project} id={node.id} /> : null}
      {node.kind === "run" ? <RunPanel project={project} id={node.id} /> : null}
    </div>
  );
}

/**
 * The collections holding the version as the graph shows it (at its `asOf`, if any): each as the registry ref
 * of its `vN`, with its aliases there. "Registry memberships" below are the version's links now.
 */
function GraphRegistryLinks(props: { links: NodeRegistryLink[] }) {
  return (
    <div data-testid="details-registry-links">
      <h4>In registries (as drawn)</h4>
      <ul>
        {props.links.map((link) => (
          <li key={`${link.registry}/${link.collection}`}>
            <Link to={`/registries/${enc(link.registry)}/collections/${enc(link.collection)}`}>
              {link.registry}/{link.collection}:{link.version}
            </Link>
            {link.aliases.map((alias) => (
              <span key={alias} className="alias">
                {alias}
              </span>
            ))}
          </li>
        ))}
      </ul>
    </div>
  );
}

/** A version's details; one cached request shared by the panel, the breadcrumbs and the page title. */
export const useVersionDetails = (project: string, id: string) =>
  useResource(`version:${project}:${id}`, (signal) =>
    api("getVersion", { params: { project, versionId: id }, signal }),
  );
export const useRunDetails = (project: string, id: string) =>
  useResource(`run:${project}:${id}`, (signal) => api("getRun", { params: { project, runId: id }, signal }));

/** How long a run took, or has been running. */
export function formatDuration(startedAt: string, finishedAt: string | null): string {
  const ms = (finishedAt ? Date.parse(finishedAt) : Date.now()) - Date.parse(startedAt);
  if (!Number.isFinite(ms) || ms < 0) return "—";
  const seconds = Math.round(ms / 1000);
  const text =
    seconds < 60
      ? `${seconds} s`
      : seconds < 3600
        ? `${Math.floor(seconds / 60)} min ${seconds % 60} s`
        : `${Math.floor(seconds / 3600)} h ${Math.floor((seconds % 3600) / 60)} min`;
  return finishedAt ? text : `${text} so far`;
}

export function VersionPanel(props: { project: string; id: string }) {
  const details = useVersionDetails(props.project, props.id);
  return (
    <Loaded resource={details}>
      {(version) => (
        <div>
          <h3 data-testid="details-title">
            {version.artifact}:{version.version}
          </h3>
          <dl>
            <dt>Artifact</dt>
            <dd>
              <Link to={`/projects/${enc(version.project)}/artifacts/${enc(version.artifact)}`}>
                {version.artifact}
              </Link>
            </dd>
            <dt>Type</dt>
            <dd data-testid="details-type">{version.type}</dd>
            <dt>Description</dt>
            <dd data-testid="details-description">{version.description ?? "—"}</dd>
            <dt>Version</dt>
            <dd>{version.version}</dd>
            <dt>Aliases</dt>
            <dd data-testid="details-aliases">{version.aliases.join(", ") || "—"}</dd>
            <dt>Digest</dt>
            <dd className="mono">{version.digest}</dd>
            <dt>Size</dt>
            <dd>{formatBytes(version.size)}</dd>
            <dt>Created</dt>
            <dd>{formatTime(version.createdAt)}</dd>
          </dl>
          {version.openlineage ? <DatasetFacetsPanel openlineage={version.openlineage} /> : null}
          <h4>Metadata</h4>
          <pre>{formatJson(version.metadata)}</pre>
          <h4>Files ({version.manifest.length})</h4>
          <ul className="files" data-testid="details-files">
            {version.manifest.map((entry) => (
              <li key={entry.path}>
                {entry.path} <span className="muted">{"uri" in entry ? entry.uri : formatBytes(entry.size)}</span>
              </li>
            ))}
          </ul>
          <h4>Logged by ({version.producerCount})</h4>
          <VersionRunsList project={version.project} id={version.id} relation="producers" />
          <h4>Used by ({version.consumerCount})</h4>
          <VersionRunsList project={version.project} id={version.id} relation="consumers" />
          <h4>Registry memberships</h4>
          <ul data-testid="details-memberships">
            {version.memberships.length === 0 ? <li className="muted">none</li> : null}
            {version.memberships.map((membership) => (
              <li key={`${membership.registry}/${membership.collection}`}>
                <Link to={`/registries/${enc(membership.registry)}/collections/${enc(membership.collection)}`}>
                  {membership.registry}/{membership.collection}:{membership.version}
                </Link>{" "}
                <span className="muted">{membership.aliases.join(", ")}</span>
              </li>
            ))}
          </ul>
        </div>
      )}
    </Loaded>
  );
}

export function RunPanel(props: { project: string; id: string }) {
  const details = useRunDetails(props.project, props.id);
  return (
    <Loaded resource={details}>
      {(run) => (
        <div>
          <h3 data-testid="details-title">{run.name}</h3>
          <dl>
            <dt>Run id</dt>
            <dd className="mono">{run.id}</dd>
            <dt>Job type</dt>
            <dd data-testid="details-type">{run.jobType}</dd>
            <dt>State</dt>
            <dd data-testid="details-state">{run.state}</dd>
            <dt>Tags</dt>
            <dd data-testid="details-tags">
              {run.tags.length === 0
                ? "—"
                : run.tags.map((tag) => (
                    <span key={tag} className="alias">
                      {tag}
                    </span>
                  ))}
            </dd>
            <dt>Author</dt>
            <dd data-testid="details-author">{run.createdBy}</dd>
            <dt>Started</dt>
            <dd>{formatTime(run.startedAt)}</dd>
            <dt>Finished</dt>
            <dd>{formatTime(run.finishedAt)}</dd>
            <dt>Duration</dt>
            <dd data-testid="details-duration">{formatDuration(run.startedAt, run.finishedAt)}</dd>
          </dl>
          {run.openlineage ? <RunFacetsPanel openlineage={run.openlineage} /> : null}
          <h4>Config</h4>
          <pre data-testid="details-config">{formatJson(run.config)}</pre>
          <h4>Inputs ({run.inputs.length})</h4>
          <ul data-testid="details-inputs">
            {run.inputs.map((input) => (
              <li key={input.version.id}>
                <Link to={`/projects/${enc(input.version.project)}/versions/${input.version.id}`}>
                  {input.version.artifact}:{input.version.version}
                </Link>{" "}
                <span className="muted">as {input.requestedRef}</span>
              </li>
            ))}
          </ul>
          <h4>Outputs ({run.outputs.length})</h4>
          <ul data-testid="details-outputs">
            {run.outputs.map((output) => (
              <li key={output.id}>
                <Link to={`/projects/${enc(output.project)}/versions/${output.id}`}>
                  {output.artifact}:{output.version}
                </Link>{" "}
                <span className="muted">{output.type}</span>
              </li>
            ))}
          </ul>
        </div>
      )}
    </Loaded>
  );
}

/** The facets node details show by name, in this order; any other facet follows as JSON. */
const shownFacets = [
  "documentation",
  "sql",
  "sourceCode",
  "sourceCodeLocation",
  "ownership",
  "columnLineage",
  "jobType",
  "tags",
  "errorMessage",
];

function DatasetFacetsPanel(props: { openlineage: DatasetOpenLineage }) {
  const { namespace, name, datasetVersion, facets } = props.openlineage;
  const schema = facets.schema as { fields?: SchemaField[] } | undefined;
  return (
    <div data-testid="details-openlineage">
      <h4>OpenLineage dataset</h4>
      <dl>
        <dt>Namespace</dt>
        <dd className="mono" data-testid="details-namespace">
          {namespace}
        </dd>
        <dt>Name</dt>
        <dd className="mono">{name}</dd>
        <dt>Dataset version</dt>
        <dd className="mono">{datasetVersion ?? "—"}</dd>
      </dl>
      {schema?.fields ? <SchemaTable fields={schema.fields} /> : null}
      <FacetList facets={facets} skip={["schema"]} />
    </div>
  );
}

function RunFacetsPanel(props: { openlineage: RunOpenLineage }) {
  const { runId, namespace, name, parent, runFacets, jobFacets } = props.openlineage;
  return (
    <div data-testid="details-openlineage">
      <h4>OpenLineage job</h4>
      <dl>
        <dt>Namespace</dt>
        <dd className="mono" data-testid="details-namespace">
          {namespace}
        </dd>
        <dt>Job</dt>
        <dd className="mono">{name}</dd>
        <dt>Run id</dt>
        <dd className="mono">{runId}</dd>
        <dt>Parent</dt>
        <dd className="mono" data-testid="details-parent">
          {parent ? `${parent.namespace} / ${parent.name} (${parent.runId})` : "—"}
        </dd>
      </dl>
      <FacetList facets={jobFacets} skip={[]} />
      <FacetList facets={runFacets} skip={["parent"]} />
    </div>
  );
}

/** The schema facet as a table: one row per field, nested fields indented under their parent. */
function SchemaTable(props: { fields: SchemaField[] }) {
  const rows: { field: SchemaField; depth: number; key: string }[] = [];
  const walk = (fields: SchemaField[], depth: number, prefix: string) => {
    for (const field of fields) {
      const key = `${prefix}${field.name}`;
      rows.push({ field, depth, key });
      if (field.fields?.length) walk(field.fields, depth + 1, `${key}.`);
    }
  };
  walk(props.fields, 0, "");
  return (
    <>
      <h4>Schema ({props.fields.length})</h4>
      <table data-testid="details-schema">
        <thead>
          <tr>
            <th>Field</th>
            <th>Type</th>
            <th>Description</th>
          </tr>
        </thead>
        <tbody>
          {rows.map(({ field, depth, key }) => (
            <tr key={key}>
              <td className="mono" style={{ paddingLeft: `${depth * 1.2 + 0.4}em` }}>
                {field.name}
              </td>
              <td className="mono">{field.type ?? "—"}</td>
              <td>{field.description ?? ""}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </>
  );
}

function FacetList(props: { facets: Record<string, unknown>; skip: string[] }) {
  const names = Object.keys(props.facets)
    .filter((name) => !props.skip.includes(name))
    .sort((a, b) => rankOf(a) - rankOf(b) || a.localeCompare(b));
  return (
    <>
      {names.map((name) => (
        <details key={name} data-testid={`facet-${name}`} open={name === "sql" || name === "documentation"}>
          <summary>{name}</summary>
          <pre>{formatJson(withoutBase(props.facets[name]))}</pre>
        </details>
      ))}
    </>
  );
}

const rankOf = (name: string) => {
  const index = shownFacets.indexOf(name);
  return index === -1 ? shownFacets.length : index;
};

/** A facet without `_producer` and `_schemaURL`: what it says, not who said it. */
function withoutBase(facet: unknown): unknown {
  if (facet === null || typeof facet !== "object") return facet;
  const { _producer, _schemaURL, ...rest } = facet as Record<string, unknown>;
  return rest;
}

const versionRunsPageSize = 20;

/** "Used by" or "logged by" a version: paged with the count, searchable by run name. */
function VersionRunsList(props: { project: string; id: string; relation: "consumers" | "producers" }) {
  const { project, id, relation } = props;
  const [q, setQ] = useState("");
  return (
    <div>
      <EnterInput testId={`${relation}-search`} placeholder="Run name contains (Enter)" onCommit={setQ} />
      <PagedList
        queryKey={`${relation}:${project}:${id}:${q}`}
        pageSize={versionRunsPageSize}
        testId={`${relation}-list`}
        empty={q ? "No run matches." : relation === "consumers" ? "No run used it." : "Logged without a run."}
        load={async (offset, signal) => {
          const page = await api(relation === "consumers" ? "listVersionConsumers" : "listVersionProducers", {
            params: { project, versionId: id },
            query: { limit: versionRunsPageSize, offset, q },
            signal,
          });
          return { items: page.runs, total: page.total };
        }}
      >
        {(runs) => (
          <ul data-testid={relation === "consumers" ? "details-consumers" : "details-producers"}>
            {runs.map((run) => (
              <li key={run.id}>
                <Link to={`/projects/${enc(project)}/runs/${run.id}`}>{run.name}</Link>{" "}
                <span className="muted">
                  {run.jobType}
                  {run.requestedRef ? ` · as ${run.requestedRef}` : ""}
                </span>
              </li>
            ))}
          </ul>
        )}
      </PagedList>
    </div>
  );
}
