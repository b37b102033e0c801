// The "Kling jobs" sidebar tab: the journal's paid jobs (GET /kling_video/jobs), a Collect button that saves
// a paid but never-saved result into output/kling-video/ without a new submit, and today's spend.
import { app } from "../../scripts/app.js";
import { api } from "../../scripts/api.js";
import {
  ROUTE, ageText, collectRoute, costText, isCollectable, rowTitle, shortId, spendText, stateText,
} from "./kling_jobs_logic.js";

// The tab's element, from render() until destroy(). render() may run before the element is in the page
// (frontend 1.4x and later call it on an element not yet connected), so a refresh draws into it regardless.
let panel = null;
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

// One card per job, not a table row: the sidebar is narrow, and a card keeps the Collect button in view.
function card(job) {
  let action = null;
  if (isCollectable(job)) {
    const button = h("button", { textContent: "Collect", title: "Download the paid result; nothing is submitted" });
    button.addEventListener("click", () => collect(job, button));
    action = button;
  } else if (job.url) {
    action = h("a", { textContent: "open the video", href: api.apiURL(job.url), target: "_blank", rel: "noopener" });
  }
  const line = (style, ...parts) => h("div", { style }, ...parts);
  const el = h("div", { className: "kling-job", title: rowTitle(job),
    style: "padding:6px 0;border-bottom:1px solid rgba(128,128,128,0.3);font-size:12px" },
  line("display:flex;justify-content:space-between;gap:8px",
    h("strong", { textContent: stateText(job) }), h("span", { textContent: costText(job) })),
  line("opacity:0.8", `${job.provider_title ?? job.provider ?? "—"} · ${ageText(job.age_s)} ago · ${shortId(job.request_id)}`),
  action ? line("margin-top:4px", action) : null);
  if (job.error) el.style.opacity = "0.7";
  return el;
}

function draw(el, data) {
  const empty = data.jobs.length ? null : h("p", { textContent: "No Kling jobs yet." });
  el.querySelector(".kling-jobs-spend").textContent = spendText(data.spend_today_usd, data.cap_usd);
  el.querySelector(".kling-jobs-body").replaceChildren(...data.jobs.map(card), ...[empty].filter(Boolean));
}

async function refresh() {
  const el = panel;
  if (!el) return;
  const mine = ++drawn;
  try {
    const r = await api.fetchApi(ROUTE);
    const data = await r.json();
    if (!r.ok) throw new Error(data.error ?? `HTTP ${r.status}`);
    if (mine === drawn && panel === el) draw(el, data);
  } catch (e) {
    if (mine === drawn && panel === el) {
      el.querySelector(".kling-jobs-body").replaceChildren(h("p", { textContent: `Could not list jobs: ${e.message ?? e}` }));
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
  // "executed" arrives once per output node: one refresh for a burst of them; none while the tab is shut
  clearTimeout(pending);
  pending = setTimeout(() => panel?.isConnected && refresh(), 300);
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
