import { ArtifactDetails, ArtifactList, ProjectList, RegistryList, RunList } from "@pedigree/protocol";
import { useState } from "react";
import { apiGet, queryString } from "../api";
import { formatBytes, formatTime, visibilityHint } from "../format";
import { Link, useTitle } from "../navigation";
import { Empty, Loaded, useResource } from "../resource";
import { PagedList } from "./paged-list";

const enc = encodeURIComponent;

/** Start page: the projects and the registries. */
export function HomePage() {
  const projects = useResource("projects", () => apiGet("/projects", ProjectList));
  const registries = useResource("registries", () => apiGet("/registries", RegistryList));
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

const runsPageSize = 50;

/** A project's runs (paged, filtered by job type) and artifacts. */
export function ProjectPage(props: { project: string }) {
  const { project } = props;
  useTitle(`Project ${project}`);
  const [jobType, setJobType] = useState("");
  const artifacts = useResource(`artifacts:${project}`, (signal) =>
    apiGet(`/projects/${enc(project)}/artifacts`, ArtifactList, undefined, signal),
  );
  return (
    <div>
      <h1>{project}</h1>
      <div className="columns">
        <section>
          <h2>Runs</h2>
          <div className="list-filters">
            <EnterInput testId="runs-job-type" placeholder="Job type (Enter)" onCommit={setJobType} />
          </div>
          <PagedList
            queryKey={`runs:${project}:${jobType}`}
            pageSize={runsPageSize}
            testId="runs-list"
            empty={jobType ? `No ${jobType} runs in this project.` : "No runs in this project."}
            load={async (cursor, signal) => {
              const page = await apiGet(
                `/projects/${enc(project)}/runs${queryString({ limit: runsPageSize, cursor, jobType })}`,
                RunList,
                undefined,
                signal,
              );
              return { items: page.runs, nextCursor: page.nextCursor };
            }}
          >
            {(runs) => (
              <table data-testid="runs">
                <thead>
                  <tr>
                    <th>Run</th>
                    <th>Job type</th>
                    <th>State</th>
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
                      <td>{formatTime(run.startedAt)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            )}
          </PagedList>
        </section>
        <section>
          <h2>Artifacts</h2>
          <Loaded resource={artifacts}>
            {({ artifacts }) =>
              artifacts.length === 0 ? (
                <Empty>No artifacts in this project.</Empty>
              ) : (
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
                      <tr key={artifact.name}>
                        <td>
                          <Link to={`/projects/${enc(project)}/artifacts/${enc(artifact.name)}`}>{artifact.name}</Link>
                        </td>
                        <td>{artifact.type}</td>
                        <td>{artifact.versionCount}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              )
            }
          </Loaded>
        </section>
      </div>
    </div>
  );
}

/** An artifact's versions, newest first as the API lists them. */
export function ArtifactPage(props: { project: string; artifact: string }) {
  const { project, artifact } = props;
  useTitle(`${artifact} · ${project}`);
  const details = useResource(`artifact:${project}:${artifact}`, () =>
    apiGet(`/projects/${enc(project)}/artifacts/${enc(artifact)}`, ArtifactDetails),
  );
  return (
    <Loaded resource={details}>
      {(details) => (
        <div>
          <h1>
            {details.name} <span className="badge">{details.type}</span>
          </h1>
          {details.versions.length === 0 ? (
            <Empty>No versions yet.</Empty>
          ) : (
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
                {details.versions.map((version) => (
                  <tr key={version.id}>
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
        </div>
      )}
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
