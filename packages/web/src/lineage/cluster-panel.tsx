import type { ClusterNode, LineageQueryInput } from "@pedigree/protocol";
import { useState } from "react";
import { api, callKey } from "../api";
import { Empty, Loaded, useResource } from "../resource";

const pageSize = 20;
/** How many members one "show more" pulls out of the cluster into the graph. */
export const showMoreStep = 50;

/** A cluster's members, searchable by name and paged; any member can be pulled out to stand on its own. */
export function ClusterPanel(props: {
  project: string;
  cluster: ClusterNode;
  query: LineageQueryInput;
  onPull: (memberId: string) => void;
  /** Show this many of the cluster's first members (by name) on their own; 0 puts them all back. */
  onExpand: (count: number) => void;
  onExpandAll: () => void;
}) {
  const { project, cluster, query } = props;
  const [search, setSearch] = useState("");
  const [offset, setOffset] = useState(0);
  const call = {
    params: { project, clusterId: cluster.id },
    query: { ...query, q: search || undefined, limit: pageSize, offset },
  };
  const members = useResource(callKey("listClusterMembers", call), (signal) =>
    api("listClusterMembers", { ...call, signal }),
  );
  const step = Math.min(showMoreStep, cluster.memberCount);
  return (
    <div data-testid="cluster-panel">
      <h3>
        Cluster of {cluster.memberCount} {cluster.memberKind === "run" ? "runs" : "versions"}
      </h3>
      {cluster.shownMembers > 0 ? (
        <p className="muted" data-testid="cluster-shown">
          {cluster.shownMembers} more shown on their own beside it
        </p>
      ) : null}
      {cluster.reason === "budget" ? <p className="muted">Grouped to keep the graph within its node budget.</p> : null}
      <p className="muted">
        {cluster.memberKind === "run" ? `job type ${cluster.type}` : `artifact type ${cluster.type}`}
      </p>
      <div className="panel-actions">
        {cluster.memberCount > 0 ? (
          <button type="button" data-testid="show-more" onClick={() => props.onExpand(cluster.shownMembers + step)}>
            {cluster.memberCount > step ? `Show ${step} more in the graph` : `Show the last ${step} in the graph`}
          </button>
        ) : null}
        {cluster.shownMembers > 0 ? (
          <button type="button" data-testid="show-fewer" onClick={() => props.onExpand(0)}>
            Put the {cluster.shownMembers} shown back
          </button>
        ) : null}
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
