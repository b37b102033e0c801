// What the "API keys" dialog shows, from the server's answer to GET /kling_video/keys. No DOM, no app or
// api imports, so node's test runner checks it (tests/js/keys.test.mjs). Which variables belong to which
// provider comes from the server (the provider modules), never from a list here.

export const ROUTE = "/kling_video/keys";

const SOURCE_TEXT = { environment: "from environment", stored: "stored", missing: "missing" };

// One credential's status line. A key is never in the answer: at most its last four characters.
export function varStatusText(v) {
  if (v.source === "environment") {
    return v.shadowed
      ? "from environment (the stored key is not used while the variable is set)"
      : "from environment";
  }
  if (v.source === "stored") return v.hint ? `stored, ends in ${v.hint}` : "stored";
  return SOURCE_TEXT.missing;
}

export function providerStatusText(p) {
  const text = SOURCE_TEXT[p.source] ?? SOURCE_TEXT.missing;
  const missing = p.vars.filter((v) => v.source === "missing");
  if (p.source === "missing" && missing.length && missing.length < p.vars.length) {
    return `missing ${missing.map((v) => v.label).join(" and ")}`;
  }
  return text;
}

// The dialog's model: one section per provider, one field per variable.
export function rows(status) {
  return (status?.providers ?? []).map((p) => ({
    name: p.name,
    title: p.title,
    status: providerStatusText(p),
    fields: p.vars.map((v) => ({
      var: v.var,
      label: `${p.title} ${v.label}`,
      status: varStatusText(v),
      placeholder: v.source === "environment" ? `${v.var} is set in the environment` : `paste the ${v.label}`,
      canForget: v.source === "stored" || Boolean(v.shadowed),
    })),
  }));
}

// The server refuses the same things; checking here spares a round trip and keeps the value off the wire.
export function keyProblem(value) {
  const key = String(value ?? "").trim();
  if (!key) return "the key is empty";
  if (key.length > 4096) return "the key is longer than 4096 characters";
  if (/[\s\x00-\x1f\x7f]/.test(key)) return "the key contains spaces or control characters";
  return "";
}

export function storeRequest(variable, value) {
  return {
    path: ROUTE,
    init: {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ var: variable, value: String(value).trim() }),
    },
  };
}

export function forgetRequest(variable) {
  return { path: `${ROUTE}/${encodeURIComponent(variable)}`, init: { method: "DELETE" } };
}
