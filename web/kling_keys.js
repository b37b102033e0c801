// The "API keys" dialog: Settings → Kling Video → API keys, or the command "Kling Video: API keys".
// A key goes from its password field straight to POST /kling_video/keys and the field is cleared; it is
// never a ComfyUI setting (GET /settings serves those to any client) nor a widget value (saved in workflows
// and PNG metadata), and the server never sends it back.
import { app } from "../../scripts/app.js";
import { api } from "../../scripts/api.js";
import { ROUTE, forgetRequest, keyProblem, rows, storeRequest } from "./kling_keys_logic.js";

const COMMAND = "KlingVideo.ApiKeys";

function el(tag, props = {}, ...children) {
  const node = Object.assign(document.createElement(tag), props);
  for (const child of children) node.append(child);
  return node;
}

function toast(severity, summary, detail) {
  app.extensionManager?.toast?.add({ severity, summary, detail, life: severity === "error" ? 8000 : 3000 });
}

async function call(path, init) {
  const r = await api.fetchApi(path, init);
  const data = await r.json().catch(() => ({}));
  if (!r.ok) throw new Error(data.error ?? `HTTP ${r.status}`);
  return data;
}

function render(dialog, status) {
  const body = dialog.querySelector(".kling-keys-body");
  body.replaceChildren();
  for (const provider of rows(status)) {
    const section = el("fieldset", { style: "border:1px solid var(--border-color,#555);margin:0 0 10px;padding:6px 10px" },
      el("legend", { textContent: `${provider.title}: ${provider.status}` }));
    for (const field of provider.fields) {
      const input = el("input", {
        type: "password", autocomplete: "new-password", spellcheck: false, placeholder: field.placeholder,
        style: "flex:1;min-width:16em",
      });
      input.setAttribute("aria-label", field.label);
      const save = el("button", { type: "button", textContent: "Save" });
      const forget = el("button", { type: "button", textContent: "Forget", disabled: !field.canForget });
      save.addEventListener("click", async () => {
        const problem = keyProblem(input.value);
        if (problem) return toast("warn", field.label, problem);
        const { path, init } = storeRequest(field.var, input.value);
        input.value = "";  // the page keeps no copy
        try {
          render(dialog, await call(path, init));
          toast("success", field.label, "stored on the ComfyUI server");
        } catch (e) {
          toast("error", field.label, `not stored: ${e.message}`);
        }
      });
      forget.addEventListener("click", async () => {
        if (!confirm(`Forget the stored ${field.label}?`)) return;
        const { path, init } = forgetRequest(field.var);
        try {
          render(dialog, await call(path, init));
          toast("info", field.label, "forgotten");
        } catch (e) {
          toast("error", field.label, `not forgotten: ${e.message}`);
        }
      });
      section.append(
        el("div", { style: "display:flex;gap:6px;align-items:center;margin:4px 0" },
          el("label", { textContent: field.label, style: "width:12em" }), input, save, forget),
        el("div", { className: "kling-keys-status", textContent: field.status, style: "opacity:.75;margin:0 0 6px calc(12em + 6px)" }));
    }
    body.append(section);
  }
  dialog.querySelector(".kling-keys-file").textContent = status.file ?? "";
}

async function openDialog() {
  const dialog = el("dialog", {
    className: "kling-keys-dialog",
    style: "max-width:760px;width:90vw;background:var(--comfy-menu-bg,#222);color:var(--fg-color,#ddd);" +
      "border:1px solid var(--border-color,#555);border-radius:8px;padding:14px",
  },
    el("h3", { textContent: "Kling Video: API keys", style: "margin-top:0" }),
    el("p", { textContent: "Keys are kept on the ComfyUI server, readable only by its user, never in a workflow, " +
      "a setting or a log. An environment variable set before ComfyUI started always wins." }),
    el("div", { className: "kling-keys-body" }),
    el("p", { style: "opacity:.6;font-size:smaller" }, "Stored in ", el("code", { className: "kling-keys-file" })),
    el("div", { style: "text-align:right" }, el("button", { type: "button", textContent: "Close", className: "kling-keys-close" })));
  dialog.querySelector(".kling-keys-close").addEventListener("click", () => dialog.close());
  // Removed on close, so no typed key outlives the dialog in the page.
  dialog.addEventListener("close", () => dialog.remove());
  document.body.append(dialog);
  dialog.showModal();
  try {
    render(dialog, await call(ROUTE, { method: "GET" }));
  } catch (e) {
    dialog.querySelector(".kling-keys-body").textContent = `Could not read the key status: ${e.message}`;
  }
  return dialog;
}

app.registerExtension({
  name: "comfyui-kling-video.keys",
  commands: [{ id: COMMAND, label: "Kling Video: API keys", icon: "pi pi-key", function: openDialog }],
  menuCommands: [{ path: ["Extensions", "Kling Video"], commands: [COMMAND] }],
  settings: [{
    id: "KlingVideo.ApiKeys.Open",
    category: ["Kling Video", "API keys", "Open"],
    name: "Provider API keys (kept on the server, not in settings)",
    tooltip: "fal.ai, Kling, AI/ML API and Vercel AI Gateway keys",
    // A function type renders this element instead of an input; its setter is never called, so nothing is
    // ever written to comfy.settings.json.
    type: () => el("button", { type: "button", textContent: "Manage keys…", onclick: () => openDialog() }),
    defaultValue: "",
  }],
});
