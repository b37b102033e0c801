// The API keys dialog's pure logic (web/kling_keys_logic.js), with node's own test runner:
//   node --test tests/js/
import { test } from "node:test";
import assert from "node:assert/strict";

import { forgetRequest, keyProblem, providerStatusText, rows, storeRequest, varStatusText } from "../../web/kling_keys_logic.js";

// The shape GET /kling_video/keys answers (nodes/core/keys.py status()).
const STATUS = {
  file: "/home/u/ComfyUI/user/kling-video/keys.json",
  providers: [
    { name: "fal", title: "fal.ai", source: "stored",
      vars: [{ var: "FAL_KEY", label: "key", source: "stored", hint: "…1a2b", shadowed: false }] },
    { name: "kling", title: "Kling", source: "missing",
      vars: [{ var: "KLINGAI_ACCESS_KEY", label: "access key", source: "environment", hint: "", shadowed: false },
             { var: "KLINGAI_SECRET_KEY", label: "secret key", source: "missing", hint: "", shadowed: false }] },
    { name: "aimlapi", title: "AI/ML API", source: "environment",
      vars: [{ var: "AIMLAPI_KEY", label: "key", source: "environment", hint: "", shadowed: true }] },
    { name: "vercel", title: "Vercel AI Gateway", source: "missing",
      vars: [{ var: "AI_GATEWAY_API_KEY", label: "key", source: "missing", hint: "", shadowed: false }] },
  ],
};

test("each credential's status says where the key comes from, at most its last four characters", () => {
  const [fal, kling, aiml, vercel] = STATUS.providers;
  assert.equal(varStatusText(fal.vars[0]), "stored, ends in …1a2b");
  assert.equal(varStatusText({ ...fal.vars[0], hint: "" }), "stored");
  assert.equal(varStatusText(kling.vars[0]), "from environment");
  assert.equal(varStatusText(aiml.vars[0]), "from environment (the stored key is not used while the variable is set)");
  assert.equal(varStatusText(vercel.vars[0]), "missing");
});

test("a provider's status names the half of a pair that is missing", () => {
  const [fal, kling, aiml, vercel] = STATUS.providers;
  assert.deepEqual([fal, kling, aiml, vercel].map(providerStatusText),
    ["stored", "missing secret key", "from environment", "missing"]);
});

test("the dialog gets one section per provider and one field per variable, from the server's answer", () => {
  const model = rows(STATUS);
  assert.deepEqual(model.map((p) => [p.title, p.fields.map((f) => f.var)]), [
    ["fal.ai", ["FAL_KEY"]],
    ["Kling", ["KLINGAI_ACCESS_KEY", "KLINGAI_SECRET_KEY"]],
    ["AI/ML API", ["AIMLAPI_KEY"]],
    ["Vercel AI Gateway", ["AI_GATEWAY_API_KEY"]],
  ]);
  const fields = Object.fromEntries(model.flatMap((p) => p.fields).map((f) => [f.var, f]));
  assert.equal(fields.KLINGAI_SECRET_KEY.label, "Kling secret key");
  assert.equal(fields.KLINGAI_ACCESS_KEY.placeholder, "KLINGAI_ACCESS_KEY is set in the environment");
  // Forget is offered only where something is stored (also when the environment shadows it).
  assert.deepEqual(Object.entries(fields).filter(([, f]) => f.canForget).map(([v]) => v), ["FAL_KEY", "AIMLAPI_KEY"]);
  assert.deepEqual(rows(undefined), []);
});

test("a key the server would refuse is caught before it is sent", () => {
  assert.equal(keyProblem("  "), "the key is empty");
  assert.equal(keyProblem(undefined), "the key is empty");
  assert.equal(keyProblem("two words"), "the key contains spaces or control characters");
  assert.equal(keyProblem("abc\ndef"), "the key contains spaces or control characters");
  assert.equal(keyProblem("x".repeat(4097)), "the key is longer than 4096 characters");
  assert.equal(keyProblem("  fal-key-123:abc  "), "");
});

test("the requests: a trimmed value posted as JSON, forget by DELETE on the variable", () => {
  const { path, init } = storeRequest("FAL_KEY", " k-123 ");
  assert.equal(path, "/kling_video/keys");
  assert.equal(init.method, "POST");
  assert.equal(init.headers["Content-Type"], "application/json");
  assert.deepEqual(JSON.parse(init.body), { var: "FAL_KEY", value: "k-123" });
  assert.deepEqual(forgetRequest("AI_GATEWAY_API_KEY"), { path: "/kling_video/keys/AI_GATEWAY_API_KEY", init: { method: "DELETE" } });
});
