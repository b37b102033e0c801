// Every example workflow loads as a template with no warning: no missing node (the frontend's own list,
// as its afterConfigureGraph hook hands it over), no dialog or warning toast, no console warning, every
// widget value kept as saved and every choice among the widget's options; and the template browser shows
// each one's thumbnail and opens it on a click.
//   ALLOWED_MISSING  comma-separated node types this ComfyUI lacks for a reason outside the pack (optional)
import { check, log, openComfy, scenario, shot, until } from "./harness.mjs";

const PACK = "comfyui-kling-video";
// the template browser: a PrimeVue dialog up to frontend 1.3x, a plain role="dialog" from 1.4x
const DIALOG = '.p-dialog, [role="dialog"]';
const ALLOWED_MISSING = new Set((process.env.ALLOWED_MISSING || "").split(",").filter(Boolean));

// What the page holds about the load that just happened.
function loadReport([saved]) {
  const { app } = window;
  const now = Object.fromEntries(app.graph.serialize().nodes.map((n) => [n.id, n]));
  const widgets = [];
  for (const node of saved.nodes) {
    const live = app.graph.getNodeById(node.id);
    const def = live?.constructor?.nodeData?.input ?? {};
    const specs = { ...def.required, ...def.optional };
    const inputs = new Set(Object.keys(specs));
    // A widget newer than the saved workflow (ComfyUI 0.33's SaveVideo keeps a legacy `codec` beside its
    // `format` choice) has no saved value: it loads at its default.
    const fallback = (name) => {
      const [type, options] = specs[name] ?? [];
      const first = Array.isArray(type) ? type[0] : options?.options?.[0]; // a combo's, or a dynamic combo's
      return options?.default ?? (typeof first === "object" && first !== null ? first.key : first);
    };
    // widgets_values lines up with the widgets that serialize; compare those that are node inputs (the
    // frontend's own, such as an audio player, may normalise their placeholder)
    const serialized = (live?.widgets ?? []).filter((w) => w.options?.serialize !== false && w.serialize !== false);
    serialized.forEach((w, i) => {
      const before = node.widgets_values?.[i];
      const after = now[node.id]?.widgets_values?.[i];
      const newer = before === undefined && i >= (node.widgets_values?.length ?? 0) && after === fallback(w.name);
      if (inputs.has(w.name) && !newer && JSON.stringify(before) !== JSON.stringify(after)) {
        widgets.push(`${node.type} #${node.id}: ${w.name} saved ${JSON.stringify(before)}, loaded ${JSON.stringify(after)}`);
      }
    });
    for (const w of live?.widgets ?? []) {
      let options = w.options?.values;
      if (typeof options === "function") options = options();
      if (w.type === "combo" && Array.isArray(options) && !options.includes(w.value)) {
        widgets.push(`${node.type} #${node.id}: ${w.name}=${JSON.stringify(w.value)} is not one of its options`);
      }
    }
  }
  return {
    hooked: Array.isArray(window.__klingMissing),
    missing: (window.__klingMissing ?? []).map((m) => (typeof m === "string" ? m : m.type)),
    widgets,
    dialogs: [...document.querySelectorAll(".p-dialog")].map((d) => d.innerText.slice(0, 300)),
    toasts: [...document.querySelectorAll(".p-toast-message-warn, .p-toast-message-error")].map((t) => t.innerText),
    nodes: app.graph.nodes.length,
  };
}

scenario("templates", async ({ page }) => {
  const warnings = [];
  page.on("console", (m) => {
    // a resource the server or the local 404 answer declined is not the workflow's doing
    if (["warning", "error"].includes(m.type()) && !m.text().startsWith("Failed to load resource")) warnings.push(m.text());
  });
  await openComfy(page);
  await page.evaluate(() => window.app.registerExtension({
    name: "kling-tests.missing-nodes",
    afterConfigureGraph(missing) { window.__klingMissing = missing; },
  }));
  const names = await page.evaluate(async (pack) => (await (await fetch("/api/workflow_templates")).json())[pack], PACK);
  check(names?.length, `the server lists no ${PACK} template`);
  warnings.length = 0;
  for (const name of names.sort()) {
    const saved = await page.evaluate(async ([pack, name]) => {
      const workflow = await (await fetch(`/api/workflow_templates/${pack}/${name}.json`)).json();
      window.__klingMissing = null;
      await window.app.loadGraphData(structuredClone(workflow), true, true, name);
      return workflow;
    }, [PACK, name]);
    await page.waitForTimeout(200);
    const report = await page.evaluate(loadReport, [saved]);
    check(report.hooked, `${name}: the frontend did not report its missing nodes (afterConfigureGraph)`);
    const missing = report.missing.filter((t) => !ALLOWED_MISSING.has(t));
    check(!missing.length, `${name}: missing nodes ${missing.join(", ")}`);
    check(report.nodes === saved.nodes.length, `${name}: ${report.nodes} of ${saved.nodes.length} nodes loaded`);
    check(!report.widgets.length, `${name}: ${report.widgets.join("; ")}`);
    check(!report.dialogs.length || report.missing.length, `${name}: a dialog opened: ${report.dialogs.join(" | ")}`);
    check(!report.toasts.length, `${name}: warning ${report.toasts.join(" | ")}`);
    check(!warnings.length, `${name}: console: ${warnings.join(" | ")}`);
    log(`${name}: ${report.nodes} nodes, no warning${report.missing.length ? ` (allowed missing: ${report.missing})` : ""}`);
    await page.keyboard.press("Escape"); // an allowed missing-node dialog
  }

  // As a user opens one: Browse Templates, the pack's category, a card (its thumbnail shown).
  const served = new Map(); // thumbnail name -> HTTP status
  page.on("response", (r) => {
    const m = r.url().match(new RegExp(`/workflow_templates/${PACK}/([^/?]+)\\.jpg`));
    if (m) served.set(decodeURIComponent(m[1]), r.status());
  });
  await page.evaluate(() => window.app.extensionManager.command.execute("Comfy.BrowseTemplates"));
  await page.getByText(PACK, { exact: true }).click();
  for (const name of names) {
    // a card fetches its picture when scrolled into view (and shows it as a blob:)
    await page.locator(DIALOG).getByText(name, { exact: true }).first().scrollIntoViewIfNeeded();
    for (let t = 0; t < 100 && !served.has(name); t++) await page.waitForTimeout(100);
    check(served.get(name) === 200, `the ${name} card's ${PACK}/${name}.jpg answered ${served.get(name) ?? "nothing"}`);
  }
  const broken = await until(page, () => {
    const imgs = [...document.querySelectorAll(".p-dialog img, [role='dialog'] img")];
    return imgs.every((i) => i.complete) && imgs.filter((i) => !i.naturalWidth).map((i) => i.alt || i.src);
  }, null, "the template pictures did not finish loading");
  check(!broken.length, `pictures that did not show: ${broken.join(", ")}`);
  await page.getByText(names[0], { exact: true }).first().scrollIntoViewIfNeeded();
  await shot(page, "templates");
  const name = names.includes("kling_2.6_pro_text_to_video") ? "kling_2.6_pro_text_to_video" : names[0];
  await page.evaluate(() => window.app.graph.clear());
  await page.locator(DIALOG).getByText(name, { exact: true }).first().click();
  const types = await page.evaluate(async ([pack, name]) =>
    (await (await fetch(`/api/workflow_templates/${pack}/${name}.json`)).json()).nodes.map((n) => n.type).sort(), [PACK, name]);
  await until(page, (types) => !document.querySelector(".p-dialog, [role='dialog']") &&
    JSON.stringify(window.app.graph.nodes.map((n) => n.type).sort()) === JSON.stringify(types), types,
    `clicking the ${name} card did not open it`);
  log(`template browser: ${names.length} thumbnails, ${name} opened from its card`);
});
