// The price of each Kling node's current settings, as a badge on the node, before anything is queued.
// Prices come from the pack's catalog through POST /kling_video/price (no price table in this file).
import { app } from "../../scripts/app.js";
import { api } from "../../scripts/api.js";

const PREFIX = "KlingVideo_";
const HELPERS = new Set(["KlingVideo_Shot", "KlingVideo_Element", "KlingVideo_DynamicMask", "KlingVideo_CameraControl"]);

async function refresh(node) {
  const values = {};
  for (const w of node.widgets ?? []) values[w.name] = w.value;
  try {
    const r = await api.fetchApi("/kling_video/price", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ node_type: node.comfyClass ?? node.type, values }),
    });
    const data = await r.json();
    node.klingPrice = data.text ?? "price unknown";
    node.klingPriceDetail = data.detail ?? "";
  } catch (e) {
    node.klingPrice = "price unknown";
  }
  node.setDirtyCanvas?.(true, true);
}

function attach(node) {
  node.klingPrice = "…";
  node.badges ??= [];
  // A function badge is re-read at every draw, so it follows the widgets; it renders in both the classic
  // canvas and the Vue node renderer (onDrawForeground does not run in the latter).
  node.badges.push(() => new window.LGraphBadge({ text: node.klingPrice, fgColor: "#fff", bgColor: "#2a6e3f" }));
  for (const w of node.widgets ?? []) {
    const original = w.callback;
    w.callback = function (...args) {
      const result = original?.apply(this, args);
      refresh(node);
      return result;
    };
  }
  refresh(node);
}

app.registerExtension({
  name: "comfyui-kling-video.price",
  async nodeCreated(node) {
    const type = node.comfyClass ?? node.type;
    if (typeof type === "string" && type.startsWith(PREFIX) && !HELPERS.has(type)) attach(node);
  },
});
