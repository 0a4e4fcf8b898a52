import { LineageView } from "../lineage/lineage-view";
import { RunPanel, VersionPanel } from "../lineage/node-details";
import { viewOptionsFromUrl, viewOptionsToUrl } from "../lineage/view-options";
import { Link } from "../navigation";

const enc = encodeURIComponent;

/** A version's or run's page: an overview tab with its details, and its lineage tab. */
export function NodePage(props: { project: string; kind: "versions" | "runs"; id: string; query: URLSearchParams }) {
  const { project, kind, id, query } = props;
  const basePath = `/projects/${enc(project)}/${kind}/${id}`;
  const tab = query.get("tab") === "lineage" ? "lineage" : "overview";
  return (
    <div className="node-page">
      <div className="breadcrumbs">
        <Link to={`/projects/${enc(project)}`}>{project}</Link> / {kind === "runs" ? "run" : "version"}{" "}
        <span className="mono">{id}</span>
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
