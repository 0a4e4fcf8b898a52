import { RunState } from "@pedigree/protocol";
import { useState } from "react";
import { api } from "../api";
import { formatBytes, formatTime, visibilityHint } from "../format";
import { Link, useTitle } from "../navigation";
import { Empty, Loaded, useResource } from "../resource";
import { PagedList } from "./paged-list";

const enc = encodeURIComponent;

/** Start page: the projects and the registries. */
export function HomePage() {
  const projects = useResource("projects", (signal) => api("listProjects", { signal }));
  const registries = useResource("registries", (signal) => api("listRegistries", { signal }));
  return (
    <div className="columns">
      <section>
        <h2>Projects</h2>
        <Loaded resource={projects}>
          {({ projects }) =>
            projects.length === 0 ? (
              <Empty>No projects yet: log a run with the SDK.</Empty>
            ) : (
              <ul className="list" data-testid="projects">
                {projects.map((project) => (
                  <li key={project.name}>
                    <Link to={`/projects/${enc(project.name)}`}>{project.name}</Link>
                  </li>
                ))}
              </ul>
            )
          }
        </Loaded>
      </section>
      <section>
        <h2>Registries</h2>
        <Loaded resource={registries}>
          {({ registries }) =>
            registries.length === 0 ? (
              <Empty>No registries yet.</Empty>
            ) : (
              <ul className="list" data-testid="registries">
                {registries.map((registry) => (
                  <li key={registry.name}>
                    <Link to={`/registries/${enc(registry.name)}`}>{registry.name}</Link>{" "}
                    <span className="badge" title={visibilityHint[registry.visibility]}>
                      {registry.visibility}
                    </span>
                    {registry.description ? <span className="muted"> {registry.description}</span> : null}
                  </li>
                ))}
              </ul>
            )
          }
        </Loaded>
      </section>
    </div>
  );
}

const pageSize = 50;

/** A project's runs and artifacts, each paged, counted and searchable. */
export function ProjectPage(props: { project: string }) {
  const { project } = props;
  useTitle(`Project ${project}`);
  return (
    <div>
      <h1>{project}</h1>
      <div className="columns">
        <RunsSection project={project} />
        <ArtifactsSection project={project} />
      </div>
    </div>
  );
}

function RunsSection(props: { project: string }) {
  const { project } = props;
  const [filters, setFilters] = useState({ q: "", jobType: "", state: "", tag: "" });
  const set = (name: keyof typeof filters) => (value: string) => setFilters((now) => ({ ...now, [name]: value }));
  return (
    <section>
      <h2>Runs</h2>
      <div className="list-filters">
        <EnterInput testId="runs-search" placeholder="Name contains (Enter)" onCommit={set("q")} />
        <EnterInput testId="runs-job-type" placeholder="Job type" onCommit={set("jobType")} />
        <select data-testid="runs-state" value={filters.state} onChange={(event) => set("state")(event.target.value)}>
          <option value="">any state</option>
          {RunState.options.map((state) => (
            <option key={state} value={state}>
              {state}
            </option>
          ))}
        </select>
        <EnterInput testId="runs-tag" placeholder="Tag" onCommit={set("tag")} />
      </div>
      <PagedList
        queryKey={`runs:${project}:${JSON.stringify(filters)}`}
        pageSize={pageSize}
        testId="runs-list"
        empty={Object.values(filters).some(Boolean) ? "No run matches." : "No runs in this project."}
        load={async (offset, signal) => {
          const page = await api("listRuns", {
            params: { project },
            query: { limit: pageSize, offset, ...filters, state: RunState.safeParse(filters.state).data },
            signal,
          });
          return { items: page.runs, total: page.total };
        }}
      >
        {(runs) => (
          <table data-testid="runs">
            <thead>
              <tr>
                <th>Run</th>
                <th>Job type</th>
                <th>State</th>
                <th>Tags</th>
                <th>Started</th>
              </tr>
            </thead>
            <tbody>
              {runs.map((run) => (
                <tr key={run.id} data-testid="run-row">
                  <td>
                    <Link to={`/projects/${enc(project)}/runs/${run.id}`}>{run.name}</Link>
                  </td>
                  <td>{run.jobType}</td>
                  <td>{run.state}</td>
                  <td>{run.tags.join(", ")}</td>
                  <td>{formatTime(run.startedAt)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </PagedList>
    </section>
  );
}

function ArtifactsSection(props: { project: string }) {
  const { project } = props;
  const [q, setQ] = useState("");
  const [includeGenerated, setIncludeGenerated] = useState(false);
  return (
    <section>
      <h2>Artifacts</h2>
      <div className="list-filters">
        <EnterInput testId="artifacts-search" placeholder="Name contains (Enter)" onCommit={setQ} />
        <label>
          <input
            type="checkbox"
            data-testid="artifacts-generated"
            checked={includeGenerated}
            onChange={(event) => setIncludeGenerated(event.target.checked)}
          />
          generated (code, run tables)
        </label>
      </div>
      <PagedList
        queryKey={`artifacts:${project}:${q}:${includeGenerated}`}
        pageSize={pageSize}
        testId="artifacts-list"
        empty={q ? "No artifact matches." : "No artifacts in this project."}
        load={async (offset, signal) => {
          const page = await api("listArtifacts", {
            params: { project },
            query: { limit: pageSize, offset, q, includeGenerated: includeGenerated || undefined },
            signal,
          });
          return { items: page.artifacts, total: page.total };
        }}
      >
        {(artifacts) => (
          <table data-testid="artifacts">
            <thead>
              <tr>
                <th>Artifact</th>
                <th>Type</th>
                <th>Versions</th>
              </tr>
            </thead>
            <tbody>
              {artifacts.map((artifact) => (
                <tr key={artifact.name} data-testid="artifact-row">
                  <td>
                    <Link to={`/projects/${enc(project)}/artifacts/${enc(artifact.name)}`}>{artifact.name}</Link>
                  </td>
                  <td>{artifact.type}</td>
                  <td>{artifact.versionCount}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </PagedList>
    </section>
  );
}

/** An artifact's versions, newest first: paged with the count, searchable by vN, alias or description (on the server). */
export function ArtifactPage(props: { project: string; artifact: string }) {
  const { project, artifact } = props;
  useTitle(`${artifact} · ${project}`);
  const [q, setQ] = useState("");
  const details = useResource(`artifact:${project}:${artifact}`, (signal) =>
    api("getArtifact", { params: { project, name: artifact }, signal }),
  );
  return (
    <Loaded resource={details}>
      {(details) => {
        return (
          <div>
            <div className="breadcrumbs">
              <Link to={`/projects/${enc(project)}`}>{project}</Link> / {details.name}
            </div>
            <h1>
              {details.name} <span className="badge">{details.type}</span>
            </h1>
            {details.description ? <p className="muted">{details.description}</p> : null}
            <div className="list-filters">
              <EnterInput testId="versions-search" placeholder="vN, alias or description (Enter)" onCommit={setQ} />
            </div>
            <PagedList
              queryKey={`versions:${project}:${artifact}:${q}`}
              pageSize={pageSize}
              testId="versions-list"
              empty={q ? "No version matches." : "No versions yet."}
              load={async (offset, signal) => {
                const page = await api("listArtifactVersions", {
                  params: { project, name: artifact },
                  query: { limit: pageSize, offset, q },
                  signal,
                });
                return { items: page.versions, total: page.total };
              }}
            >
              {(versions) => (
                <table data-testid="versions">
                  <thead>
                    <tr>
                      <th>Version</th>
                      <th>Aliases</th>
                      <th>Size</th>
                      <th>Files</th>
                      <th>Created</th>
                    </tr>
                  </thead>
                  <tbody>
                    {versions.map((version) => (
                      <tr key={version.id} data-testid="version-row">
                        <td>
                          <Link to={`/projects/${enc(project)}/versions/${version.id}`}>
                            {version.version ?? "pending"}
                          </Link>
                        </td>
                        <td>
                          {version.aliases.map((alias) => (
                            <span key={alias} className="alias">
                              {alias}
                            </span>
                          ))}
                        </td>
                        <td>{formatBytes(version.size)}</td>
                        <td>{version.fileCount}</td>
                        <td>{formatTime(version.createdAt)}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              )}
            </PagedList>
          </div>
        );
      }}
    </Loaded>
  );
}

/** A filter field that applies on Enter (and when left), not on every keystroke. */
export function EnterInput(props: { testId: string; placeholder: string; onCommit: (value: string) => void }) {
  const [text, setText] = useState("");
  return (
    <input
      type="search"
      data-testid={props.testId}
      placeholder={props.placeholder}
      value={text}
      onChange={(event) => {
        setText(event.target.value);
        if (event.target.value === "") props.onCommit("");
      }}
      onBlur={() => props.onCommit(text.trim())}
      onKeyDown={(event) => {
        if (event.key === "Enter") props.onCommit(text.trim());
      }}
    />
  );
}
