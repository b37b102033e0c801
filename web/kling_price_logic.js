// Price texts for the Kling badges and the graph total, and how many times a node will run.
// Pure functions (no app or api imports), so node's test runner checks them (tests/js/price.test.mjs).
// The prices themselves come from the pack's catalog through POST /kling_video/price.

export const MODE_NEVER = 2; // muted: not run, and nothing after it runs
export const MODE_BYPASS = 4; // not run; its inputs pass through to its outputs

/** "$0.70"; sub-cent prices keep one significant digit ("$0.007") instead of rounding to a cent. */
export function formatUsd(usd) {
  if (usd > 0 && usd < 0.01) return `$${Number(usd.toPrecision(1))}`;
  return `$${usd.toFixed(2)}`;
}

/**
 * The badge text. `quote` is the price route's answer ({usd, text, provider, provider_title,
 * reference_usd}); `runs` is how many times the node will run: a number, or null when a list input makes
 * it run an unknown number of times.
 */
export function badgeText(quote, runs = 1) {
  const base = quote.usd == null ? quote.text || "price unknown" : formatUsd(quote.usd);
  // fal's price is the reference; another provider is named only when it changes the price.
  const named = quote.provider && quote.provider !== "fal" && quote.usd !== quote.reference_usd;
  const text = named ? `${quote.provider_title || quote.provider}: ${base}` : base;
  if (runs === 1) return text;
  if (runs == null) return `${text} ×N`;
  if (quote.usd == null) return `${text} ×${runs}`;
  return `${text} ×${runs} = ${formatUsd(quote.usd * runs)}`;
}

/**
 * The total next to the Run button. `items`: [{usd, runs}] for each Kling node that will run.
 * Nodes whose price or run count is unknown are counted, not guessed.
 */
export function total(items) {
  let usd = 0;
  let unknown = 0;
  for (const { usd: each, runs } of items) {
    if (each == null || runs == null) unknown += 1;
    else usd += each * runs;
  }
  return { usd, unknown, count: items.length };
}

export function totalText({ usd, unknown, count }) {
  if (!count) return "";
  if (unknown === count) return "Kling: price unknown";
  return `Kling: ${formatUsd(usd)}` + (unknown ? ` + ${unknown} unknown` : "");
}

/*
 * A graph as these functions see it (kling_price.js builds one over LiteGraph):
 *   upstream(id)          -> [{id, slot}]: the origin of each linked input
 *   downstream(id)        -> [id]: the nodes fed by this node's outputs
 *   mode(id)              -> LiteGraph mode (0 runs; MODE_NEVER, MODE_BYPASS)
 *   isOutputNode(id)      -> true for nodes ComfyUI runs for their own sake (save, preview)
 *   outputIsList(id, slot)-> /object_info's output_is_list
 *   listLength(id, slot)  -> items a list output gives per run, or null when only running it tells
 *   changesEachQueue(id)  -> true when a widget of the node changes after (or before) each queued copy: a
 *                            seed-like widget whose control_after_generate is not "fixed"
 */

/**
 * How many times ComfyUI will run node `id`: once, or once per item of its longest list input (ComfyUI
 * repeats the last item of shorter lists). null when a list's length is not known before running.
 */
export function runCount(view, id, seen = new Set()) {
  if (seen.has(id)) return 1; // a cycle is not a valid prompt; do not loop on it
  seen.add(id);
  let runs = 1; // every Kling node has widget inputs: one item each
  for (const { id: from, slot } of view.upstream(id)) {
    const n = itemCount(view, from, slot, seen);
    if (n == null) return null;
    runs = Math.max(runs, n);
  }
  seen.delete(id);
  return runs;
}

/** How many items output `slot` of node `id` carries: a node run N times gives N results. */
function itemCount(view, id, slot, seen) {
  const runs = runCount(view, id, seen);
  if (view.mode(id) === MODE_BYPASS || !view.outputIsList(id, slot)) return runs;
  const per = view.listLength(id, slot);
  return runs == null || per == null ? null : runs * per;
}

/** Whether running the graph runs node `id`: it is neither muted nor bypassed, and leads to an output
 * node through no muted node (a node feeding nothing that is saved or previewed is not run). */
export function willRun(view, id) {
  const mode = view.mode(id);
  return mode !== MODE_NEVER && mode !== MODE_BYPASS && leadsToOutput(view, id, new Set());
}

function leadsToOutput(view, id, seen) {
  const mode = view.mode(id);
  if (mode === MODE_NEVER || seen.has(id)) return false;
  seen.add(id);
  if (mode !== MODE_BYPASS && view.isOutputNode(id)) return true;
  return view.downstream(id).some((next) => leadsToOutput(view, next, seen));
}

/** How many prompts the Kling Prompt List node's text holds (non-empty lines, as the node counts them). */
export function promptLines(text) {
  return String(text ?? "").split(/\r\n|\r|\n/).filter((line) => line.trim()).length;
}

/**
 * How many of the `batch` copies of the graph that Run queues make node `id` run again. Copies are
 * identical unless a widget with a control_after_generate other than "fixed" changes between them, on the
 * node or on one of the nodes it depends on; an identical copy is answered from ComfyUI's cache (and a Kling
 * node's take from its journal) at no cost, so only the first copy is paid.
 */
export function queueCopies(view, id, batch) {
  const count = Number.isInteger(batch) && batch > 1 ? batch : 1;
  return count > 1 && changesPerCopy(view, id, new Set()) ? count : 1;
}

function changesPerCopy(view, id, seen) {
  if (seen.has(id)) return false;
  seen.add(id);
  // a bypassed node's own widgets feed nothing: its inputs pass through
  if (view.mode(id) !== MODE_BYPASS && view.changesEachQueue(id)) return true;
  return view.upstream(id).some(({ id: from }) => changesPerCopy(view, from, seen));
}

/**
 * Whether a node's widgets change between queued copies: a widget (a seed) whose linked control widget says
 * increment, decrement or randomize rather than "fixed". The control is named "control_after_generate" (or
 * "control_before_generate" under that setting), or, where a frontend reads the server's default value as
 * a name (1.4x with ComfyUI 0.33), after that value: it is known by its choices.
 */
export function controlsChange(widgets) {
  return (widgets ?? []).some((widget) => (widget?.linkedWidgets ?? []).some((control) => {
    const values = control?.options?.values;
    const isControl = /^control_(after|before)_generate$/.test(control?.name ?? "") ||
      (Array.isArray(values) && values.includes("fixed") && values.includes("randomize"));
    return isControl && control.value !== "fixed";
  }));
}

/** "3 min", "5 h", "2 days": how old a price is, from seconds. */
export function ageText(seconds) {
  const s = Math.max(0, Math.round(Number(seconds) || 0));
  if (s < 90) return "just now";
  if (s < 90 * 60) return `${Math.round(s / 60)} min old`;
  if (s < 36 * 3600) return `${Math.round(s / 3600)} h old`;
  return `${Math.round(s / 86400)} days old`;
}

/**
 * The badge's tooltip: which price the badge shows and how old it is. `quote` is the price route's answer:
 * price_origin "live" (fal's pricing API, fetched at price_as_of, price_age_seconds ago) or "catalog" (the
 * catalog's list price, price_source; price_note says why fal's live price does not stand).
 */
export function priceTooltip(quote) {
  if (!quote || quote.price_origin == null) return quote?.detail ?? "";
  const who = quote.provider_title || quote.provider || "fal.ai";
  const lines = [];
  if (quote.price_origin === "live") {
    const when = String(quote.price_as_of ?? "").replace("T", " ").replace(/\.\d+/, "").replace(/\+00:00$|Z$/, " UTC");
    lines.push(`${who}'s live price as of ${when} (${ageText(quote.price_age_seconds)})`);
  } else {
    lines.push(`the catalog's list price for ${who}` + (quote.price_note ? ` (${quote.price_note})` : ""));
  }
  if (quote.detail) lines.push(quote.detail);
  if (quote.price_source) lines.push(`source: ${quote.price_source}`);
  return lines.join("\n");
}
