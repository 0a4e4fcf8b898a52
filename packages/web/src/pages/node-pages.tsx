import { LineageView } from "../lineage/lineage-view";
import { RunPanel, useRunDetails, useVersionDetails, VersionPanel } from "../lineage/node-details";
import { viewOptionsFromUrl, viewOptionsToUrl } from "../lineage/view-options";
import { Link, useTitle } from "../navigation";

const enc = encodeURIComponent;

/** A version's or run's page: an overview tab with its details, and its lineage tab. */
export function NodePage(props: { project: string; kind: "versions" | "runs"; id: string; query: URLSearchParams }) {
  const { project, kind, id, query } = props;
  const basePath = `/projects/${enc(project)}/${kind}/${id}`;
  const tab = query.get("tab") === "lineage" ? "lineage" : "overview";
  const name =
    kind === "versions" ? (
      <VersionName project={project} id={id} tab={tab} />
    ) : (
      <RunName project={project} id={id} tab={tab} />
    );
  return (
    <div className="node-page">
      <div className="breadcrumbs" data-testid="breadcrumbs">
        <Link to={`/projects/${enc(project)}`}>{project}</Link> / {name}
        {tab === "lineage" ? " / lineage" : ""}
      </div>
      <nav className="tabs">
        <Link to={basePath} className={tab === "overview" ? "active" : ""} testId="tab-overview">
          Overview
        </Link>
        <Link
          to={`${basePath}${viewOptionsToUrl(viewOptionsFromUrl(query), null)}`}
          className={tab === "lineage" ? "active" : ""}
          testId="tab-lineage"
        >
          Lineage
        </Link>
      </nav>
      {tab === "lineage" ? (
        <LineageView project={project} baseId={id} basePath={basePath} query={query} />
      ) : kind === "versions" ? (
        <div className="overview">
          <VersionPanel project={project} id={id} />
        </div>
      ) : (
        <div className="overview">
          <RunPanel project={project} id={id} />
        </div>
      )}
    </div>
  );
}

/** `cifar-classifier:v11`, linked to its artifact; the id until the details arrive. */
function VersionName(props: { project: string; id: string; tab: string }) {
  const details = useVersionDetails(props.project, props.id);
  usePageTitle(
    props,
    details.status === "ready" ? `${details.value.artifact}:${details.value.version ?? "pending"}` : props.id,
  );
  if (details.status !== "ready") return <span className="mono">{props.id}</span>;
  const version = details.value;
  return (
    <>
      <Link to={`/projects/${enc(props.project)}/artifacts/${enc(version.artifact)}`}>{version.artifact}</Link>
      <span data-testid="breadcrumb-name">:{version.version ?? "pending"}</span>
    </>
  );
}

function RunName(props: { project: string; id: string; tab: string }) {
  const details = useRunDetails(props.project, props.id);
  usePageTitle(props, details.status === "ready" ? `run ${details.value.name}` : props.id);
  return details.status === "ready" ? (
    <span data-testid="breadcrumb-name">
      run {details.value.name} <span className="muted">({details.value.jobType})</span>
    </span>
  ) : (
    <span className="mono">{props.id}</span>
  );
}

const usePageTitle = (props: { project: string; tab: string }, name: string) =>
  useTitle(`${props.tab === "lineage" ? "Lineage of " : ""}${name} · ${props.project}`);
