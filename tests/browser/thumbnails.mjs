// Writes example_workflows/<name>.jpg, the template browser's thumbnail of each example workflow (the
// frontend asks for .jpg only), from a screenshot of the workflow loaded in ComfyUI. Run by hand after
// changing a workflow:
//   .venv/bin/python tests/browser/comfy_stack.py &          (prints COMFY_URL=...)
//   COMFY_URL=http://127.0.0.1:PORT node tests/browser/thumbnails.mjs
// THUMBNAILS=name,name (workflow names without .json) limits it to those, so the others' .jpg stay as they are.
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

import { check, log, openComfy, scenario } from "./harness.mjs";

const DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../example_workflows");
const SIZE = 512; // the template cards crop to a square

// Centre every node and group in the canvas, as large as fits (never above 100%).
function fitGraph() {
  const { app, LiteGraph } = window;
  const boxes = [...app.graph.nodes.map((n) => [n.pos[0], n.pos[1] - LiteGraph.NODE_TITLE_HEIGHT, n.size[0],
    n.size[1] + LiteGraph.NODE_TITLE_HEIGHT]), ...(app.graph.groups ?? []).map((g) => [...g.pos, ...g.size])];
  const x0 = Math.min(...boxes.map((b) => b[0]));
  const y0 = Math.min(...boxes.map((b) => b[1]));
  const x1 = Math.max(...boxes.map((b) => b[0] + b[2]));
  const y1 = Math.max(...boxes.map((b) => b[1] + b[3]));
  const { width, height } = app.canvas.canvas.getBoundingClientRect();
  const margin = 40;
  const scale = Math.min(1, (width - 2 * margin) / (x1 - x0), (height - 2 * margin) / (y1 - y0));
  app.canvas.ds.scale = scale;
  app.canvas.ds.offset = [width / (2 * scale) - (x0 + x1) / 2, height / (2 * scale) - (y0 + y1) / 2];
  app.canvas.setDirty(true, true);
}

scenario("thumbnails", async ({ page }) => {
  await page.setViewportSize({ width: 1000, height: 1000 });
  await openComfy(page);
  await page.evaluate(async () => {
    const settings = window.app.extensionManager.setting;
    await settings.set("Comfy.Graph.CanvasInfo", false); // the FPS corner
    await settings.set("Comfy.Graph.CanvasMenu", false); // the zoom buttons
    await window.app.extensionManager.command.execute("Workspace.ToggleFocusMode"); // menus and side bars
  });
  const only = (process.env.THUMBNAILS || "").split(",").filter(Boolean);
  const names = fs.readdirSync(DIR).filter((f) => f.endsWith(".json")).map((f) => f.slice(0, -5))
    .filter((name) => !only.length || only.includes(name)).sort();
  check(names.length, `no workflow in ${DIR}`);
  for (const name of names) {
    const workflow = JSON.parse(fs.readFileSync(path.join(DIR, `${name}.json`), "utf8"));
    await page.evaluate(async ([workflow, name]) => {
      await window.app.loadGraphData(workflow, true, false, name);
    }, [workflow, name]);
    // loader nodes fetch their previews from the server (and grow); let them arrive, then frame the graph
    await page.waitForLoadState("networkidle");
    await page.waitForTimeout(300);
    await page.evaluate(fitGraph);
    await page.waitForTimeout(300);
    const png = (await page.screenshot()).toString("base64");
    const jpg = await page.evaluate(async ([png, size]) => {
      const img = new Image();
      img.src = `data:image/png;base64,${png}`;
      await img.decode();
      const canvas = Object.assign(document.createElement("canvas"), { width: size, height: size });
      canvas.getContext("2d").drawImage(img, 0, 0, size, size);
      return canvas.toDataURL("image/jpeg", 0.85).split(",")[1];
    }, [png, SIZE]);
    fs.writeFileSync(path.join(DIR, `${name}.jpg`), Buffer.from(jpg, "base64"));
    log(`${name}.jpg`);
  }
});
