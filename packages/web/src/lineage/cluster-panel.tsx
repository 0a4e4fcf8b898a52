import { ClusterMembers, type ClusterNode, type LineageQueryInput } from "@pedigree/protocol";
import { useState } from "react";
import { apiGet } from "../api";
import { Empty, Loaded, useResource } from "../resource";
import { lineageQueryString } from "./view-options";

const pageSize = 20;
/** How many members one "show more" pulls out of the cluster into the graph. */
export const showMoreStep = 50;

/** A cluster's members, searchable by name and paged; any member can be pulled out to stand on its own. */
export function ClusterPanel(props: {
  project: string;
  cluster: ClusterNode;
  query: LineageQueryInput;
  onPull: (memberId: string) => void;
  onPullMany: (memberIds: string[]) => void;
  onExpandAll: () => void;
}) {
  const { project, cluster, query } = props;
  const [search, setSearch] = useState("");
  const [offset, setOffset] = useState(0);
  const path = `/projects/${encodeURIComponent(project)}/lineage/clusters/${cluster.id}/members${lineageQueryString({
    ...query,
    q: search || undefined,
    limit: pageSize,
    offset,
  } as LineageQueryInput)}`;
  const members = useResource(path, (signal) => apiGet(path, ClusterMembers, undefined, signal));
  const [pulling, setPulling] = useState(false);
  const step = Math.min(showMoreStep, cluster.memberCount);
  // The next members in the cluster's own order (by name): pulled out, they stand in the graph on their own.
  const showMore = async () => {
    setPulling(true);
    try {
      const next = await apiGet(
        `/projects/${encodeURIComponent(project)}/lineage/clusters/${cluster.id}/members${lineageQueryString({
          ...query,
          limit: step,
          offset: 0,
        } as LineageQueryInput)}`,
        ClusterMembers,
      );
      props.onPullMany(next.members.map((member) => member.id));
    } finally {
      setPulling(false);
    }
  };
  return (
    <div data-testid="cluster-panel">
      <h3>
        Cluster of {cluster.memberCount} {cluster.memberKind === "run" ? "runs" : "versions"}
      </h3>
      <p className="muted">
        {cluster.memberKind === "run" ? `job type ${cluster.type}` : `artifact type ${cluster.type}`}
      </p>
      <div className="panel-actions">
        <button type="button" data-testid="show-more" disabled={pulling} onClick={() => void showMore()}>
          {cluster.memberCount > step ? `Show ${step} more in the graph` : `Show all ${step} in the graph`}
        </button>
        <button type="button" data-testid="expand-all" onClick={props.onExpandAll}>
          Expand all clusters
        </button>
      </div>
      <input
        type="search"
        placeholder="Search members by name"
        data-testid="member-search"
        value={search}
        onChange={(event) => {
          setSearch(event.target.value);
          setOffset(0);
        }}
      />
      <Loaded resource={members}>
        {({ members, total }) =>
          members.length === 0 ? (
            <Empty>No member matches.</Empty>
          ) : (
            <div>
              <ul className="members" data-testid="cluster-members">
                {members.map((member) => (
                  <li key={member.id} data-testid={`member-${member.id}`}>
                    <span>{member.kind === "run" ? member.name : `${member.artifact}:${member.version}`}</span>
                    <button type="button" data-testid={`pull-${member.id}`} onClick={() => props.onPull(member.id)}>
                      Pull out
                    </button>
                  </li>
                ))}
              </ul>
              <div className="pager">
                <button type="button" disabled={offset === 0} onClick={() => setOffset(Math.max(0, offset - pageSize))}>
                  Previous
                </button>
                <span>
                  {offset + 1}–{offset + members.length} of {total}
                </span>
                <button
                  type="button"
                  disabled={offset + members.length >= total}
                  onClick={() => setOffset(offset + pageSize)}
                >
                  Next
                </button>
              </div>
            </div>
          )
        }
      </Loaded>
    </div>
  );
}
