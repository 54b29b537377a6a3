/* Refleksi: a tiny formatting toolbar and a word counter for each answer, and the
   print button of the record. No dependencies; without it the form works the same. */
(function () {
  "use strict";

  function words(text) {
    var n = 0;
    text.split(/\s+/).forEach(function (t) { if (/[\p{L}\p{N}]/u.test(t)) { n += 1; } });
    return n;
  }

  function wrap(area, before, after, placeholder) {
    var s = area.selectionStart, e = area.selectionEnd, v = area.value;
    var inner = v.slice(s, e) || placeholder;
    area.value = v.slice(0, s) + before + inner + after + v.slice(e);
    area.focus();
    area.setSelectionRange(s + before.length, s + before.length + inner.length);
  }

  function listify(area) {
    var s = area.selectionStart, e = area.selectionEnd, v = area.value;
    var start = v.lastIndexOf("\n", s - 1) + 1;
    var block = v.slice(start, e) || "";
    var lines = block.split("\n").map(function (l) { return /^\s*[-*] /.test(l) ? l : "- " + l; });
    var out = lines.join("\n");
    area.value = v.slice(0, start) + out + v.slice(e);
    area.focus();
    area.setSelectionRange(start + out.length, start + out.length);
  }

  function act(button) {
    var bar = button.closest(".toolbar");
    var area = document.getElementById(bar.getAttribute("aria-controls"));
    if (!area || area.readOnly) { return; }
    var tool = button.getAttribute("data-tool");
    var sample = bar.getAttribute("data-text") || "...";
    if (tool === "bold") { wrap(area, "**", "**", sample); }
    else if (tool === "italic") { wrap(area, "*", "*", sample); }
    else if (tool === "list") { listify(area); }
    else if (tool === "link") {
      var url = window.prompt(button.getAttribute("data-prompt") || "https://", "https://");
      if (!url || !/^(https?:\/\/|mailto:)/i.test(url.trim())) { return; }
      wrap(area, "[", "](" + url.trim() + ")", sample);
    }
    area.dispatchEvent(new Event("input"));
  }

  document.querySelectorAll(".refleksi .toolbar").forEach(function (bar) {
    bar.hidden = false;
    bar.addEventListener("click", function (ev) {
      var b = ev.target.closest("button[data-tool]");
      if (b) { act(b); }
    });
  });

  document.querySelectorAll(".refleksi .counter").forEach(function (counter) {
    var area = document.getElementById(counter.getAttribute("data-for"));
    if (!area) { return; }
    var label = " " + (counter.getAttribute("data-words") || "");
    function update() { counter.textContent = words(area.value) + label; }
    counter.hidden = false;
    area.addEventListener("input", update);
    update();
  });

  document.querySelectorAll("[data-print]").forEach(function (b) {
    b.addEventListener("click", function () { window.print(); });
  });
}());
