// The jobs sidebar's formatting and which rows get a Collect button: node --test tests/js/jobs.test.mjs
import { test } from "node:test";
import assert from "node:assert/strict";

import {
  COLLECTABLE_STATES, ageText, collectRoute, costText, isCollectable, rowTitle, shortId, spendText, stateText,
} from "../../web/kling_jobs_logic.js";

const job = (extra) => ({ hash: "a".repeat(64), state: "completed", request_id: "req-1", running: false, ...extra });

test("only paid, unsaved jobs with a request id that nothing is running get Collect", () => {
  assert.deepEqual(COLLECTABLE_STATES, ["submitted", "completed", "cancelled"]);
  assert.equal(isCollectable(job({ state: "submitted" })), true);
  assert.equal(isCollectable(job({ state: "completed" })), true);
  // cancelled: the provider may have finished it anyway; Collect asks it first
  assert.equal(isCollectable(job({ state: "cancelled" })), true);
  for (const state of ["pending", "downloaded", "failed"]) {
    assert.equal(isCollectable(job({ state })), false, state);
  }
  assert.equal(isCollectable(job({ running: true })), false);
  assert.equal(isCollectable(job({ request_id: null })), false);
});

test("state text tells running, paid-not-collected and saved apart", () => {
  assert.equal(stateText(job({ state: "submitted", running: true })), "running");
  assert.equal(stateText(job({ state: "submitted" })), "paid, not collected");
  assert.equal(stateText(job({ state: "completed" })), "finished, not collected");
  assert.equal(stateText(job({ state: "downloaded", file_exists: true })), "saved");
  assert.equal(stateText(job({ state: "downloaded", file_exists: false })), "saved (file gone)");
  assert.equal(stateText(job({ state: "pending" })), "submit cut off");
  assert.equal(stateText(job({ state: "failed" })), "failed");
});

test("age text", () => {
  assert.equal(ageText(null), "—");
  assert.equal(ageText(undefined), "—");
  assert.equal(ageText(NaN), "—");
  assert.equal(ageText(-3), "0 s");
  assert.equal(ageText(12.4), "12 s");
  assert.equal(ageText(59.6), "1 min");
  assert.equal(ageText(61), "1 min");
  assert.equal(ageText(3599), "59 min");
  assert.equal(ageText(3600), "1 h");
  assert.equal(ageText(2 * 3600 + 5 * 60 + 9), "2 h 5 min");
  assert.equal(ageText(86400 * 3 + 7), "3 d");
});

test("cost and spend text", () => {
  assert.equal(costText(job({ cost_usd: 0.7 })), "$0.70");
  assert.equal(costText(job({ cost_usd: 1.4000000001 })), "$1.40");
  assert.equal(costText(job({ cost_usd: 0 })), "$0.00");
  assert.equal(costText(job({ cost_usd: null })), "price unknown");
  assert.equal(spendText(1.4, 5), "Today (UTC): $1.40 of the $5.00 cap (KLING_VIDEO_MAX_USD)");
  assert.equal(spendText(0, null), "Today (UTC): $0.00; no daily cap (set KLING_VIDEO_MAX_USD for one)");
  assert.equal(spendText(undefined, undefined), "Today (UTC): $0.00; no daily cap (set KLING_VIDEO_MAX_USD for one)");
});

test("ids, routes and tooltips", () => {
  assert.equal(shortId("76ee1183-65e2-4f56-a6e7-3b821f4e61e3"), "76ee1183-6…");
  assert.equal(shortId("short"), "short");
  assert.equal(shortId("12345678901"), "12345678901");
  assert.equal(shortId(null), "—");
  assert.equal(collectRoute("ab/c"), "/kling_video/jobs/ab%2Fc/collect");
  const title = rowTitle(job({ node: "Kling 2.6 Pro Text to Video", model: "fal-ai/x", error: "boom", cost: "$0.70 (5 s)" }));
  assert.match(title, /^Kling 2\.6 Pro Text to Video\nendpoint: fal-ai\/x\nrequest id: req-1\nestimate: \$0\.70 \(5 s\)\nerror: boom\njournal entry: a{64}$/);
});
