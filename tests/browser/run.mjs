// A queued Kling 2.6 Pro node shows its progress as text on the node, then previews the finished video,
// which plays: in the classic canvas, then in the Vue node renderer (the fake fal answers the job).
import { addNode, check, checkPlays, connect, emptyGraph, log, nodeClip, openComfy, playablePreview, scenario, shot,
  until } from "./harness.mjs";

const I2V = "KlingVideo_V26Pro_ImageToVideo";
const RUN = Date.now(); // a prompt never run before, so neither ComfyUI's cache nor the pack's journal answers

async function buildGraph(page, prompt) {
  await emptyGraph(page);
  const image = await addNode(page, "LoadImage", [40, 120], { image: "kling_start.png" });
  const kling = await addNode(page, I2V, [420, 80], { prompt, generate_audio: false });
  const save = await addNode(page, "SaveVideo", [880, 80]);
  await connect(page, image, 0, kling, "start_frame");
  await connect(page, kling, 0, save, "video");
  return kling;
}

scenario("run", async ({ page }) => {
  await openComfy(page);
  const kling = await buildGraph(page, `a king walks slowly (${RUN})`);
  await page.getByRole("button", { name: "Run", exact: true }).click();
  // The pack's progress goes to the node as text (ComfyUI's progress_text), under the widgets.
  const progress = await until(page, (id) => {
    const text = window.app.graph.getNodeById(id)?.widgets?.find((w) => w.name === "$$node-text-preview")?.value;
    return /running/.test(text ?? "") && text;
  }, kling, "no progress text appeared on the node");
  log(`progress text: ${JSON.stringify(progress)}`);
  check(/request \S+/.test(progress), `the progress text names no request id: ${progress}`);
  await page.waitForTimeout(300); // the canvas draws the new text on its next frame
  await shot(page, "run-progress", { clip: await nodeClip(page, kling) });

  const video = await playablePreview(page);
  checkPlays(video);
  log(`classic canvas preview plays: ${JSON.stringify(video)}`);
  const done = await page.evaluate((id) => window.app.graph.getNodeById(id).widgets.find((w) => w.name === "$$node-text-preview")?.value, kling);
  check(/^done/.test(done ?? ""), `the node's last progress text is not "done": ${done}`);
  await page.evaluate(() => {
    const v = [...document.querySelectorAll("video")].find((e) => e.src.includes("subfolder=kling-video"));
    v.currentTime = v.duration / 2; // a frame with colour in it, for the picture
  });
  await page.waitForTimeout(500);
  await shot(page, "run-preview", { clip: await nodeClip(page, kling) });

  // The Vue node renderer picks a preview's kind by itself: the Kling node must still show a video.
  await openComfy(page, { vueNodes: true });
  const vueNode = await buildGraph(page, `a queen waves (${RUN})`);
  await page.getByRole("button", { name: "Run", exact: true }).click();
  const vueVideo = await playablePreview(page, `[data-node-id="${vueNode}"]`);
  checkPlays(vueVideo);
  log(`Vue node preview plays: ${JSON.stringify(vueVideo)}`);
});
