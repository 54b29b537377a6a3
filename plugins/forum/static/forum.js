// Forum Sesi: small conveniences; every page also works without script.
(function () {
  "use strict";
  // A file over the forum's limit is refused here, before minutes of uploading.
  document.querySelectorAll("input[type=file][data-max-bytes]").forEach(function (input) {
    input.addEventListener("change", function () {
      var max = parseInt(input.getAttribute("data-max-bytes"), 10);
      var file = input.files && input.files[0];
      if (file && file.size > max) {
        input.setCustomValidity(input.getAttribute("data-too-large"));
        input.reportValidity();
      } else {
        input.setCustomValidity("");
      }
    });
  });
  // One click sends a form once (the server also makes a resent form one post).
  document.querySelectorAll("form.forum-form").forEach(function (form) {
    form.addEventListener("submit", function () {
      form.querySelectorAll("button[type=submit]").forEach(function (b) {
        setTimeout(function () { b.disabled = true; }, 0);
      });
    });
  });
  document.querySelectorAll("form[data-confirm]").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      if (!window.confirm(form.getAttribute("data-confirm"))) event.preventDefault();
    });
  });
  document.querySelectorAll("[data-print]").forEach(function (b) {
    b.addEventListener("click", function () { window.print(); });
  });
})();
