// The "Kling jobs" sidebar tab: the journal's paid jobs (GET /kling_video/jobs), a Collect button that saves
// a paid but never-saved result into output/kling-video/ without a new submit, and today's spend.
import { app } from "../../scripts/app.js";
import { api } from "../../scripts/api.js";
import {
  ROUTE, ageText, collectRoute, costText, isCollectable, rowTitle, shortId, spendText, stateText,
} from "./kling_jobs_logic.js";

let panel = null; // the tab's element while the tab is open
let drawn = 0; // refresh counter: an older answer never overwrites a newer one

function h(tag, props = {}, ...children) {
  const el = Object.assign(document.createElement(tag), props);
  el.append(...children.filter((c) => c !== null && c !== undefined));
  return el;
}

function toast(severity, summary, detail) {
  app.extensionManager?.toast?.add({ severity, summary, detail, life: severity === "error" ? 10000 : 5000 });
}

async function collect(job, button) {
  button.disabled = true;
  button.textContent = "Collecting…";
  try {
    const r = await api.fetchApi(collectRoute(job.hash), { method: "POST" });
    const data = await r.json().catch(() => ({}));
    if (!r.ok) throw new Error(data.error ?? `HTTP ${r.status}`);
    toast("success", "Kling video collected", data.file ? `output/kling-video/${data.file}` : "saved");
  } catch (e) {
    toast("error", "Kling jobs: collect failed", String(e.message ?? e));
  }
  await refresh();
}

function row(job) {
  let action = null;
  if (isCollectable(job)) {
    const button = h("button", { textContent: "Collect", title: "Download the paid result; nothing is submitted" });
    button.addEventListener("click", () => collect(job, button));
    action = button;
  } else if (job.url) {
    action = h("a", { textContent: "open", href: api.apiURL(job.url), target: "_blank", rel: "noopener" });
  }
  const cells = [stateText(job), job.provider_title ?? job.provider ?? "—", shortId(job.request_id),
    costText(job), ageText(job.age_s)];
  const tr = h("tr", { title: rowTitle(job) }, ...cells.map((text) => h("td", { textContent: text })),
    h("td", {}, action));
  if (job.error) tr.style.opacity = "0.7";
  return tr;
}

function draw(data) {
  const head = h("tr", {}, ...["State", "Provider", "Request", "Cost", "Age", ""].map(
    (text) => h("th", { textContent: text, style: "text-align:left;padding:2px 4px" })));
  const table = h("table", { style: "width:100%;border-collapse:collapse;font-size:12px" },
    h("thead", {}, head), h("tbody", {}, ...data.jobs.map(row)));
  for (const td of table.querySelectorAll("td")) td.style.padding = "2px 4px";
  const empty = data.jobs.length ? null : h("p", { textContent: "No Kling jobs yet." });
  panel.querySelector(".kling-jobs-spend").textContent = spendText(data.spend_today_usd, data.cap_usd);
  panel.querySelector(".kling-jobs-body").replaceChildren(...[table, empty].filter(Boolean));
}

async function refresh() {
  if (!panel?.isConnected) return;
  const mine = ++drawn;
  try {
    const r = await api.fetchApi(ROUTE);
    const data = await r.json();
    if (!r.ok) throw new Error(data.error ?? `HTTP ${r.status}`);
    if (mine === drawn && panel?.isConnected) draw(data);
  } catch (e) {
    if (mine === drawn && panel?.isConnected) {
      panel.querySelector(".kling-jobs-body").replaceChildren(h("p", { textContent: `Could not list jobs: ${e.message ?? e}` }));
    }
  }
}

function render(el) {
  panel = el;
  const reload = h("button", { textContent: "Refresh" });
  reload.addEventListener("click", refresh);
  el.replaceChildren(h("div", { style: "padding:8px;display:flex;flex-direction:column;gap:8px" },
    h("div", { style: "display:flex;justify-content:space-between;align-items:center;gap:8px" },
      h("strong", { textContent: "Kling jobs" }), reload),
    h("div", { className: "kling-jobs-spend", style: "font-size:12px;opacity:0.8" }),
    h("div", { className: "kling-jobs-body", textContent: "Loading…" })));
  refresh();
}

let pending = null;
function refreshSoon() {
  // "executed" arrives once per output node: one refresh for a burst of them
  clearTimeout(pending);
  pending = setTimeout(refresh, 300);
}

app.registerExtension({
  name: "comfyui-kling-video.jobs",
  setup() {
    app.extensionManager.registerSidebarTab({
      id: "kling-video-jobs",
      icon: "pi pi-video",
      title: "Kling jobs",
      tooltip: "Kling jobs: paid results to collect, today's spend",
      type: "custom",
      render, // called each time the tab opens
      destroy: () => { panel = null; },
    });
    // An interrupt or an error is exactly when a paid result may be left to collect.
    for (const event of ["executed", "execution_success", "execution_interrupted", "execution_error"]) {
      api.addEventListener(event, refreshSoon);
    }
  },
});
