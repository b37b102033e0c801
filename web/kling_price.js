// The price of each Kling node's current settings, as a badge on the node, and the total of the graph next
// to the Run button, before anything is queued. Prices come from the pack's catalog through
// POST /kling_video/price (no price table here); texts and run counts from kling_price_logic.js.
import { app } from "../../scripts/app.js";
import { api } from "../../scripts/api.js";
import {
  MODE_BYPASS, MODE_NEVER, badgeText, promptLines, runCount, total, totalText, willRun,
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

// The LiteGraph graph as kling_price_logic.js reads it.
function graphView(graph) {
  const node = (id) => graph.getNodeById(id);
  const link = (id) => graph.getLink?.(id) ?? graph.links?.get?.(id) ?? graph.links?.[id];
  const def = (id) => node(id)?.constructor?.nodeData ?? {};
  return {
    upstream: (id) => (node(id)?.inputs ?? []).filter((i) => i.link != null).map((i) => link(i.link))
      .filter((l) => l && node(l.origin_id)).map((l) => ({ id: l.origin_id, slot: l.origin_slot })),
    downstream: (id) => (node(id)?.outputs ?? []).flatMap((o) => o.links ?? []).map(link)
      .filter((l) => l && node(l.target_id)).map((l) => l.target_id),
    mode: (id) => node(id)?.mode ?? 0,
    isOutputNode: (id) => !!def(id).output_node,
    outputIsList: (id, slot) => !!def(id).output_is_list?.[slot],
    // The pack's prompt list knows its length from its text; other list sources (folder readers) only when
    // they run: ×N.
    listLength: (id) => node(id)?.type === PROMPT_LIST || node(id)?.comfyClass === PROMPT_LIST
      ? promptLines(node(id).widgets?.find((w) => w.name === "prompts")?.value) : null,
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

const badge = (text) => new window.LGraphBadge({ text, fgColor: "#fff", bgColor: "#2a6e3f" });

function attach(node) {
  if (node.klingBadge) return;
  node.klingQuote = PENDING;
  node.klingBadge = badge(PENDING.text);
  node.badges ??= [];
  // A function badge is read at every draw; it renders in both the classic canvas and the Vue node
  // renderer (onDrawForeground does not run in the latter).
  node.badges.push(() => node.klingBadge);
}

function setBadge(node, text) {
  if (node.klingBadge.text === text) return;
  node.klingBadge = badge(text);
  node.setDirtyCanvas?.(true, true);
  // The Vue node renderer copies a node's data and refreshes the copy on a change of a tracked property;
  // setting the title to itself is such a change and alters nothing.
  if (node.graph && typeof node.title === "string") node.title = node.title; // eslint-disable-line no-self-assign
}

const totalButton = {
  label: " ",
  tooltip: "Price of the Kling nodes this graph will run, at their current settings (click for each node)",
  class: TOTAL_CLASS,
  onClick: () => {
    const lines = [...klingNodes(app.rootGraph ?? app.graph)].map(({ node, view, runs }) =>
      `${node.title}: ${badgeText(node.klingQuote, runCount(view, node.id))}${runs ? "" : " (not run: bypassed, muted or feeding no output)"}`);
    app.extensionManager?.toast?.add({
      severity: "info", summary: totalButton.label, detail: lines.join(" · ") || "No Kling node", life: 10000,
    });
  },
};

function showTotal(text) {
  totalButton.label = text || " ";
  // The action bar is drawn from the extension object once; its label is updated in place.
  for (const el of document.querySelectorAll(`.${TOTAL_CLASS}`)) {
    el.style.display = text ? "" : "none";
    const label = el.querySelector(".p-button-label");
    if (label && label.textContent !== text) label.textContent = text;
  }
}

function sync() {
  const graph = app.rootGraph ?? app.graph;
  if (!graph) return;
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
    if (runs) counted.push({ usd: node.klingQuote.usd, runs: count });
  }
  showTotal(totalText(total(counted)));
}

app.registerExtension({
  name: "comfyui-kling-video.price",
  actionBarButtons: [totalButton],
  async setup() {
    setInterval(sync, POLL_MS);
  },
  async nodeCreated(node) {
    if (isKling(node)) attach(node);
  },
});
