// The badge's tooltip: which price the badge shows and how old it is (web/kling_price_logic.js).
import assert from "node:assert/strict";
import { test } from "node:test";

import { ageText, badgeText, priceTooltip } from "../../web/kling_price_logic.js";

const base = { usd: 0.7, text: "$0.70", detail: "$0.70 (5 s × $0.14/s, audio on)", provider: "fal",
  provider_title: "fal.ai", reference_usd: 0.7 };

test("a live price names fal's pricing API, when it was fetched and how old it is", () => {
  const live = { ...base, price_origin: "live", price_as_of: "2026-09-20T10:00:00.123456+00:00", price_age_seconds: 7200,
    price_source: "fal's pricing API: $0.07 per second, as of 2026-09-20T10:00:00.123456+00:00" };
  const text = priceTooltip(live);
  assert.match(text, /^fal\.ai's live price as of 2026-09-20 10:00:00 UTC \(2 h old\)\n/);
  assert.match(text, /\$0\.70 \(5 s × \$0\.14\/s, audio on\)/);
  assert.match(text, /source: fal's pricing API/);
  assert.equal(badgeText(live), "$0.70"); // the badge text itself is unchanged
});

test("the catalog's list price names its source and why no live price stands", () => {
  const listed = { ...base, price_origin: "catalog", price_as_of: null, price_age_seconds: null,
    price_source: "https://fal.ai/models/fal-ai/kling-video/v2.6/pro/text-to-video", price_note: "fal's prices not fetched yet" };
  const text = priceTooltip(listed);
  assert.match(text, /^the catalog's list price for fal\.ai \(fal's prices not fetched yet\)\n/);
  assert.match(text, /source: https:\/\/fal\.ai\/models/);
  const kling = { ...listed, provider: "kling", provider_title: "Kling", price_note: "" };
  assert.match(priceTooltip(kling), /^the catalog's list price for Kling\n/);
});

test("an answer from an older server (no origin fields) shows its detail", () => {
  assert.equal(priceTooltip(base), base.detail);
  assert.equal(priceTooltip(undefined), "");
});

test("ages read as minutes, hours or days", () => {
  assert.equal(ageText(30), "just now");
  assert.equal(ageText(600), "10 min old");
  assert.equal(ageText(5 * 3600), "5 h old");
  assert.equal(ageText(3 * 86400), "3 days old");
});
