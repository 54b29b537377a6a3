/* LTI platform storage (1EdTech "LTI Client Side postMessages"): when the browser
   refuses the tool's cookies inside the LMS iframe, the login is bound to the browser
   by entries kept in the platform's window (lti_tool/lti/platform_storage.py).
   Login page: store the entries with lti.put_data, then open the platform's
   authorization URL (also when the platform does not answer: the cookie may work).
   Launch page: read them back with lti.get_data and post them with the id_token; if
   that fails, offer a new window. Messages go to the platform's origin only, and a
   reply is taken only from that origin, with the message_id and subject expected. */
(function () {
  "use strict";
  var box = document.getElementById("lti-storage");
  if (!box) {
    return;
  }
  var data = box.dataset;
  var platform = data.platformOrigin;
  var WAIT_MS = 2000;

  function storageFrame() {
    // `_parent`, or a named frame of the window holding the tool (or the one that
    // opened it, for a launch in a new window).
    var home = window.parent !== window ? window.parent : window.opener;
    if (!home || !window.Promise || !window.crypto || !window.crypto.getRandomValues) {
      return null;
    }
    if (data.target === "_parent") {
      return home;
    }
    try {
      return home.frames[data.target] || null;
    } catch (e) {
      return null;
    }
  }

  function randomId() {
    var bytes = new Uint8Array(16);
    window.crypto.getRandomValues(bytes);
    return Array.prototype.map.call(bytes, function (b) {
      return ("0" + b.toString(16)).slice(-2);
    }).join("");
  }

  function ask(frame, message) {
    return new Promise(function (resolve, reject) {
      var timer;
      message.message_id = randomId();
      function finish(ok, value) {
        window.removeEventListener("message", listen);
        clearTimeout(timer);
        (ok ? resolve : reject)(value);
      }
      function listen(event) {
        if (event.origin !== platform) {
          return; // not the platform: another frame of the page, ignored
        }
        var reply = event.data;
        if (!reply || typeof reply !== "object" || reply.message_id !== message.message_id ||
            reply.subject !== message.subject + ".response") {
          return;
        }
        if (reply.error) {
          finish(false, reply.error);
        } else {
          finish(true, reply);
        }
      }
      window.addEventListener("message", listen);
      timer = setTimeout(function () {
        finish(false, {code: "timeout"});
      }, WAIT_MS);
      try {
        frame.postMessage(message, platform);
      } catch (e) {
        finish(false, e);
      }
    });
  }

  function login() {
    var frame = storageFrame();
    function go() {
      window.location.replace(data.authUrl);
    }
    if (!frame) {
      go();
      return;
    }
    Promise.all([
      ask(frame, {subject: "lti.put_data", key: data.stateKey, value: data.stateValue}),
      ask(frame, {subject: "lti.put_data", key: data.nonceKey, value: data.nonceValue})
    ]).then(go, go);
  }

  function launch() {
    var frame = storageFrame();
    var form = document.getElementById("lti-storage-form");
    function failed() {
      box.hidden = true;
      document.getElementById("lti-storage-failed").hidden = false;
    }
    if (!frame) {
      failed();
      return;
    }
    Promise.all([
      ask(frame, {subject: "lti.get_data", key: data.stateKey}),
      ask(frame, {subject: "lti.get_data", key: data.nonceKey})
    ]).then(function (replies) {
      var state = replies[0].value;
      var nonce = replies[1].value;
      if (typeof state !== "string" || !state || typeof nonce !== "string" || !nonce) {
        failed();
        return;
      }
      form.elements.lti_storage_state.value = state;
      form.elements.lti_storage_nonce.value = nonce;
      form.submit();
    }, failed);
  }

  if (data.step === "login") {
    login();
  } else if (data.step === "launch") {
    launch();
  }
})();
