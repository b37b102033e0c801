// A fal key typed into Settings → Kling Video → API keys makes a queued generation succeed (ComfyUI runs
// without FAL_KEY), and the key is nowhere the browser can see afterwards: not in the workflow as saved,
// the prompt, the page's storage, GET /settings or GET /history. (tests/test_browser.py then searches every
// file ComfyUI wrote, the outputs' metadata included.)
//   KLING_TEST_KEY  the key the fake fal.ai accepts
import { addNode, clickRun, check, checkPlays, connect, emptyGraph, log, openComfy, playablePreview, scenario,
  until } from "./harness.mjs";

const KEY = process.env.KLING_TEST_KEY;

scenario("keys", async ({ page }) => {
  check(KEY, "KLING_TEST_KEY is not set");
  await openComfy(page);
  await page.evaluate(() => window.app.extensionManager.command.execute("Comfy.ShowSettingsDialog"));
  await page.getByRole("option", { name: "Kling Video" }).or(page.getByText("Kling Video", { exact: true })).first().click();
  await page.getByRole("button", { name: "Manage keys…" }).click();
  const field = page.getByLabel("fal.ai key", { exact: true });
  await field.fill(KEY);
  await page.locator("fieldset", { has: field }).getByRole("button", { name: "Save" }).click();
  await until(page, (hint) => [...document.querySelectorAll(".kling-keys-status")]
    .some((e) => /^stored, ends in\W*/.test(e.textContent) && e.textContent.endsWith(hint)), KEY.slice(-4),
  "the dialog never said the key was stored");
  check(await field.inputValue() === "", "the key stayed in the password field after Save");
  log("fal.ai key stored from the settings dialog");
  await page.locator(".kling-keys-close").click();
  await page.keyboard.press("Escape"); // the settings dialog

  await emptyGraph(page);
  const kling = await addNode(page, "KlingVideo_V26Pro_TextToVideo", [420, 80], { prompt: `a red kite (${Date.now()})` });
  const save = await addNode(page, "SaveVideo", [880, 80]);
  await connect(page, kling, 0, save, "video");
  await clickRun(page);
  const video = await playablePreview(page);
  checkPlays(video);
  log(`generation with the stored key succeeded: ${video.src}`);

  const seen = await page.evaluate(async () => {
    const { app } = window;
    const storage = Object.keys(localStorage).map((k) => `${k}=${localStorage.getItem(k)}`).join("\n") +
      Object.keys(sessionStorage).map((k) => `${k}=${sessionStorage.getItem(k)}`).join("\n");
    return {
      "the workflow as saved": JSON.stringify(app.graph.serialize()),
      "the prompt": JSON.stringify(await app.graphToPrompt()),
      "the page's storage": storage,
      "GET /settings": await (await fetch("/api/settings")).text(),
      "GET /history": await (await fetch("/api/history")).text(),
      "the key dialog's status": await (await fetch("/api/kling_video/keys")).text(),
    };
  });
  for (const [where, text] of Object.entries(seen)) {
    check(text.length > 2, `${where} is empty: nothing was searched`);
    check(!text.includes(KEY), `the key is in ${where}`);
  }
  log(`the key is in none of: ${Object.keys(seen).join(", ")}`);
});
