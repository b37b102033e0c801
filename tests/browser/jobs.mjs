// The "Kling jobs" side panel, in the renderer KLING_RENDERER names, lists a job that was paid for but
// interrupted while its video downloaded, as soon as the tab opens, and its Collect button saves that
// video without a second submit (tests/test_browser.py makes the fake's download hang, and counts the
// submits).
import { addNode, clickRun, check, connect, emptyGraph, log, openComfy, scenario, shot, until } from "./harness.mjs";

scenario("jobs", async ({ page }) => {
  await openComfy(page);
  await emptyGraph(page);
  const kling = await addNode(page, "KlingVideo_V26Pro_TextToVideo", [420, 80], { prompt: `collect me (${Date.now()})` });
  const save = await addNode(page, "SaveVideo", [880, 80]);
  await connect(page, kling, 0, save, "video");
  await clickRun(page);
  const text = await until(page, (id) => {
    const value = window.app.graph.getNodeById(id)?.widgets?.find((w) => w.name === "$$node-text-preview")?.value;
    return /downloading/.test(value ?? "") && value;
  }, kling, "the node never said it was downloading", 60000);
  const requestId = text.match(/request (\S+)/)?.[1];
  check(requestId, `no request id in the progress text: ${text}`);
  await page.evaluate(() => window.app.extensionManager.command.execute("Comfy.Interrupt"));
  log(`interrupted while downloading request ${requestId}`);
  await until(page, async () => (await (await fetch("/api/queue")).json()).queue_running.length === 0, null,
    "the interrupted job is still running", 30000);

  // the side bar's "Kling jobs" tab (its icon is the pack's pi-video): the list loads as the tab opens,
  // with no click on its Refresh button
  await page.locator("button").filter({ has: page.locator(".pi-video") }).first().click();
  const listed = page.locator(`.kling-job[title*="request id: ${requestId}"]`);
  await listed.getByRole("button", { name: "Collect" }).waitFor({ timeout: 20000 });
  const before = await listed.innerText();
  log(`listed: ${before.replace(/\s+/g, " ")}`);
  check(/not collected/.test(before), `the job is not shown as waiting to be collected: ${before}`);
  await shot(page, "jobs-panel");
  await listed.getByRole("button", { name: "Collect" }).click();
  await until(page, (id) => {
    const card = [...document.querySelectorAll(".kling-job")].find((r) => r.title.includes(`request id: ${id}`));
    return card && !card.querySelector("button") && card.querySelector("a[href*='subfolder=kling-video']");
  }, requestId, "the collected job has no link to its video", 30000);
  const after = await listed.innerText();
  log(`collected: ${after.replace(/\s+/g, " ")}`);

  // shut and reopened, the tab lists the jobs again at once
  const tab = page.locator("button").filter({ has: page.locator(".pi-video") }).first();
  await tab.click();
  await until(page, () => !document.querySelector(".kling-job"), null, "the tab did not close", 5000);
  await tab.click();
  await listed.locator("a[href*='subfolder=kling-video']").waitFor({ timeout: 10000 });
  log("reopened: listed at once");
});
