import type { ClusterNode, LineageGraph, LineageNode, LineageQueryInput } from "@pedigree/protocol";
import {
  applyNodeChanges,
  Background,
  Controls,
  type Edge,
  MarkerType,
  MiniMap,
  type NodeChange,
  ReactFlow,
  ReactFlowProvider,
  useReactFlow,
} from "@xyflow/react";
import { useEffect, useMemo, useRef, useState } from "react";
import { api, callKey } from "../api";
import { navigate } from "../navigation";
import { Empty, ErrorState, Loaded, useResource } from "../resource";
import { ClusterPanel } from "./cluster-panel";
import { type LineageFlowNode, lineageNodeTypes, matchesFind } from "./graph-nodes";
import { heightOf, layoutLineage, nodeHeight, nodeWidth } from "./layout";
import { NodeDetails } from "./node-details";
import { type LineageViewOptions, lineageQuery, viewOptionsFromUrl, viewOptionsToUrl } from "./view-options";

const enc = encodeURIComponent;

/** The page of a node, with its lineage tab open under these options. */
export function lineageUrl(project: string, node: LineageNode, options: LineageViewOptions, selected: string | null) {
  const kind = node.kind === "run" ? "runs" : "versions";
  return `/projects/${enc(project)}/${kind}/${node.id}${viewOptionsToUrl(options, selected)}`;
}

/** A panel the user can fold away; remembered in this browser. */
function useFold(name: string, shownByDefault: boolean): [boolean, () => void] {
  const storageKey = `pedigree.fold.${name}`;
  const [shown, setShown] = useState(() => {
    const saved = localStorage.getItem(storageKey);
    return saved === null ? shownByDefault : saved === "shown";
  });
  return [
    shown,
    () =>
      setShown((now) => {
        localStorage.setItem(storageKey, now ? "hidden" : "shown");
        return !now;
      }),
  ];
}

/** Lineage tab of a version or run: custom-view controls, the graph, and the selected node's side panel. */
export function LineageView(props: { project: string; baseId: string; basePath: string; query: URLSearchParams }) {
  const { project, baseId, basePath } = props;
  const options = viewOptionsFromUrl(props.query);
  const selected = props.query.get("selected");
  const apiQuery = lineageQuery(baseId, options);
  const call = { params: { project }, query: apiQuery };
  const graph = useResource(callKey("getLineage", call), (signal) => api("getLineage", { ...call, signal }), {
    keepPrevious: true,
  });
  // The graph stays drawn while a newer one loads, and when loading it failed (with the error above it).
  const lastDrawn = useRef<LineageGraph | null>(null);
  if (graph.status === "ready") lastDrawn.current = graph.value;
  const drawn = graph.status === "ready" ? graph.value : (graph.previous ?? lastDrawn.current);
  const [showControls, toggleControls] = useFold("controls", true);
  const [showPanel, togglePanel] = useFold("panel", true);
  const [showMinimap, toggleMinimap] = useFold("minimap", false);
  const [find, setFind] = useState("");

  const setView = (next: LineageViewOptions, nextSelected: string | null = selected) =>
    navigate(`${basePath}${viewOptionsToUrl(next, nextSelected)}`, { replace: true });

  return (
    <div className="lineage">
      <div className="lineage-toolbar">
        <button type="button" data-testid="toggle-controls" aria-expanded={showControls} onClick={toggleControls}>
          {showControls ? "Hide view options" : "View options"}
        </button>
        <FindBox
          value={find}
          onChange={setFind}
          graph={drawn}
          project={project}
          apiQuery={apiQuery}
          onPull={(id) => setView({ ...options, pull: [...new Set([...options.pull, id])] }, id)}
        />
        <Legend />
        <button type="button" data-testid="toggle-minimap" aria-pressed={showMinimap} onClick={toggleMinimap}>
          {showMinimap ? "Hide minimap" : "Minimap"}
        </button>
        <button type="button" data-testid="toggle-panel" aria-expanded={showPanel} onClick={togglePanel}>
          {showPanel ? "Hide details" : "Details"}
        </button>
      </div>
      {showControls ? <ViewControls project={project} options={options} onChange={(next) => setView(next)} /> : null}
      <div className={showPanel ? "lineage-body" : "lineage-body panel-hidden"}>
        <div className="graph-pane">
          {graph.status === "error" && drawn ? (
            <div className="graph-error">
              <ErrorState error={graph.error} onRetry={graph.retry} />
            </div>
          ) : null}
          {drawn ? (
            drawn.nodes.length === 0 ? (
              <Empty>Nothing to show for this node.</Empty>
            ) : (
              <ReactFlowProvider>
                <LineageCanvas
                  graph={drawn}
                  selected={selected}
                  find={find}
                  showMinimap={showMinimap}
                  loading={graph.fetching}
                  onSelect={(id) => {
                    setView(options, id);
                    if (id && !showPanel) togglePanel();
                  }}
                />
              </ReactFlowProvider>
            )
          ) : (
            <Loaded resource={graph}>{() => null}</Loaded>
          )}
        </div>
        {showPanel ? (
          <aside className="side-panel" data-testid="side-panel">
            {drawn ? (
              <SelectedNodePanel
                project={project}
                graph={drawn}
                selected={selected}
                options={options}
                apiQuery={apiQuery}
                onView={setView}
              />
            ) : null}
          </aside>
        ) : null}
      </div>
    </div>
  );
}

/**
 * Find in the graph: by name, artifact:version, alias or id; Enter moves to the next match. Members hidden in
 * the graph's clusters are searched too (by name, on the server), and one found there can be shown on its own.
 */
function FindBox(props: {
  value: string;
  onChange: (value: string) => void;
  graph: LineageGraph | null;
  project: string;
  apiQuery: LineageQueryInput;
  onPull: (memberId: string) => void;
}) {
  const needle = props.value.trim();
  const matches = needle && props.graph ? props.graph.nodes.filter((node) => matchesFind(node, needle)) : [];
  const [settled, setSettled] = useState("");
  useEffect(() => {
    const timer = setTimeout(() => setSettled(needle), 300);
    return () => clearTimeout(timer);
  }, [needle]);
  const clusters = (props.graph?.nodes ?? [])
    .filter((node): node is ClusterNode => node.kind === "cluster")
    .slice(0, 20);
  return (
    <span className="find">
      <input
        type="search"
        data-testid="find"
        placeholder="Find in graph: name, alias, id"
        value={props.value}
        onChange={(event) => props.onChange(event.target.value)}
        onKeyDown={(event) => {
          if (event.key === "Enter")
            window.dispatchEvent(new CustomEvent(findNextEvent, { detail: event.shiftKey ? -1 : 1 }));
          if (event.key === "Escape") props.onChange("");
        }}
      />
      {needle ? (
        <span className="muted" data-testid="find-count">
          {matches.length === 0 ? "no match" : `${matches.length} ${matches.length === 1 ? "match" : "matches"}`}
        </span>
      ) : null}
      {settled && settled === needle && clusters.length > 0 ? (
        <ClusterFind
          project={props.project}
          apiQuery={props.apiQuery}
          clusters={clusters}
          needle={settled}
          onPull={props.onPull}
        />
      ) : null}
    </span>
  );
}

const clusterFindLimit = 5;

function ClusterFind(props: {
  project: string;
  apiQuery: LineageQueryInput;
  clusters: ClusterNode[];
  needle: string;
  onPull: (memberId: string) => void;
}) {
  const key = `cluster-find:${callKey("getLineage", { params: { project: props.project }, query: props.apiQuery })}:${props.clusters.map((c) => c.id).join(",")}:${props.needle}`;
  const found = useResource(key, (signal) =>
    Promise.all(
      props.clusters.map(async (cluster) => {
        const answer = await api("listClusterMembers", {
          params: { project: props.project, clusterId: cluster.id },
          query: { ...props.apiQuery, q: props.needle, limit: clusterFindLimit },
          signal,
        });
        return { cluster, answer };
      }),
    ),
  );
  if (found.status !== "ready") return null;
  const hits = found.value.filter(({ answer }) => answer.total > 0);
  if (hits.length === 0) return null;
  return (
    <div className="find-in-clusters" data-testid="find-in-clusters">
      {hits.map(({ cluster, answer }) => (
        <div key={cluster.id}>
          <div className="muted">
            {answer.total} in the cluster of {cluster.memberCount} {cluster.memberKind}s
          </div>
          <ul>
            {answer.members.map((member) => (
              <li key={member.id}>
                {member.kind === "run" ? member.name : `${member.artifact}:${member.version}`}{" "}
                <button type="button" data-testid={`find-pull-${member.id}`} onClick={() => props.onPull(member.id)}>
                  Show
                </button>
              </li>
            ))}
          </ul>
        </div>
      ))}
    </div>
  );
}
const findNextEvent = "pedigree:find-next";

/** What the shapes and line colours mean. */
function Legend() {
  return (
    <span className="legend" data-testid="legend">
      <span className="legend-item">
        <span className="swatch run" /> run
      </span>
      <span className="legend-item">
        <span className="swatch version" /> version
      </span>
      <span className="legend-item">
        <span className="swatch cluster" /> cluster
      </span>
      <span className="legend-item">
        <span className="swatch base" /> base
      </span>
      <span className="legend-item">
        <span className="line input" /> used by
      </span>
      <span className="legend-item">
        <span className="line output" /> logged
      </span>
      <span className="legend-item">
        <span className="line hidden" /> through hidden nodes
      </span>
    </span>
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
  if (!node) return <p className="muted">Select a node (click it, or Tab to it and press Enter) to see its details.</p>;
  const pull = (ids: string[], select: string | null) =>
    props.onView({ ...options, pull: [...new Set([...options.pull, ...ids])] }, select);
  const expand = (clusterId: string, count: number) => {
    const others = options.expand.filter((item) => !item.startsWith(`${clusterId}:`));
    props.onView({ ...options, expand: count > 0 ? [...others, `${clusterId}:${count}`] : others }, clusterId);
  };
  if (node.kind === "cluster")
    return (
      <ClusterPanel
        project={project}
        cluster={node}
        query={props.apiQuery}
        onPull={(memberId) => pull([memberId], memberId)}
        onExpand={(count) => expand(node.id, count)}
        onExpandAll={() => props.onView({ ...options, expandClusters: true }, null)}
      />
    );
  return (
    <NodeDetails
      project={project}
      node={node}
      isBase={node.id === graph.base}
      pulled={options.pull.includes(node.id)}
      onPutBack={() =>
        props.onView({ ...options, pull: options.pull.filter((id) => id !== node.id) }, node.cluster ?? null)
      }
      onMakeBase={() => navigate(lineageUrl(project, node, { ...options, pull: [], expand: [] }, node.id))}
    />
  );
}

const edgeStyle = { input: { stroke: "#4f6bed" }, output: { stroke: "#2f9e6b" }, hidden: { stroke: "#888" } };
/** Below this zoom the 12 px labels of a node are under 10 px on screen; the first view never goes below it. */
export const readableZoom = 10.2 / 12;

function LineageCanvas(props: {
  graph: LineageGraph;
  selected: string | null;
  find: string;
  showMinimap: boolean;
  loading: boolean;
  onSelect: (id: string | null) => void;
}) {
  const { graph, selected, onSelect } = props;
  const [laidOut, setLaidOut] = useState<{ nodes: LineageFlowNode[]; ms: number; graph: LineageGraph } | null>(null);
  const [positions, setPositions] = useState<LineageFlowNode[]>([]);
  const flow = useReactFlow();
  const pane = useRef<HTMLDivElement>(null);
  const findIndex = useRef(-1);

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
          height: heightOf(node),
          data: { node, isBase: node.id === graph.base, isSelected: false, found: false, dimmed: false },
        }),
      );
      setLaidOut({ nodes, ms: performance.now() - started, graph });
      setPositions(nodes);
    }, 0);
    return () => clearTimeout(timer);
  }, [graph]);

  const needle = props.find.trim();
  const found = useMemo(
    () => (needle ? graph.nodes.filter((node) => matchesFind(node, needle)).map((node) => node.id) : []),
    [graph, needle],
  );
  const nodes = useMemo(() => {
    const foundSet = new Set(found);
    return positions.map((node) => ({
      ...node,
      data: {
        ...node.data,
        isSelected: node.id === selected,
        found: foundSet.has(node.id),
        dimmed: needle !== "" && !foundSet.has(node.id),
      },
    }));
  }, [positions, selected, found, needle]);
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

  const centerOn = (id: string, zoom: number) => {
    const node = positions.find((candidate) => candidate.id === id);
    if (node)
      void flow.setCenter(node.position.x + nodeWidth / 2, node.position.y + (node.height ?? nodeHeight) / 2, {
        zoom,
        duration: 200,
      });
  };

  // The first view: the whole graph if it fits at a readable zoom; otherwise readable, around the middle of
  // the graph but with the base in sight. The rest is a pan (or the minimap) away.
  // biome-ignore lint/correctness/useExhaustiveDependencies: once per laid-out graph, not per selection
  useEffect(() => {
    if (!laidOut) return;
    requestAnimationFrame(() => {
      const width = pane.current?.clientWidth ?? 1000;
      const height = pane.current?.clientHeight ?? 600;
      const xs = laidOut.nodes.map((node) => node.position.x);
      const ys = laidOut.nodes.map((node) => node.position.y);
      const bottoms = laidOut.nodes.map((node) => node.position.y + (node.height ?? nodeHeight));
      const [minX, maxX, minY, maxY] = [
        Math.min(...xs),
        Math.max(...xs) + nodeWidth,
        Math.min(...ys),
        Math.max(...bottoms),
      ];
      const fit = Math.min(width / (maxX - minX), height / (maxY - minY)) * 0.85;
      if (fit >= readableZoom) {
        void flow.fitView({ padding: 0.15, maxZoom: 1.25 });
        return;
      }
      const zoom = readableZoom;
      const base = laidOut.nodes.find((node) => node.id === laidOut.graph.base) ?? laidOut.nodes[0]!;
      const clamp = (middle: number, at: number, room: number) => Math.min(Math.max(middle, at - room), at + room);
      const x = clamp((minX + maxX) / 2, base.position.x + nodeWidth / 2, width / (2 * zoom) - nodeWidth * 0.75);
      const y = clamp((minY + maxY) / 2, base.position.y + nodeHeight / 2, height / (2 * zoom) - nodeHeight * 1.5);
      void flow.setCenter(x, y, { zoom });
    });
  }, [laidOut]);

  // Enter in the find box moves to the next match (Shift+Enter to the previous one).
  // biome-ignore lint/correctness/useExhaustiveDependencies: reads the current matches and positions
  useEffect(() => {
    findIndex.current = -1;
    const onNext = (event: Event) => {
      if (found.length === 0) return;
      const step = (event as CustomEvent<number>).detail;
      findIndex.current = (findIndex.current + step + found.length) % found.length;
      centerOn(found[findIndex.current]!, Math.max(flow.getZoom(), readableZoom));
    };
    window.addEventListener(findNextEvent, onNext);
    return () => window.removeEventListener(findNextEvent, onNext);
  }, [found, positions]);

  if (!laidOut || laidOut.graph !== graph)
    return (
      <div className="state loading" data-testid="layout-loading">
        Laying out {graph.nodes.length} nodes…
      </div>
    );
  const truncated = graph.truncated;
  return (
    <div
      role="application"
      aria-label="Lineage graph: Tab moves between nodes, Enter opens one, Escape lets go"
      className={["graph", props.loading ? "refreshing" : "", props.showMinimap ? "with-minimap" : ""]
        .filter(Boolean)
        .join(" ")}
      data-testid="graph"
      data-node-count={graph.nodes.length}
      data-edge-count={graph.edges.length}
      data-layout-ms={Math.round(laidOut.ms)}
      data-found={found.length}
      onKeyDown={(event) => {
        // Tab moves between nodes (the focused one shows a ring); Enter opens it, Escape lets go of it.
        const element = (event.target as HTMLElement).closest<HTMLElement>(".react-flow__node");
        if (event.key === "Enter" && element?.dataset.id) {
          event.preventDefault();
          onSelect(element.dataset.id);
        }
        if (event.key === "Escape") onSelect(null);
      }}
    >
      {truncated ? <TruncatedBanner truncated={truncated} /> : null}
      <div ref={pane} className="graph-canvas" data-testid="graph-canvas">
        <ReactFlow
          nodes={nodes}
          edges={edges}
          nodeTypes={lineageNodeTypes}
          nodesDraggable
          nodesConnectable={false}
          elementsSelectable={false}
          onNodesChange={(changes: NodeChange<LineageFlowNode>[]) =>
            setPositions((current) => applyNodeChanges(changes, current))
          }
          minZoom={0.2}
          maxZoom={2}
          onNodeClick={(_, node) => onSelect(node.id)}
          onPaneClick={() => onSelect(null)}
          proOptions={{ hideAttribution: true }}
        >
          <Background />
          <Controls showInteractive={false} />
        </ReactFlow>
      </div>
      {props.showMinimap ? (
        // A strip of its own beside the canvas (it reads the flow's store through ReactFlowProvider): over the
        // canvas it hid the nodes in its corner and took their clicks.
        <div className="minimap-strip" data-testid="minimap-strip">
          <MiniMap
            pannable
            zoomable
            ariaLabel="Minimap: drag to pan"
            bgColor="#fff"
            nodeColor="#c9cfd8"
            nodeStrokeColor="transparent"
            maskColor="rgba(240, 240, 240, 0.6)"
            maskStrokeColor="#9aa4b2"
          />
        </div>
      ) : null}
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
  const facets = useResource(`facets:${project}`, async (signal) => {
    const [artifacts, runs] = await Promise.all([
      api("listArtifacts", { params: { project }, query: { limit: 1000, includeGenerated: true }, signal }),
      api("listRuns", { params: { project }, query: { limit: 1000 }, signal }),
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
    <HopsInput
      testId={`option-${key}`}
      label={label}
      value={options[key]}
      onCommit={(value) => onChange({ ...options, [key]: value })}
    />
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

const hopsDebounceMs = 700;

/**
 * A hop count typed freely: the graph is asked for once the number is valid and the user stopped typing (or
 * pressed Enter, or left the field), and what they typed is never rewritten under their cursor.
 */
function HopsInput(props: { testId: string; label: string; value: number; onCommit: (value: number) => void }) {
  const [text, setText] = useState(String(props.value));
  const parsed = /^\d{1,2}$/.test(text.trim()) ? Number(text.trim()) : Number.NaN;
  const valid = Number.isInteger(parsed) && parsed >= 0 && parsed <= 50;
  const commit = () => {
    if (valid && parsed !== props.value) props.onCommit(parsed);
  };
  // The URL changed the count (back button, a shared link): show it, unless it is what was typed.
  // biome-ignore lint/correctness/useExhaustiveDependencies: follows the committed value only
  useEffect(() => {
    if (parsed !== props.value) setText(String(props.value));
  }, [props.value]);
  // biome-ignore lint/correctness/useExhaustiveDependencies: restarts the wait on every keystroke only
  useEffect(() => {
    if (!valid || parsed === props.value) return;
    const timer = setTimeout(commit, hopsDebounceMs);
    return () => clearTimeout(timer);
  }, [text]);
  return (
    <label>
      {props.label}
      <input
        type="number"
        min={0}
        max={50}
        data-testid={props.testId}
        aria-invalid={!valid}
        title={valid ? undefined : "a whole number of hops from 0 to 50"}
        value={text}
        onChange={(event) => setText(event.target.value)}
        onBlur={commit}
        onKeyDown={(event) => {
          if (event.key === "Enter") commit();
        }}
      />
    </label>
  );
}

/** What the node budget did, per hop layer: folded into clusters (open one to page through it) or left out. */
function TruncatedBanner(props: { truncated: Exclude<LineageGraph["truncated"], false> }) {
  const [open, setOpen] = useState(false);
  const { layers, maxNodes } = props.truncated;
  const clustered = layers.reduce((sum, layer) => sum + layer.clustered, 0);
  const omitted = layers.reduce((sum, layer) => sum + layer.omitted, 0);
  return (
    <div className="banner" data-testid="truncated">
      <button type="button" className="link-button" onClick={() => setOpen(!open)}>
        Over the {maxNodes}-node budget: {clustered} nodes grouped into clusters
        {omitted ? `, ${omitted} left out` : ""} {open ? "▾" : "▸"}
      </button>
      {open ? (
        <ul>
          {layers.map((layer) => (
            <li key={layer.depth}>
              {layer.depth < 0 ? `${-layer.depth} up` : `${layer.depth} down`}: {layer.nodes} nodes, {layer.clustered}{" "}
              in {layer.clusters} clusters{layer.omitted ? `, ${layer.omitted} left out` : ""}
            </li>
          ))}
        </ul>
      ) : null}
    </div>
  );
}
