// A Kling node previews the video it made. The Vue node renderer (ComfyUI frontend 1.3x) guesses a preview's
// kind from a VIDEO *input*, which a Kling node lacks, and shows the mp4 as a broken image unless the node
// says its previews are videos (the classic canvas decides from the result itself and agrees).
import { app } from "../../scripts/app.js";

app.registerExtension({
  name: "comfyui-kling-video.preview",
  async nodeCreated(node) {
    const def = node.constructor?.nodeData;
    const type = node.comfyClass ?? node.type;
    if (typeof type === "string" && type.startsWith("KlingVideo_") && def?.output?.includes("VIDEO")) {
      node.previewMediaType = "video";
    }
  },
});
