// Staff only: click the preview to set the focal point. Without JavaScript the two
// number fields below it do the same.
"use strict";
document.addEventListener("DOMContentLoaded", () => {
  const picker = document.querySelector(".focal-picker");
  const fieldX = document.getElementById("id_focal_x");
  const fieldY = document.getElementById("id_focal_y");
  if (!picker || !fieldX || !fieldY) return;
  const marker = picker.querySelector(".focal-marker");
  const image = picker.querySelector("img");
  const show = () => {
    marker.hidden = false;
    marker.style.left = `${parseFloat(fieldX.value || "0.5") * 100}%`;
    marker.style.top = `${parseFloat(fieldY.value || "0.5") * 100}%`;
  };
  image.addEventListener("click", (event) => {
    const box = image.getBoundingClientRect();
    const clamp = (value) => Math.min(1, Math.max(0, value));
    fieldX.value = clamp((event.clientX - box.left) / box.width).toFixed(3);
    fieldY.value = clamp((event.clientY - box.top) / box.height).toFixed(3);
    show();
  });
  fieldX.addEventListener("input", show);
  fieldY.addEventListener("input", show);
  picker.classList.add("focal-picker--active");
  show();
});
