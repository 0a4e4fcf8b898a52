import type { LineageGraph, LineageNode } from "@pedigree/protocol";
import {
  Background,
  Controls,
  type Edge,
  MarkerType,
  MiniMap,
  ReactFlow,
  ReactFlowProvider,
  useReactFlow,
} from "@xyflow/react";
import { useEffect, useMemo, useState } from "react";
import { api, callKey } from "../api";
import { navigate } from "../navigation";
import { Empty, Loaded, useResource } from "../resource";
import { ClusterPanel } from "./cluster-panel";
import { type LineageFlowNode, lineageNodeTypes } from "./graph-nodes";
import { layoutLineage, nodeHeight, nodeWidth } from "./layout";
import { NodeDetails } from "./node-details";
import { type LineageViewOptions, lineageQuery, viewOptionsFromUrl, viewOptionsToUrl } from "./view-options";

const enc = encodeURIComponent;

/** The page of a node, with its lineage tab open under these options. */
export function lineageUrl(project: string, node: LineageNode, options: LineageViewOptions, selected: string | null) {
  const kind = node.kind === "run" ? "runs" : "versions";
  return `/projects/${enc(project)}/${kind}/${node.id}${viewOptionsToUrl(options, selected)}`;
}

/** Lineage tab of a version or run: custom-view controls, the graph, and the selected node's side panel. */
export function LineageView(props: { project: string; baseId: string; basePath: string; query: URLSearchParams }) {
  const { project, baseId, basePath } = props;
  const options = viewOptionsFromUrl(props.query);
  const selected = props.query.get("selected");
  const apiQuery = lineageQuery(baseId, options);
  const call = { params: { project }, query: apiQuery };
  const graph = useResource(callKey("getLineage", call), () => api("getLineage", call));

  const setView = (next: LineageViewOptions, nextSelected: string | null = selected) =>
    navigate(`${basePath}${viewOptionsToUrl(next, nextSelected)}`, { replace: true });

  return (
    <div className="lineage">
      <ViewControls project={project} options={options} onChange={(next) => setView(next)} />
      <div className="lineage-body">
        <div className="graph-pane">
          <Loaded resource={graph}>
            {(graph) =>
              graph.nodes.length === 0 ? (
                <Empty>Nothing to show for this node.</Empty>
              ) : (
                <ReactFlowProvider>
                  <LineageCanvas graph={graph} selected={selected} onSelect={(id) => setView(options, id)} />
                </ReactFlowProvider>
              )
            }
          </Loaded>
        </div>
        <aside className="side-panel">
          {graph.status === "ready" ? (
            <SelectedNodePanel
              project={project}
              graph={graph.value}
              selected={selected}
              options={options}
              apiQuery={apiQuery}
              onView={setView}
            />
          ) : null}
        </aside>
      </div>
    </div>
  );
}

function SelectedNodePanel(props: {
  project: string;
  graph: LineageGraph;
  selected: string | null;
  options: LineageViewOptions;
  apiQuery: ReturnType<typeof lineageQuery>;
  onView: (options: LineageViewOptions, selected?: string | null) => void;
}) {
  const { project, graph, options } = props;
  const node = graph.nodes.find((candidate) => candidate.id === props.selected);
  if (!node) return <p className="muted">Select a node to see its details.</p>;
  if (node.kind === "cluster")
    return (
      <ClusterPanel
        project={project}
        cluster={node}
        query={props.apiQuery}
        onPull={(memberId) => props.onView({ ...options, pull: [...new Set([...options.pull, memberId])] }, memberId)}
        onExpandAll={() => props.onView({ ...options, expandClusters: true }, null)}
      />
    );
  return (
    <NodeDetails
      project={project}
      node={node}
      isBase={node.id === graph.base}
      onMakeBase={() => navigate(lineageUrl(project, node, { ...options, pull: [] }, node.id))}
    />
  );
}

const edgeStyle = { input: { stroke: "#4f6bed" }, output: { stroke: "#2f9e6b" }, hidden: { stroke: "#888" } };

function LineageCanvas(props: { graph: LineageGraph; selected: string | null; onSelect: (id: string) => void }) {
  const { graph, selected, onSelect } = props;
  const [laidOut, setLaidOut] = useState<{ nodes: LineageFlowNode[]; ms: number } | null>(null);
  const flow = useReactFlow();

  useEffect(() => {
    // Laid out after the first paint, so the "laying out" state shows while a large graph is placed.
    const timer = setTimeout(() => {
      const started = performance.now();
      const positions = layoutLineage(graph);
      const nodes = graph.nodes.map(
        (node): LineageFlowNode => ({
          id: node.id,
          type: "lineage",
          position: positions.get(node.id) ?? { x: 0, y: 0 },
          width: nodeWidth,
          height: nodeHeight,
          data: { node, isBase: node.id === graph.base, isSelected: false },
        }),
      );
      setLaidOut({ nodes, ms: performance.now() - started });
    }, 0);
    return () => clearTimeout(timer);
  }, [graph]);

  const nodes = useMemo(
    () => laidOut?.nodes.map((node) => ({ ...node, data: { ...node.data, isSelected: node.id === selected } })) ?? [],
    [laidOut, selected],
  );
  const edges = useMemo(
    (): Edge[] =>
      graph.edges.map((edge) => ({
        id: `${edge.source}>${edge.target}`,
        source: edge.source,
        target: edge.target,
        className: `edge-${edge.kind}`,
        style: {
          ...edgeStyle[edge.kind],
          strokeWidth: 1.5,
          ...(edge.kind === "hidden" ? { strokeDasharray: "6 4" } : {}),
        },
        markerEnd: { type: MarkerType.ArrowClosed, color: edgeStyle[edge.kind].stroke },
        data: { kind: edge.kind },
      })),
    [graph],
  );

  // biome-ignore lint/correctness/useExhaustiveDependencies: fit once per laid-out graph, not per selection
  useEffect(() => {
    if (laidOut) requestAnimationFrame(() => flow.fitView({ padding: 0.15 }));
  }, [laidOut]);

  if (!laidOut)
    return (
      <div className="state loading" data-testid="layout-loading">
        Laying out {graph.nodes.length} nodes…
      </div>
    );
  return (
    <div
      className="graph"
      data-testid="graph"
      data-node-count={graph.nodes.length}
      data-edge-count={graph.edges.length}
      data-layout-ms={Math.round(laidOut.ms)}
    >
      {graph.truncated ? <div className="banner">The graph was cut at {graph.nodes.length} nodes.</div> : null}
      <ReactFlow
        nodes={nodes}
        edges={edges}
        nodeTypes={lineageNodeTypes}
        nodesDraggable={false}
        nodesConnectable={false}
        minZoom={0.05}
        fitView
        onNodeClick={(_, node) => onSelect(node.id)}
      >
        <Background />
        <Controls showInteractive={false} />
        <MiniMap pannable zoomable />
      </ReactFlow>
    </div>
  );
}

/** Artifact types and job types offered are the ones logged in the project. */
function ViewControls(props: {
  project: string;
  options: LineageViewOptions;
  onChange: (options: LineageViewOptions) => void;
}) {
  const { project, options, onChange } = props;
  const facets = useResource(`facets:${project}`, async () => {
    const [artifacts, runs] = await Promise.all([
      api("listArtifacts", { params: { project } }),
      api("listRuns", { params: { project }, query: { limit: 1000 } }),
    ]);
    return {
      artifactTypes: [...new Set(artifacts.artifacts.map((artifact) => artifact.type))].sort(),
      jobTypes: [...new Set(runs.runs.map((run) => run.jobType))].sort(),
    };
  });
  const toggle = (list: string[], value: string) =>
    list.includes(value) ? list.filter((item) => item !== value) : [...list, value];
  const flag = (key: "extended" | "includeGenerated" | "expandClusters", label: string) => (
    <label>
      <input
        type="checkbox"
        data-testid={`option-${key}`}
        checked={options[key]}
        onChange={(event) => onChange({ ...options, [key]: event.target.checked })}
      />
      {label}
    </label>
  );
  const hops = (key: "upstream" | "downstream", label: string) => (
    <label>
      {label}
      <input
        type="number"
        min={0}
        max={50}
        data-testid={`option-${key}`}
        value={options[key]}
        onChange={(event) => {
          const value = Number(event.target.value);
          if (Number.isInteger(value) && value >= 0 && value <= 50) onChange({ ...options, [key]: value });
        }}
      />
    </label>
  );
  return (
    <div className="view-controls" data-testid="view-controls">
      {hops("upstream", "Upstream hops")}
      {hops("downstream", "Downstream hops")}
      {flag("extended", "Extended lineage")}
      {flag("includeGenerated", "Generated artifacts")}
      {flag("expandClusters", "Expand clusters")}
      <Loaded resource={facets}>
        {(facets) => (
          <>
            <fieldset data-testid="artifact-types">
              <legend>Artifact types</legend>
              {facets.artifactTypes.map((type) => (
                <label key={type}>
                  <input
                    type="checkbox"
                    data-testid={`artifact-type-${type}`}
                    checked={options.artifactTypes.includes(type)}
                    onChange={() => onChange({ ...options, artifactTypes: toggle(options.artifactTypes, type) })}
                  />
                  {type}
                </label>
              ))}
            </fieldset>
            <fieldset data-testid="job-types">
              <legend>Job types</legend>
              {facets.jobTypes.map((type) => (
                <label key={type}>
                  <input
                    type="checkbox"
                    data-testid={`job-type-${type}`}
                    checked={options.jobTypes.includes(type)}
                    onChange={() => onChange({ ...options, jobTypes: toggle(options.jobTypes, type) })}
                  />
                  {type}
                </label>
              ))}
            </fieldset>
          </>
        )}
      </Loaded>
      <span className="muted">none checked = all</span>
    </div>
  );
}
