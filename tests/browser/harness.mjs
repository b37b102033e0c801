// What every browser scenario shares: Debian's chromium driven by playwright-core (no browser download),
// a ComfyUI page with the app ready, requests to outside hosts answered locally, screenshots, checks.
//
// A scenario is one script, run by tests/test_browser.py (or by hand) with:
//   COMFY_URL       the ComfyUI to drive (required)
//   KLING_RENDERER  the node renderer: "classic" (the LiteGraph canvas, default) or "vue" (Nodes 2.0)
//   SCREENSHOT_DIR  where shot() writes PNGs (default: no screenshots)
//   SCREENSHOT_TAG  added to each PNG's name: <name>-<tag>.png (default: none)
//   CHROMIUM        the browser binary (default: /usr/bin/chromium)
// It exits 0 when every check passed, 1 with the failed check's message otherwise.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

import { chromium } from "playwright-core";

const COMFY_URL = process.env.COMFY_URL;
const SCREENSHOT_DIR = process.env.SCREENSHOT_DIR || "";
const SCREENSHOT_TAG = process.env.SCREENSHOT_TAG || "";
export const RENDERER = process.env.KLING_RENDERER || "classic";
if (!["classic", "vue"].includes(RENDERER)) throw new Error(`KLING_RENDERER must be classic or vue, not ${RENDERER}`);
export const VUE = RENDERER === "vue";
const CHROMIUM = process.env.CHROMIUM || "/usr/bin/chromium";
const FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
  "--disable-component-update", "--disable-sync"];
const T0 = Date.now();

export function log(...args) {
  console.log(`[${((Date.now() - T0) / 1000).toFixed(1)}s]`, ...args);
}

export class CheckFailed extends Error {}

export function check(condition, message) {
  if (!condition) throw new CheckFailed(message);
}

/** Poll `fn` in the page until it returns something truthy; fail with `message`. Returns that value when it
 * is plain data (a string, a number, JSON-able objects), else true: a page object such as the app's graph
 * is cyclic and huge, and copying it out of the page would fail. */
export async function until(page, fn, arg, message, timeout = 30000) {
  let handle;
  try {
    handle = await page.waitForFunction(fn, arg, { timeout, polling: 100 });
  } catch (e) {
    if (e.name !== "TimeoutError") throw e;
    throw new CheckFailed(`${message} (waited ${timeout / 1000} s)`);
  }
  try {
    return await handle.evaluate((value) => {
      if (typeof value !== "object" || value === null) return typeof value === "function" ? true : value;
      try {
        return JSON.parse(JSON.stringify(value)) ?? true;
      } catch {
        return true;
      }
    });
  } finally {
    await handle.dispose();
  }
}

/**
 * Run `body({page, context, shot, outside})` against a fresh browser with a fresh profile; exit with its
 * verdict. `outside` lists the outside URLs the page asked for (each answered locally with a 404).
 */
export async function scenario(name, body) {
  check(COMFY_URL, "COMFY_URL is not set");
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), "kling-chromium-"));
  let context;
  let code = 0;
  const outside = [];
  try {
    // launchPersistentContext: the fresh profile is chromium's --user-data-dir
    context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM, headless: true, args: FLAGS, viewport: { width: 1400, height: 900 },
    });
    const local = new URL(COMFY_URL).origin;
    await context.route((url) => !(url.origin === local || ["data:", "blob:"].includes(url.protocol)), (route) => {
      outside.push(route.request().url());
      return route.fulfill({ status: 404, contentType: "text/plain", body: "" });
    });
    // The "try the new node renderer" banner (frontend 1.3x) would sit over the top of every screenshot, its
    // "prefer the legacy design?" prompt over the bottom.
    await context.addInitScript(() => {
      localStorage.setItem("vueNodesBannerDismissed", "true");
      localStorage.setItem("comfy.vueNodesMigration.dismissed", "true");
    });
    const page = context.pages()[0] ?? (await context.newPage());
    page.on("pageerror", (e) => log("page error:", e.message));
    log(`${name}: chromium ${context.browser()?.version() ?? ""} on ${COMFY_URL}`);
    await body({ page, context, shot: (n, opts) => shot(page, n, opts), outside });
    log(`${name}: passed`);
  } catch (e) {
    code = 1;
    log(`${name}: FAILED: ${e instanceof CheckFailed ? e.message : e.stack}`);
  } finally {
    if (outside.length) log(`answered locally (never sent): ${[...new Set(outside.map((u) => new URL(u).host))].join(", ")}`);
    await context?.close().catch(() => {});
    fs.rmSync(profile, { recursive: true, force: true });
  }
  process.exit(code);
}

/** Open ComfyUI and wait for the app as the frontend's own tests do; pick the node renderer, KLING_RENDERER's
 * unless told (settings are kept by the server, so every scenario says which one it wants). */
export async function openComfy(page, { vueNodes = VUE } = {}) {
  await page.goto(COMFY_URL);
  await until(page, () => Boolean(window.app && window.app.extensionManager && window.app.graph), null,
    "the ComfyUI app did not start", 60000);
  await page.evaluate(async (on) => {
    const settings = window.app.extensionManager.setting;
    if (settings.get("Comfy.VueNodes.Enabled") !== on) await settings.set("Comfy.VueNodes.Enabled", on);
  }, vueNodes);
  log(`frontend ${await page.evaluate(() => window.__COMFYUI_FRONTEND_VERSION__ ?? "?")}, ` +
    `${vueNodes ? "Vue node renderer" : "classic canvas"}`);
}

/** Whether the page's frontend is `version` ("1.49") or later. */
export async function frontendAtLeast(page, version) {
  const have = (await page.evaluate(() => window.__COMFYUI_FRONTEND_VERSION__ ?? "0")).split(".").map(Number);
  const want = version.split(".").map(Number);
  for (let i = 0; i < want.length; i++) {
    if ((have[i] ?? 0) !== want[i]) return (have[i] ?? 0) > want[i];
  }
  return true;
}

/** Save a PNG of the page (or of `clip`: {x, y, width, height}) as SCREENSHOT_DIR/<name>[-<tag>].png. */
export async function shot(page, name, { clip } = {}) {
  if (!SCREENSHOT_DIR) return;
  fs.mkdirSync(SCREENSHOT_DIR, { recursive: true });
  const file = path.join(SCREENSHOT_DIR, `${name}${SCREENSHOT_TAG ? `-${SCREENSHOT_TAG}` : ""}.png`);
  await page.screenshot({ path: file, clip });
  log(`screenshot ${file}`);
}

/** Start from an empty graph at 100% zoom, graph (0, 0) clear of the side bar and the top bar. */
export async function emptyGraph(page) {
  await page.evaluate(() => {
    window.app.graph.clear();
    window.app.canvas.ds.offset = [80, 110];
    window.app.canvas.ds.scale = 1;
    window.app.graph.setDirtyCanvas(true, true);
  });
}

/** Add a node of `type` at graph position `pos`; returns its id. */
export async function addNode(page, type, pos, widgets = {}) {
  return page.evaluate(([type, pos, widgets]) => {
    const node = window.LiteGraph.createNode(type);
    if (!node) throw new Error(`no node type ${type}`);
    node.pos = pos;
    window.app.graph.add(node);
    for (const [name, value] of Object.entries(widgets)) node.widgets.find((w) => w.name === name).value = value;
    return node.id;
  }, [type, pos, widgets]);
}

/** The page rectangle around node `id` (title bar and the badges above it included), for a screenshot. */
export async function nodeClip(page, id, margin = 12) {
  return page.evaluate(([id, margin]) => {
    const { app, LiteGraph } = window;
    const element = document.querySelector(`[data-node-id="${id}"]`); // the Vue node renderer's
    if (element) {
      const box = element.getBoundingClientRect();
      return { x: Math.max(0, box.x - margin), y: Math.max(0, box.y - margin), width: box.width + 2 * margin,
        height: box.height + 2 * margin };
    }
    const node = app.graph.getNodeById(id);
    const rect = app.canvas.canvas.getBoundingClientRect();
    const top = 2 * LiteGraph.NODE_TITLE_HEIGHT + 12; // badges sit on a row above the title bar
    const [x, y] = app.canvas.ds.convertOffsetToCanvas([node.pos[0], node.pos[1] - top]);
    const scale = app.canvas.ds.scale;
    return {
      x: Math.max(0, rect.left + x - margin), y: Math.max(0, rect.top + y - margin),
      width: node.size[0] * scale + 2 * margin, height: (node.size[1] + top) * scale + 2 * margin,
    };
  }, [id, margin]);
}

/** Set a widget as a user does: the value, then the widget's callback (what the canvas calls). */
export async function setWidget(page, id, name, value) {
  await page.evaluate(([id, name, value]) => {
    const node = window.app.graph.getNodeById(id);
    const widget = node.widgets.find((w) => w.name === name);
    widget.value = value;
    widget.callback?.(value, window.app.canvas, node);
    window.app.graph.setDirtyCanvas(true, true);
  }, [id, name, value]);
}

/** The texts of node `id`'s badges, as the canvas draws them (a function badge is called at each draw). */
export async function badgeTexts(page, id) {
  return page.evaluate((id) => (window.app.graph.getNodeById(id)?.badges ?? [])
    .map((b) => (typeof b === "function" ? b() : b)?.text).filter(Boolean), id);
}

/** Set the control (increment, randomize, fixed...) of node `id`'s widget `name`, whatever the frontend
 * calls the control widget. */
export async function setControl(page, id, name, mode) {
  await page.evaluate(([id, name, mode]) => {
    const widget = window.app.graph.getNodeById(id).widgets.find((w) => w.name === name);
    const [control] = widget.linkedWidgets ?? [];
    if (!control) throw new Error(`${name} has no control widget`);
    control.value = mode;
  }, [id, name, mode]);
}

/** The texts the Vue node renderer shows in node `id`'s badges (none in the classic canvas). */
export async function shownBadgeTexts(page, id) {
  return page.evaluate((id) => [...document.querySelectorAll(`[data-node-id="${id}"] *`)]
    .filter((e) => e.children.length === 0 && /^\$|price|×/.test(e.textContent.trim())).map((e) => e.textContent.trim()), id);
}

/** Wait until one of node `id`'s badges reads `expected`: as the canvas draws it (a function badge is called
 * at each draw) and, in the Vue node renderer, on the page. */
export async function badge(page, id, expected, timeout = 10000) {
  try {
    await until(page, ([id, expected]) => (window.app.graph.getNodeById(id)?.badges ?? [])
      .some((b) => (typeof b === "function" ? b() : b)?.text === expected), [id, expected], "", timeout);
    if (VUE) {
      await until(page, ([id, expected]) => [...document.querySelectorAll(`[data-node-id="${id}"] *`)]
        .some((e) => e.children.length === 0 && e.textContent.trim() === expected), [id, expected], "", timeout);
    }
  } catch (e) {
    if (!(e instanceof CheckFailed)) throw e;
    throw new CheckFailed(`the badges of node ${id} never read ${JSON.stringify(expected)}: they read ` +
      `${JSON.stringify(await badgeTexts(page, id))}` +
      (VUE ? `, the Vue node shows ${JSON.stringify(await shownBadgeTexts(page, id))}` : ""));
  }
}

/** Click Run (frontend 1.49 labels its queue-mode menu "Run" too: the queue button has a test id). */
export async function clickRun(page) {
  const byId = page.getByTestId("queue-button");
  await (await byId.count() ? byId : page.getByRole("button", { name: "Run", exact: true })).first().click();
}

/** Set the number beside Run: how many copies of the graph Run queues (the frontend's queue settings). */
export async function setBatchCount(page, count) {
  await page.evaluate((count) => { window.app.extensionManager.queueSettings.batchCount = count; }, count);
}

/** Load example_workflows/<name>.json as the template browser does (from the server's template route). */
export async function loadTemplate(page, name, pack = "comfyui-kling-video") {
  return page.evaluate(async ([pack, name]) => {
    const workflow = await (await fetch(`/api/workflow_templates/${pack}/${name}.json`)).json();
    await window.app.loadGraphData(workflow, true, true, name);
    return workflow.nodes.map((n) => ({ id: n.id, type: n.type }));
  }, [pack, name]);
}

/** Wait until the total next to the Run button reads `expected`. */
export async function totalLabel(page, expected, timeout = 10000) {
  try {
    await until(page, (expected) => [...document.querySelectorAll(".kling-price-total")]
      .some((el) => el.offsetParent !== null && el.textContent.trim() === expected), expected, "", timeout);
  } catch (e) {
    if (!(e instanceof CheckFailed)) throw e;
    const now = await page.evaluate(() => [...document.querySelectorAll(".kling-price-total")]
      .map((el) => `${el.textContent.trim()}${el.offsetParent === null ? " (hidden)" : ""}`));
    throw new CheckFailed(`the total next to Run never read ${JSON.stringify(expected)}: it reads ${JSON.stringify(now)}`);
  }
}

/** Link output `slot` of node `from` to the input named `input` of node `to`. */
export async function connect(page, from, slot, to, input) {
  await page.evaluate(([from, slot, to, input]) => {
    const graph = window.app.graph;
    const target = graph.getNodeById(to);
    const link = graph.getNodeById(from).connect(slot, target, target.findInputSlot(input));
    if (!link) throw new Error(`could not link ${from}:${slot} to ${to}.${input}`);
  }, [from, slot, to, input]);
}

/** A Kling node's preview (`within` a CSS scope, or anywhere): the video element showing its file from
 * output/kling-video/; plays it muted for a moment and returns what it showed. */
export async function playablePreview(page, within) {
  const selector = `${within ?? ""} video[src*="subfolder=kling-video"]`.trim();
  await until(page, (selector) => document.querySelector(selector)?.readyState >= 2, selector,
    "the node shows no preview of its video", 60000);
  return page.evaluate(async (selector) => {
    const video = document.querySelector(selector);
    video.muted = true; // autoplay rules let a muted video play without a click
    await video.play();
    await new Promise((resolve) => setTimeout(resolve, 400));
    video.pause();
    return { src: video.src.split("?")[1], width: video.videoWidth, height: video.videoHeight, duration: video.duration,
      time: video.currentTime, frames: video.getVideoPlaybackQuality().totalVideoFrames };
  }, selector);
}

export function checkPlays(video) {
  check(video.width === 320 && video.height === 240 && video.duration > 0.9,
    `the preview is not the fake's 1 s 320x240 video: ${JSON.stringify(video)}`);
  check(video.time > 0 && video.frames > 0, `the preview did not play: ${JSON.stringify(video)}`);
}
