import { ArtifactDetails, ArtifactList, ProjectList, RegistryList, RunList } from "@pedigree/protocol";
import { apiGet } from "../api";
import { formatBytes, formatTime, visibilityHint } from "../format";
import { Link, useTitle } from "../navigation";
import { Empty, Loaded, useResource } from "../resource";

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

/** A project's runs and artifacts. */
export function ProjectPage(props: { project: string }) {
  const { project } = props;
  useTitle(`Project ${project}`);
  const runs = useResource(`runs:${project}`, () => apiGet(`/projects/${enc(project)}/runs?limit=200`, RunList));
  const artifacts = useResource(`artifacts:${project}`, () =>
    apiGet(`/projects/${enc(project)}/artifacts`, ArtifactList),
  );
  return (
    <div>
      <h1>{project}</h1>
      <div className="columns">
        <section>
          <h2>Runs</h2>
          <Loaded resource={runs}>
            {({ runs }) =>
              runs.length === 0 ? (
                <Empty>No runs in this project.</Empty>
              ) : (
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
                      <tr key={run.id}>
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
              )
            }
          </Loaded>
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
