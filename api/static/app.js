// Upload or draw a line, send it to /v1/predict as a data URL with the chosen line model, and show the text and
// confidence; in page mode, show the uploaded page with a numbered box around each line found, and the lines'
// texts beside it.
const canvas = document.getElementById("canvas");
const ctx = canvas.getContext("2d");
const show = (id, text) => { document.getElementById(id).textContent = text; };

function clearCanvas() {
  ctx.fillStyle = "#fff";
  ctx.fillRect(0, 0, canvas.width, canvas.height);
}

function point(event) {
  const box = canvas.getBoundingClientRect();
  return [(event.clientX - box.left) * canvas.width / box.width, (event.clientY - box.top) * canvas.height / box.height];
}

let drawing = false;
canvas.addEventListener("pointerdown", (event) => {
  drawing = true;
  ctx.beginPath();
  ctx.moveTo(...point(event));
  canvas.setPointerCapture(event.pointerId);
});
canvas.addEventListener("pointermove", (event) => {
  if (!drawing) return;
  ctx.lineWidth = 6;
  ctx.lineCap = "round";
  ctx.lineJoin = "round";
  ctx.strokeStyle = "#111";
  ctx.lineTo(...point(event));
  ctx.stroke();
});
canvas.addEventListener("pointerup", () => { drawing = false; });

function loadImage(dataUrl) {
  return new Promise((resolve, reject) => {
    const image = new Image();
    image.onload = () => resolve(image);
    image.onerror = () => reject(new Error("The browser cannot show this image"));
    image.src = dataUrl;
  });
}

async function showPage(dataUrl, lines) {
  const image = await loadImage(dataUrl);
  const view = document.getElementById("page-image");
  view.width = image.naturalWidth;
  view.height = image.naturalHeight;
  const pen = view.getContext("2d");
  pen.drawImage(image, 0, 0);
  pen.strokeStyle = "#e00000";
  pen.fillStyle = "#e00000";
  pen.lineWidth = Math.max(2, image.naturalWidth / 300);
  pen.font = `${Math.max(12, image.naturalWidth / 40)}px system-ui, sans-serif`;
  const list = document.getElementById("lines");
  list.replaceChildren();
  lines.forEach((line, index) => {
    const [x0, y0, x1, y1] = line.box;
    pen.strokeRect(x0, y0, x1 - x0, y1 - y0);
    pen.fillText(String(index + 1), x0, Math.max(y0 - 2, 12));
    const item = document.createElement("li");
    item.textContent = line.text;
    list.append(item);
  });
  document.getElementById("page").classList.add("shown");
}

async function predict(dataUrl, mode = "line") {
  show("error", "");
  show("result", "Reading…");
  show("confidence", "");
  document.getElementById("page").classList.remove("shown");
  try {
    const model = document.getElementById("model").value;
    const response = await fetch(`../v1/predict?mode=${mode}&model=${model}`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ image: dataUrl }),
    });
    const answer = await response.json();
    if (!response.ok) throw new Error(answer.error || `HTTP ${response.status}`);
    if (mode === "page") await showPage(dataUrl, answer.lines);
    show("result", mode === "page" ? `${answer.lines.length} lines` : answer.pred);
    show("confidence", `confidence ${answer.conf.toFixed(3)}`);
  } catch (error) {
    show("result", "");
    show("error", error.message);
  }
}

const chosenMode = () => document.querySelector("input[name=mode]:checked").value;
document.getElementById("file").addEventListener("change", (event) => {
  const file = event.target.files[0];
  if (!file) return;
  const reader = new FileReader();
  reader.onload = () => predict(reader.result, chosenMode());
  reader.readAsDataURL(file);
});
document.getElementById("read").addEventListener("click", () => predict(canvas.toDataURL("image/png")));
document.getElementById("clear").addEventListener("click", clearCanvas);
clearCanvas();
