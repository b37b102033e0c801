// The price of each Kling node's current settings, as a badge on the node, and the total of the graph next
// to the Run button, before anything is queued. Prices come from the pack's catalog through
// POST /kling_video/price (no price table here); texts and run counts from kling_price_logic.js.
import { app } from "../../scripts/app.js";
import { api } from "../../scripts/api.js";
import {
  MODE_BYPASS, MODE_NEVER, badgeText, controlsChange, priceTooltip, promptLines, queueCopies, runCount, total, totalText,
  willRun,
} from "./kling_price_logic.js";

const PREFIX = "KlingVideo_";
const PROMPT_LIST = "KlingVideo_PromptList";
const HELPERS = new Set(["KlingVideo_Shot", "KlingVideo_Element", "KlingVideo_DynamicMask", "KlingVideo_CameraControl",
  PROMPT_LIST]);
const PENDING = { usd: null, text: "…" };
const UNKNOWN = { usd: null, text: "price unknown" };
// Every widget path (canvas, Vue nodes, undo, paste, a loaded workflow) changes values without one common
// event, so a light poll compares each Kling node's values with those last priced.
const POLL_MS = 250;
const TOTAL_CLASS = "kling-price-total";
// Bumped each time a node's badge text changes; the Vue node renderer watches it (see setBadge).
const REVISION = Symbol("kling price badge revision");

const isKling = (node) => {
  const type = node?.comfyClass ?? node?.type;
  return typeof type === "string" && type.startsWith(PREFIX) && !HELPERS.has(type);
};

function widgetValues(node) {
  const values = {};
  // "$$..." widgets are the frontend's own (the progress text preview), not inputs
  for (const w of node.widgets ?? []) if (w.name && !w.name.startsWith("$$")) values[w.name] = w.value;
  return values;
}

async function requestQuote(node, values, signature) {
  let quote = UNKNOWN;
  try {
    const r = await api.fetchApi("/kling_video/price", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ node_type: node.comfyClass ?? node.type, values }),
    });
    if (r.ok) quote = await r.json();
  } catch {
    // the server is away: the badge says price unknown until the next change
  }
  if (node.klingSignature === signature) node.klingQuote = quote; // a later change has its own request
}

// The LiteGraph graph as kling_price_logic.js reads it. Links through the node's own methods: frontend 1.5x
// deprecates reading input.link and output.links (a console warning at each read).
function graphView(graph) {
  const node = (id) => graph.getNodeById(id);
  const def = (id) => node(id)?.constructor?.nodeData ?? {};
  return {
    upstream: (id) => (node(id)?.inputs ?? []).map((_, slot) => node(id).getInputLink(slot))
      .filter((l) => l && node(l.origin_id)).map((l) => ({ id: l.origin_id, slot: l.origin_slot })),
    downstream: (id) => (node(id)?.outputs ?? []).flatMap((_, slot) => node(id).getOutputNodes(slot) ?? [])
      .map((target) => target.id),
    mode: (id) => node(id)?.mode ?? 0,
    isOutputNode: (id) => !!def(id).output_node,
    outputIsList: (id, slot) => !!def(id).output_is_list?.[slot],
    // The pack's prompt list knows its length from its text; other list sources (folder readers) only when
    // they run: ×N.
    listLength: (id) => node(id)?.type === PROMPT_LIST || node(id)?.comfyClass === PROMPT_LIST
      ? promptLines(node(id).widgets?.find((w) => w.name === "prompts")?.value) : null,
    changesEachQueue: (id) => controlsChange(node(id)?.widgets),
  };
}

// Every Kling node of the workflow with whether it will run, subgraphs included (a node inside a subgraph
// runs once per instance of it that runs).
function* klingNodes(graph, inside = true) {
  const view = graphView(graph);
  for (const node of graph.nodes ?? []) {
    if (isKling(node)) yield { node, view, runs: inside && willRun(view, node.id) };
    else if (node.isSubgraphNode?.() && node.subgraph) {
      const active = inside && node.mode !== MODE_NEVER && node.mode !== MODE_BYPASS;
      yield* klingNodes(node.subgraph, active);
    }
  }
}

// The badge remembers where it was last drawn (node-local, as LGraphNode.drawBadges places it), so a pointer over
// it can show which price it is (priceTooltip). LGraphBadge has no tooltip of its own.
function badge(node, text) {
  const b = new window.LGraphBadge({ text, fgColor: "#fff", bgColor: "#2a6e3f" });
  const draw = b.draw.bind(b);
  b.draw = (ctx, x, y, ...rest) => {
    node.klingBadgeBox = [x + (b.xOffset ?? 0), y + (b.yOffset ?? 0), b.getWidth(ctx), b.height];
    return draw(ctx, x, y, ...rest);
  };
  return b;
}

const TOOLTIP_CLASS = "kling-price-tooltip";
let tooltip = null;

function showTooltip(text, x, y) {
  if (!text) {
    if (tooltip) tooltip.style.display = "none";
    return;
  }
  if (!tooltip) {
    tooltip = document.createElement("div");
    tooltip.className = TOOLTIP_CLASS;
    Object.assign(tooltip.style, {
      position: "fixed", zIndex: 10000, pointerEvents: "none", whiteSpace: "pre-line", maxWidth: "32em",
      padding: "6px 8px", borderRadius: "4px", font: "12px sans-serif", background: "#222", color: "#eee",
      border: "1px solid #555",
    });
    document.body.appendChild(tooltip);
  }
  tooltip.textContent = text;
  Object.assign(tooltip.style, { display: "block", left: `${x + 12}px`, top: `${y + 12}px` });
}

// The classic canvas: the Kling badge under the pointer, if any, in graph coordinates.
function badgeUnderPointer() {
  const mouse = app.canvas?.graph_mouse;
  const graph = app.canvas?.graph ?? app.graph;
  if (!mouse || !graph) return null;
  for (const node of graph.nodes ?? []) {
    const box = node.klingBadgeBox;
    if (!isKling(node) || !box || !node.pos) continue;
    const x = mouse[0] - node.pos[0];
    const y = mouse[1] - node.pos[1];
    if (x >= box[0] && x <= box[0] + box[2] && y >= box[1] && y <= box[1] + box[3]) return node;
  }
  return null;
}

function onPointerMove(event) {
  if (!(event.target instanceof HTMLCanvasElement)) return showTooltip("");
  const node = badgeUnderPointer();
  showTooltip(node ? priceTooltip(node.klingQuote) : "", event.clientX, event.clientY);
}

function attach(node) {
  if (node.klingBadge) return;
  node.klingQuote = PENDING;
  node.klingBadge = badge(node, PENDING.text);
  node.badges ??= [];
  // A function badge renders in both renderers (onDrawForeground does not run in the Vue one). The classic
  // canvas calls it at every draw. The Vue node renderer (frontend 1.3x to 1.5x) calls it inside a computed
  // and calls it again only when reactive state it read has changed: there is no "refresh this node's
  // badges" call. The frontend's own price badge of an API node works the same way: it reads the priced
  // widget values from the reactive widget store, and a per-node pricing revision that its asynchronous
  // evaluation bumps when a price arrives. This badge reads a revision of its own, kept on the node's
  // widget list (reactive in the Vue renderer: the list it renders the node's widgets from).
  node.badges.push(() => {
    void node.widgets?.[REVISION];
    return node.klingBadge;
  });
}

function setBadge(node, text) {
  if (node.klingBadge.text === text) return;
  node.klingBadge = badge(node, text);
  node.setDirtyCanvas?.(true, true); // the classic canvas
  // A symbol key: not an array index, so no code walking the widgets sees it, and never serialized.
  if (node.widgets) node.widgets[REVISION] = (node.widgets[REVISION] ?? 0) + 1; // the Vue node renderer
}

// How many copies of the graph Run queues: the number beside Run. The frontend keeps it in its queue
// settings store, which the extension manager hands to extensions as `queueSettings` (1.32 to 1.58; it is
// not in the typed ExtensionManager interface). 1 when absent.
function batchCount() {
  const count = Number(app.extensionManager?.queueSettings?.batchCount);
  return Number.isInteger(count) && count > 0 ? count : 1;
}

const totalButton = {
  label: " ",
  tooltip: "Price of the Kling nodes this graph will run, at their current settings (click for each node)",
  class: TOTAL_CLASS,
  onClick: () => {
    const batch = batchCount();
    const lines = [...klingNodes(app.rootGraph ?? app.graph)].map(({ node, view, runs }) => {
      const copies = queueCopies(view, node.id, batch);
      const queued = copies > 1 ? `, ×${copies} queued copies` : "";
      const which = priceTooltip(node.klingQuote).split("\n")[0];
      return `${node.title}: ${badgeText(node.klingQuote, runCount(view, node.id))}${queued}` +
        (which ? ` (${which})` : "") + (runs ? "" : " (not run: bypassed, muted or feeding no output)");
    });
    if (batch > 1) lines.push(`batch count ${batch}: a copy that changes nothing a Kling node reads is not paid again`);
    app.extensionManager?.toast?.add({
      severity: "info", summary: totalButton.label, detail: lines.join(" · ") || "No Kling node", life: 10000,
    });
  },
};

function showTotal(text) {
  totalButton.label = text || " ";
  // The action bar renders the button once, from the extension object, with no way to update its label: it
  // is written in place. Frontend 1.3x draws a PrimeVue button (the label in .p-button-label), 1.4x and
  // later a plain <button><i></i><span>label</span></button> (no <span> on narrow screens).
  for (const el of document.querySelectorAll(`.${TOTAL_CLASS}`)) {
    el.style.display = text ? "" : "none";
    const label = el.querySelector(".p-button-label") ?? el.querySelector("span");
    if (label && label.textContent !== text) label.textContent = text;
  }
}

function sync() {
  const graph = app.rootGraph ?? app.graph;
  if (!graph) return;
  const batch = batchCount();
  const counted = [];
  for (const { node, view, runs } of klingNodes(graph)) {
    attach(node);
    const values = widgetValues(node);
    const signature = JSON.stringify(values);
    if (node.klingSignature !== signature) {
      node.klingSignature = signature;
      requestQuote(node, values, signature);
    }
    const count = runCount(view, node.id);
    setBadge(node, badgeText(node.klingQuote, count));
    if (runs) counted.push({ usd: node.klingQuote.usd, runs: count == null ? null : count * queueCopies(view, node.id, batch) });
  }
  showTotal(totalText(total(counted)));
}

app.registerExtension({
  name: "comfyui-kling-video.price",
  actionBarButtons: [totalButton],
  async setup() {
    setInterval(sync, POLL_MS);
    window.addEventListener("pointermove", onPointerMove, { passive: true });
  },
  async nodeCreated(node) {
    if (isKling(node)) attach(node);
  },
});
