// The badge and total texts and the run count of web/kling_price_logic.js (node --test tests/js/).
import assert from "node:assert/strict";
import { test } from "node:test";

import {
  MODE_BYPASS, MODE_NEVER, badgeText, formatUsd, controlsChange, promptLines, queueCopies, runCount, total, totalText, willRun,
} from "../../web/kling_price_logic.js";

const fal = (usd) => ({ usd, text: usd == null ? "price unknown" : "", provider: "fal", provider_title: "fal.ai", reference_usd: usd });

test("dollars with cents, sub-cent prices to one significant digit", () => {
  assert.equal(formatUsd(0.7), "$0.70");
  assert.equal(formatUsd(1.4), "$1.40");
  assert.equal(formatUsd(0.84), "$0.84");
  assert.equal(formatUsd(0.7 * 3), "$2.10"); // 2.0999999999999996
  assert.equal(formatUsd(0.007), "$0.007");
  assert.equal(formatUsd(0), "$0.00");
});

test("badge: price, price unknown, the route's own text when there is no dollar figure", () => {
  assert.equal(badgeText(fal(0.7)), "$0.70");
  assert.equal(badgeText(fal(null)), "price unknown");
  assert.equal(badgeText({ ...fal(null), text: "$0.014/s of video" }), "$0.014/s of video");
});

test("badge names the provider only when it changes the price", () => {
  const kling = { usd: null, text: "price unknown", provider: "kling", provider_title: "Kling", reference_usd: 0.7 };
  assert.equal(badgeText(kling), "Kling: price unknown");
  const same = { usd: 0.7, text: "$0.70", provider: "vercel", provider_title: "Vercel AI Gateway", reference_usd: 0.7 };
  assert.equal(badgeText(same), "$0.70");
  const dearer = { ...same, usd: 0.9 };
  assert.equal(badgeText(dearer), "Vercel AI Gateway: $0.90");
});

test("badge ×N: known count multiplies, unknown count says ×N", () => {
  assert.equal(badgeText(fal(0.7), 3), "$0.70 ×3 = $2.10");
  assert.equal(badgeText(fal(0.7), null), "$0.70 ×N");
  assert.equal(badgeText(fal(null), 3), "price unknown ×3");
  assert.equal(badgeText(fal(null), null), "price unknown ×N");
});

test("total adds known prices times runs and counts the unknown ones", () => {
  assert.equal(totalText(total([])), "");
  assert.equal(totalText(total([{ usd: 0.7, runs: 1 }, { usd: 1.4, runs: 1 }])), "Kling: $2.10");
  assert.equal(totalText(total([{ usd: 0.7, runs: 3 }])), "Kling: $2.10");
  assert.equal(totalText(total([{ usd: 0.7, runs: 1 }, { usd: null, runs: 1 }, { usd: 0.35, runs: null }])),
    "Kling: $0.70 + 2 unknown");
  assert.equal(totalText(total([{ usd: null, runs: 1 }])), "Kling: price unknown");
  assert.deepEqual(total([{ usd: 0.7, runs: 2 }, { usd: null, runs: 1 }]), { usd: 1.4, unknown: 1, count: 2 });
});

// A small graph for runCount / willRun: nodes {id: {type, mode, out: [isList...], len: [items per run], output}}
// and links [fromId, fromSlot, toId].
function graph(nodes, links) {
  return {
    upstream: (id) => links.filter(([, , to]) => to === id).map(([from, slot]) => ({ id: from, slot })),
    downstream: (id) => links.filter(([from]) => from === id).map(([, , to]) => to),
    mode: (id) => nodes[id].mode ?? 0,
    isOutputNode: (id) => !!nodes[id].output,
    outputIsList: (id, slot) => !!nodes[id].out?.[slot],
    listLength: (id, slot) => nodes[id].len?.[slot] ?? null,
  };
}

test("a node with no list upstream runs once", () => {
  const g = graph({ img: {}, kling: {}, save: { output: true } }, [["img", 0, "kling"], ["kling", 0, "save"]]);
  assert.equal(runCount(g, "kling"), 1);
});

test("a list input makes the node run once per item; the longest list wins", () => {
  const g = graph({ three: { out: [true], len: [3] }, five: { out: [false, true], len: [1, 5] }, kling: {} },
    [["three", 0, "kling"]]);
  assert.equal(runCount(g, "kling"), 3);
  const both = graph({ three: { out: [true], len: [3] }, five: { out: [false, true], len: [1, 5] }, kling: {} },
    [["three", 0, "kling"], ["five", 1, "kling"]]);
  assert.equal(runCount(both, "kling"), 5);
  const plainSlot = graph({ five: { out: [false, true], len: [1, 5] }, kling: {} }, [["five", 0, "kling"]]);
  assert.equal(runCount(plainSlot, "kling"), 1);
});

test("a list of unknown length gives an unknown count", () => {
  const g = graph({ folder: { out: [true] }, three: { out: [true], len: [3] }, kling: {} },
    [["three", 0, "kling"], ["folder", 0, "kling"]]);
  assert.equal(runCount(g, "kling"), null);
});

test("a list flows through the nodes in between: each runs once per item", () => {
  const g = graph({ list: { out: [true], len: [4] }, resize: {}, kling: {} },
    [["list", 0, "resize"], ["resize", 0, "kling"]]);
  assert.equal(runCount(g, "kling"), 4);
  // a list node itself run twice gives twice its items
  const twice = graph({ two: { out: [true], len: [2] }, list: { out: [true], len: [3] }, kling: {} },
    [["two", 0, "list"], ["list", 0, "kling"]]);
  assert.equal(runCount(twice, "kling"), 6);
  // a bypassed list node does not run: what it passes through is what it was given
  const bypassed = graph({ list: { out: [true], len: [3], mode: MODE_BYPASS }, kling: {} }, [["list", 0, "kling"]]);
  assert.equal(runCount(bypassed, "kling"), 1);
});

test("only a node that leads to an output, unmuted and not bypassed, will run", () => {
  const nodes = { kling: {}, combine: {}, save: { output: true }, lonely: {} };
  const links = [["kling", 0, "combine"], ["combine", 0, "save"]];
  assert.equal(willRun(graph(nodes, links), "kling"), true);
  assert.equal(willRun(graph(nodes, links), "lonely"), false);
  assert.equal(willRun(graph({ ...nodes, kling: { mode: MODE_NEVER } }, links), "kling"), false);
  assert.equal(willRun(graph({ ...nodes, kling: { mode: MODE_BYPASS } }, links), "kling"), false);
  assert.equal(willRun(graph({ ...nodes, combine: { mode: MODE_NEVER } }, links), "kling"), false);
  assert.equal(willRun(graph({ ...nodes, combine: { mode: MODE_BYPASS } }, links), "kling"), true);
  assert.equal(willRun(graph({ ...nodes, save: { output: true, mode: MODE_BYPASS } }, links), "kling"), false);
});

test("the prompt list counts its non-empty lines, as the node does", () => {
  assert.equal(promptLines("a fox\n\n  \nan owl\r\na hare\n"), 3);
  assert.equal(promptLines(""), 0);
  assert.equal(promptLines(undefined), 0);
});

test("batch count: only copies that differ are paid; an unchanged copy is answered from the cache", () => {
  // nodes whose control_after_generate widget is not "fixed" (their value changes between queued copies)
  const view = (nodes, links, changing) => ({ ...graph(nodes, links), changesEachQueue: (id) => changing.includes(id) });
  const nodes = { seed: {}, img: {}, kling: {}, save: { output: true } };
  const links = [["seed", 0, "img"], ["img", 0, "kling"], ["kling", 0, "save"]];
  assert.equal(queueCopies(view(nodes, links, []), "kling", 3), 1); // three identical copies: one paid run
  assert.equal(queueCopies(view(nodes, links, ["seed"]), "kling", 3), 3); // a seed upstream changes each copy
  assert.equal(queueCopies(view(nodes, links, ["kling"]), "kling", 3), 3); // the node's own widget changes
  assert.equal(queueCopies(view(nodes, links, ["save"]), "kling", 3), 1); // downstream changes do not matter
  assert.equal(queueCopies(view(nodes, links, ["seed"]), "kling", 1), 1);
  assert.equal(queueCopies(view(nodes, links, ["seed"]), "kling", undefined), 1); // a frontend without one
  // a bypassed node's widget reaches nothing; what is upstream of it still does
  const bypassed = { ...nodes, img: { mode: MODE_BYPASS } };
  assert.equal(queueCopies(view(bypassed, links, ["img"]), "kling", 3), 1);
  assert.equal(queueCopies(view(bypassed, links, ["seed"]), "kling", 3), 3);
  // a cycle is not a valid prompt, but must not loop
  assert.equal(queueCopies(view({ a: {}, kling: {} }, [["a", 0, "kling"], ["kling", 0, "a"]], []), "kling", 2), 1);
});

test("a seed whose control is not fixed changes between queued copies", () => {
  const seed = (value, name = "control_after_generate") => [{ name: "seed", value: 1, linkedWidgets: [{ name, value }] }, { name, value }];
  assert.equal(controlsChange(seed("fixed")), false);
  assert.equal(controlsChange(seed("increment")), true);
  assert.equal(controlsChange(seed("randomize")), true);
  assert.equal(controlsChange(seed("randomize", "control_before_generate")), true);
  assert.equal(controlsChange([{ name: "take", value: 0 }]), false); // the Kling take has no control
  // frontend 1.49 names the control after ComfyUI 0.33's default value ("fixed"): known by its choices
  const values = ["fixed", "increment", "decrement", "randomize"];
  const named = (value) => [{ name: "value", value: 3, linkedWidgets: [{ name: "fixed", value, options: { values } }] }];
  assert.equal(controlsChange(named("fixed")), false);
  assert.equal(controlsChange(named("increment")), true);
  // a linked widget that is not a control (an image upload button) says nothing
  assert.equal(controlsChange([{ name: "image", value: "a.png", linkedWidgets: [{ name: "upload", value: "x" }] }]), false);
  assert.equal(controlsChange(undefined), false);
});
