// A queued Kling 2.6 Pro node shows its progress as text on the node, then previews the finished video,
// which plays, in the renderer KLING_RENDERER names (the fake fal answers the job). Run queues two copies
// of the graph (batch count 2); the second changes nothing, so ComfyUI answers it from its cache and fal
// sees one submit (tests/test_browser.py counts them), as the total by Run says.
import { addNode, clickRun, check, checkPlays, connect, emptyGraph, frontendAtLeast, log, nodeClip, openComfy, playablePreview,
  scenario, setBatchCount, shot, totalLabel, until, VUE } from "./harness.mjs";

const I2V = "KlingVideo_V26Pro_ImageToVideo";
const RUN = Date.now(); // a prompt never run before, so neither ComfyUI's cache nor the pack's journal answers

scenario("run", async ({ page }) => {
  await openComfy(page);
  await emptyGraph(page);
  const image = await addNode(page, "LoadImage", [40, 120], { image: "kling_start.png" });
  const kling = await addNode(page, I2V, [420, 80], { prompt: `a king walks slowly (${RUN})`, generate_audio: false });
  const save = await addNode(page, "SaveVideo", [880, 80]);
  await connect(page, image, 0, kling, "start_frame");
  await connect(page, kling, 0, save, "video");
  await setBatchCount(page, 2);
  await totalLabel(page, "Kling: $0.35");
  // every progress text the server sends (frontend 1.5x clears the node's text when the job ends)
  await page.evaluate(() => {
    window.__klingTexts = [];
    window.comfyAPI.api.api.addEventListener("progress_text", (e) => window.__klingTexts.push(e.detail));
  });
  await clickRun(page);
  // The pack's progress goes to the node as text (ComfyUI's progress_text), under the widgets.
  const progress = await until(page, (id) => {
    const text = window.app.graph.getNodeById(id)?.widgets?.find((w) => w.name === "$$node-text-preview")?.value;
    return /running/.test(text ?? "") && text;
  }, kling, "no progress text appeared on the node");
  log(`progress text: ${JSON.stringify(progress)}`);
  check(/request \S+/.test(progress), `the progress text names no request id: ${progress}`);
  if (VUE && await frontendAtLeast(page, "1.49")) { // 1.32's Vue renderer shows no progress text at all
    await until(page, ([id, request]) => {
      const node = document.querySelector(`[data-node-id="${id}"]`);
      return node && /running/.test(node.innerText) && node.innerText.includes(request);
    }, [kling, progress.match(/request (\S+)/)[1]], "the Vue node does not show the progress text", 10000);
  }
  await page.waitForTimeout(300); // the canvas draws the new text on its next frame
  await shot(page, "run-progress", { clip: await nodeClip(page, kling) });

  const video = await playablePreview(page, VUE ? `[data-node-id="${kling}"]` : undefined);
  checkPlays(video);
  log(`preview plays: ${JSON.stringify(video)}`);
  const texts = await page.evaluate((id) => window.__klingTexts.filter((t) => String(t.nodeId) === String(id)).map((t) => t.text), kling);
  check(/^done/.test(texts.at(-1) ?? ""), `the node's last progress text is not "done": ${JSON.stringify(texts.at(-1))}`);
  await page.evaluate((id) => {
    const scope = document.querySelector(`[data-node-id="${id}"]`) ?? document;
    const v = [...scope.querySelectorAll("video")].find((e) => e.src.includes("subfolder=kling-video"));
    v.currentTime = v.duration / 2; // a frame with colour in it, for the picture
  }, kling);
  await page.waitForTimeout(500);
  await shot(page, "run-preview", { clip: await nodeClip(page, kling) });
  // the second copy: served from the cache, so the queue empties without a second job at fal
  await until(page, async () => (await (await fetch("/api/queue")).json()).queue_running.length === 0 &&
    (await (await fetch("/api/queue")).json()).queue_pending.length === 0, null, "the second copy never finished", 30000);
  await setBatchCount(page, 1);
});
