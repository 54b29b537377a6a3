// Autosave for a quiz attempt: every change posts the whole form (one request at a
// time, the newest state last), so a dropped connection loses at most the last
// change, which is sent again as soon as the connection is back. The countdown is a
// courtesy: the server enforces the time limit.
(function () {
  "use strict";
  var form = document.querySelector("form.quiz-attempt");
  if (!form || !window.fetch || !window.FormData) return;
  var status = form.querySelector(".quiz-saved");
  var url = form.dataset.saveUrl;
  var busy = false, dirty = false, timer = null;

  function say(text) { if (status) status.textContent = text; }

  function send() {
    if (busy) { dirty = true; return; }
    busy = true; dirty = false;
    say(form.dataset.msgSaving);
    var data = new FormData(form);
    fetch(url, {method: "POST", body: data, credentials: "same-origin",
                headers: {"X-Requested-With": "fetch"}})
      .then(function (r) {
        return r.json().then(function (body) { return {ok: r.ok, body: body}; });
      })
      .then(function (res) {
        busy = false;
        if (res.ok) {
          say(form.dataset.msgSaved.replace("{time}", res.body.saved_at));
          if (dirty) send();
        } else {
          say(res.body.message || "");
          if (res.body.state === "finished") window.location.reload();
        }
      })
      .catch(function () {
        busy = false; dirty = true;
        say(form.dataset.msgOffline);
        clearTimeout(timer);
        timer = setTimeout(send, 5000);
      });
  }

  function changed() { clearTimeout(timer); timer = setTimeout(send, 400); }
  form.addEventListener("change", changed);
  form.addEventListener("input", function (e) {
    if (e.target.type === "text") changed();
  });
  window.addEventListener("online", function () { if (dirty) send(); });

  form.addEventListener("submit", function (e) {
    var submitter = e.submitter;
    if (submitter && submitter.name !== "submit") return;
    var empty = Array.prototype.some.call(form.querySelectorAll("fieldset.question"), function (fs) {
      return !Array.prototype.some.call(fs.querySelectorAll("input,select"), function (el) {
        return ((el.type === "radio" || el.type === "checkbox") ? el.checked : el.value !== "");
      });
    });
    if (empty && !window.confirm(form.dataset.msgUnanswered)) e.preventDefault();
  });

  var clock = form.querySelector(".quiz-timer");
  var left = parseInt(form.dataset.secondsLeft, 10);
  if (clock && !isNaN(left)) {
    var end = Date.now() + left * 1000;
    setInterval(function () {
      var s = Math.max(0, Math.round((end - Date.now()) / 1000));
      clock.textContent = Math.floor(s / 60) + ":" + ("0" + (s % 60)).slice(-2);
      if (s === 0 && !form.dataset.done) {
        form.dataset.done = "1";
        // time is up: submit what is on the page (the form's own submit() method, as
        // the button named "submit" shadows form.submit; no confirm on the way)
        HTMLFormElement.prototype.submit.call(form);
      }
    }, 1000);
  }
})();
