// Upload or draw a line, send it to /v1/predict as a data URL, and show the text and confidence.
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

async function predict(dataUrl) {
  show("error", "");
  show("result", "Reading…");
  show("confidence", "");
  try {
    const response = await fetch("../v1/predict", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ image: dataUrl }),
    });
    const answer = await response.json();
    if (!response.ok) throw new Error(answer.error || `HTTP ${response.status}`);
    show("result", answer.pred);
    show("confidence", `confidence ${answer.conf.toFixed(3)}`);
  } catch (error) {
    show("result", "");
    show("error", error.message);
  }
}

document.getElementById("file").addEventListener("change", (event) => {
  const file = event.target.files[0];
  if (!file) return;
  const reader = new FileReader();
  reader.onload = () => predict(reader.result);
  reader.readAsDataURL(file);
});
document.getElementById("read").addEventListener("click", () => predict(canvas.toDataURL("image/png")));
document.getElementById("clear").addEventListener("click", clearCanvas);
clearCanvas();
