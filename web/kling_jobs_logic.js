// What the "Kling jobs" sidebar shows, from the server's answer to GET /kling_video/jobs. No DOM, no app or
// api imports, so node's test runner checks it (tests/js/jobs.test.mjs).

export const ROUTE = "/kling_video/jobs";

export function collectRoute(hash) {
  return `${ROUTE}/${encodeURIComponent(hash)}/collect`;
}

// Journal states with a paid result that was never saved; the server's rule is COLLECTABLE in nodes/jobs/states.py, and its
// collect route refuses anything else, so a stale table can at worst show a button that answers 409.
export const COLLECTABLE_STATES = ["submitted", "completed", "cancelled"];

export function isCollectable(job) {
  // A job this ComfyUI is running right now is collected by the node that runs it.
  return COLLECTABLE_STATES.includes(job.state) && Boolean(job.request_id) && !job.running;
}

export function stateText(job) {
  if (job.running) return "running";
  switch (job.state) {
    case "submitted":
      return "paid, not collected"; // it may still be running at the provider; Collect follows it
    case "completed":
      return "finished, not collected";
    case "downloaded":
      return job.file_exists === false ? "saved (file gone)" : "saved";
    case "pending":
      return "submit cut off"; // no request id came back: check the provider's dashboard
    default:
      return job.state; // failed, cancelled
  }
}

export function ageText(seconds) {
  if (typeof seconds !== "number" || !Number.isFinite(seconds)) return "—";
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min`;
  if (s < 86400) {
    const h = Math.floor(s / 3600);
    const m = Math.floor((s % 3600) / 60);
    return m ? `${h} h ${m} min` : `${h} h`;
  }
  return `${Math.floor(s / 86400)} d`;
}

export function usd(amount) {
  return `$${amount.toFixed(2)}`;
}

export function costText(job) {
  return typeof job.cost_usd === "number" ? usd(job.cost_usd) : "price unknown";
}

export function spendText(spent, cap) {
  const today = `Today (UTC): ${usd(typeof spent === "number" ? spent : 0)}`;
  if (typeof cap !== "number") return `${today}; no daily cap (set KLING_VIDEO_MAX_USD for one)`;
  return `${today} of the ${usd(cap)} cap (KLING_VIDEO_MAX_USD)`;
}

// Request ids are long (uuids, or "task:model/name" on AI/ML API); the table shows a prefix, the tooltip all.
export function shortId(id, keep = 10) {
  if (!id) return "—";
  return id.length > keep + 1 ? `${id.slice(0, keep)}…` : id;
}

export function rowTitle(job) {
  const lines = [
    job.node ?? job.variant,
    job.model && `endpoint: ${job.model}`,
    job.request_id && `request id: ${job.request_id}`,
    job.cost && `estimate: ${job.cost}`,
    job.path && `file: ${job.path}`,
    job.error && `error: ${job.error}`,
    `journal entry: ${job.hash}`,
  ];
  return lines.filter(Boolean).join("\n");
}
