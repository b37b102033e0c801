// The price badge of a Kling 2.6 Pro node, in the renderer KLING_RENDERER names: on the image-to-video
// template as a user opens it, then following its widgets; it names a provider that changes the price and
// says ×N behind a list input. The total next to the Run button adds up the nodes that will run, times the
// copies of the graph Run queues (the batch count) that change something the node reads.
import { addNode, badge, check, connect, emptyGraph, loadTemplate, log, nodeClip, openComfy, scenario,
  setBatchCount, setControl, setWidget, shot, totalLabel, until } from "./harness.mjs";

const I2V = "KlingVideo_V26Pro_ImageToVideo";

scenario("price", async ({ page }) => {
  await openComfy(page);
  await emptyGraph(page);
  await until(page, () => [...document.querySelectorAll(".kling-price-total")].every((el) => el.offsetParent === null),
    null, "the total shows with no Kling node in the graph", 5000);

  // The template as the template browser opens it: 5 s with audio, $0.70, and the same total by Run.
  const nodes = await loadTemplate(page, "kling_2.6_pro_image_to_video");
  const template = nodes.find((n) => n.type === I2V).id;
  await badge(page, template, "$0.70");
  await totalLabel(page, "Kling: $0.70");
  log("template kling_2.6_pro_image_to_video: badge $0.70, total $0.70");
  await page.waitForTimeout(300); // the canvas draws the badge on its next frame
  await shot(page, "price-badge", { clip: await nodeClip(page, template) });
  const bar = await page.locator(".actionbar-container").boundingBox();
  const barClip = { x: bar.x - 8, y: bar.y - 8, width: bar.width + 16, height: bar.height + 16 };
  await shot(page, "price-total", { clip: barClip });

  // Run queues 3 copies: identical copies are answered from ComfyUI's cache (and the take from the journal),
  // so the total stays $0.70 until something the node reads changes between copies.
  await setBatchCount(page, 3);
  await page.waitForTimeout(600); // two polls of the total
  await totalLabel(page, "Kling: $0.70");
  const seed = await addNode(page, "PrimitiveInt", [40, 700], { value: 7 });
  await setControl(page, seed, "value", "increment");
  await connect(page, seed, 0, template, "take");
  await totalLabel(page, "Kling: $2.10");
  await badge(page, template, "$0.70"); // the badge prices one queued copy
  await shot(page, "price-batch", { clip: barClip });
  await setControl(page, seed, "value", "fixed");
  await totalLabel(page, "Kling: $0.70");
  await setBatchCount(page, 1);
  log("batch count 3: $0.70 while the copies are identical, $2.10 when a take increments per copy");

  await emptyGraph(page);
  const image = await addNode(page, "LoadImage", [40, 120], { image: "kling_start.png" });
  const kling = await addNode(page, I2V, [420, 80], { prompt: "a king walks slowly" });
  const save = await addNode(page, "SaveVideo", [880, 80]);
  await connect(page, image, 0, kling, "start_frame");
  await connect(page, kling, 0, save, "video");
  await badge(page, kling, "$0.70"); // a new node
  await totalLabel(page, "Kling: $0.70");

  await setWidget(page, kling, "duration", "10");
  await badge(page, kling, "$1.40");
  await totalLabel(page, "Kling: $1.40");
  await setWidget(page, kling, "generate_audio", false);
  await badge(page, kling, "$0.70");
  log("10 s: $1.40; 10 s without audio: $0.70");
  await setWidget(page, kling, "duration", "5");
  await badge(page, kling, "$0.35");
  await setWidget(page, kling, "generate_audio", true);
  await setWidget(page, kling, "voice_ids", "voice-1");
  await badge(page, kling, "$0.84");
  await setWidget(page, kling, "voice_ids", "");
  await badge(page, kling, "$0.70");

  // Kling's own API costs what fal does here (its published list price): no provider name on the badge.
  await setWidget(page, kling, "provider", "kling");
  await badge(page, kling, "$0.70");
  // AI/ML API publishes no per-second price: the badge says whose price is unknown.
  await setWidget(page, kling, "provider", "aimlapi");
  await badge(page, kling, "AI/ML API: price unknown");
  await totalLabel(page, "Kling: price unknown");
  await setWidget(page, kling, "provider", "auto");
  await badge(page, kling, "$0.70");

  // A second Kling node adds to the total; one that feeds no output, or is bypassed, does not.
  const t2v = await addNode(page, "KlingVideo_V26Pro_TextToVideo", [420, 520], { prompt: "a red kite", duration: "10" });
  await badge(page, t2v, "$1.40");
  await totalLabel(page, "Kling: $0.70");
  const save2 = await addNode(page, "SaveVideo", [880, 520]);
  await connect(page, t2v, 0, save2, "video");
  await totalLabel(page, "Kling: $2.10");
  // A click on the total lists each node's price.
  await page.locator(".kling-price-total").click();
  const toast = page.locator('.p-toast-message, [data-testid="toast"]').filter({ hasText: "Kling 2.6 Pro Text to Video: $1.40" });
  await toast.first().waitFor({ timeout: 5000 });
  const breakdown = await toast.first().innerText();
  check(breakdown.includes("Kling 2.6 Pro Image to Video: $0.70"), `the breakdown: ${breakdown}`);
  await page.evaluate((id) => { window.app.graph.getNodeById(id).mode = 4; }, t2v);
  await totalLabel(page, "Kling: $0.70");
  log("second node: counted once it feeds a save node, not while bypassed");

  // A list of images (a folder's, whose length only running tells) makes the node run ×N times.
  const folder = await addNode(page, "LoadImageDataSetFromFolder", [40, 520]);
  const listed = await page.evaluate((id) => window.app.graph.getNodeById(id).constructor.nodeData.output_is_list, folder);
  check(listed?.[0] === true, `LoadImageDataSetFromFolder's output is not a list here: ${JSON.stringify(listed)}`);
  await connect(page, folder, 0, kling, "start_frame");
  await badge(page, kling, "$0.70 ×N");
  await totalLabel(page, "Kling: price unknown");
  log("list input: $0.70 ×N");

  // The pack's prompt list knows its length: three lines make three paid videos, and the badge says so.
  await connect(page, image, 0, kling, "start_frame");
  await badge(page, kling, "$0.70");
  const prompts = await addNode(page, "KlingVideo_PromptList", [40, 820], { prompts: "a fox\nan owl\n\na hare" });
  await connect(page, prompts, 0, kling, "prompt");
  await badge(page, kling, "$0.70 ×3 = $2.10");
  await totalLabel(page, "Kling: $2.10");
  await setWidget(page, prompts, "prompts", "a fox\nan owl");
  await badge(page, kling, "$0.70 ×2 = $1.40");
  log("prompt list: $0.70 ×3 = $2.10, then ×2 = $1.40");
});
