"""The platform side of the LTI platform storage (1EdTech "LTI Client Side
postMessages"), as the peer's course pages serve it to a real browser.

A course page whose launch has ``storage_target`` answers the tool's
``lti.capabilities``, ``lti.put_data`` and ``lti.get_data`` messages from a JS object:
the page itself for ``_parent``, else a hidden same-origin frame of that name (as
Canvas's ``post_message_forwarding``). Only messages from the tool's origin are
answered, and only to it.

For the tests of the tool's origin checks, a page may hold a hostile frame on another
origin (``http://localhost:<peer port>``): the page tips it off about every message
(its message_id included), the frame posts a forged reply to the tool at once, and the
page answers FORGED_REPLY_DELAY_MS later. The page counts the forged replies in
``window.__peerForged``; ``window.__peerStorage`` holds what the tool stored.
"""

from __future__ import annotations

import html
import json
from urllib.parse import urlencode

FORGER_FRAME = "peer-forger"
FORGED_REPLY_DELAY_MS = 300

PLATFORM_STORAGE_JS = """(function () {
  "use strict";
  var me = document.currentScript.dataset;
  var tool = me.toolOrigin, forger = me.forgerOrigin || "";
  var store = window.__peerStorage = {};
  window.__peerForged = [];
  var SUBJECTS = ["lti.capabilities", "lti.put_data", "lti.get_data"];
  window.addEventListener("message", function (event) {
    var msg = event.data;
    if (forger && event.origin === forger && msg && msg.peer_forged) {
      window.__peerForged.push(msg.peer_forged);
      return;
    }
    if (event.origin !== tool) { return; }  // only the tool may use its storage
    if (!msg || typeof msg !== "object" || SUBJECTS.indexOf(msg.subject) < 0) { return; }
    var reply = {subject: msg.subject + ".response", message_id: msg.message_id};
    if (msg.subject === "lti.capabilities") {
      reply.supported_messages = SUBJECTS.map(function (s) {
        return me.frame ? {subject: s, frame: me.frame} : {subject: s};
      });
    } else if (typeof msg.key !== "string" || !msg.key) {
      reply.error = {code: "bad_request", message: "key must be a non-empty string"};
    } else if (msg.subject === "lti.put_data") {
      if (msg.value === null) { delete store[msg.key]; } else { store[msg.key] = String(msg.value); }
      reply.key = msg.key;
      reply.value = msg.value;
    } else {
      reply.key = msg.key;
      reply.value = Object.prototype.hasOwnProperty.call(store, msg.key) ? store[msg.key] : null;
    }
    var source = event.source;
    if (forger) {
      window.frames["__FORGER_FRAME__"].postMessage({peer_relay: msg}, forger);
      setTimeout(function () { source.postMessage(reply, tool); }, __DELAY__);
    } else {
      source.postMessage(reply, tool);
    }
  });
})();
""".replace("__FORGER_FRAME__", FORGER_FRAME).replace("__DELAY__", str(FORGED_REPLY_DELAY_MS))


def _script(tool_origin: str, forger_origin: str = "", frame: str = "") -> str:
    return (
        f'<script src="/lms/platform_storage.js" data-tool-origin="{html.escape(tool_origin)}"'
        f' data-forger-origin="{html.escape(forger_origin)}"'
        f' data-frame="{html.escape(frame)}"></script>\n'
    )


def storage_frame_page(tool_origin: str, frame: str) -> str:
    """The named frame that holds the storage when it is not the page itself."""
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>storage</title>\n'
        + _script(tool_origin, frame=frame)
        + "</head><body></body></html>\n"
    )


def forger_page(peer_origin: str) -> str:
    """A hostile frame on another origin that learns each message and forges a reply:
    the right message_id and subject, a value of its own."""
    js = (
        "var PEER = " + json.dumps(peer_origin) + ";\n"
        "window.addEventListener('message', function (event) {\n"
        "  var msg = event.origin === PEER && event.data && event.data.peer_relay;\n"
        "  if (!msg) { return; }\n"
        "  var forged = {subject: msg.subject + '.response', message_id: msg.message_id};\n"
        "  if (msg.subject === 'lti.capabilities') {\n"
        "    forged.supported_messages = [{subject: 'lti.get_data', frame: "
        + json.dumps(FORGER_FRAME)
        + "}];\n"
        "  } else { forged.key = msg.key; forged.value = 'forged-' + msg.key; }\n"
        "  window.parent.frames['lti-tool'].postMessage(forged, '*');\n"
        "  window.parent.postMessage({peer_forged: msg.subject}, PEER);\n"
        "});\n"
    )
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>ad</title></head>'
        f"<body><script>{js}</script></body></html>\n"
    )


def page_parts(
    *, storage_target: str | None, tool_origin: str, peer_origin: str, forger_origin: str | None
) -> tuple[str, str, int]:
    """(what goes in <head>, the frames before the tool's, how many of those frames
    must load before the tool's frame starts its launch)."""
    if not storage_target:
        if forger_origin:
            raise ValueError("forged replies need a storage_target")
        return "", "", 0
    head, frames, waits = "", "", 0
    if storage_target == "_parent":
        head = _script(tool_origin, forger_origin or "")
    else:
        if forger_origin:
            raise ValueError("forged replies are sent with storage_target='_parent' only")
        query = urlencode({"tool_origin": tool_origin, "frame": storage_target})
        frames += (
            f'<iframe name="{html.escape(storage_target)}" title="storage" hidden '
            f'src="/lms/storage-frame?{html.escape(query)}" onload="peerFrameLoaded()"></iframe>\n'
        )
        waits += 1
    if forger_origin:
        query = urlencode({"peer": peer_origin})
        frames += (
            f'<iframe name="{FORGER_FRAME}" title="ad" hidden '
            f'src="{html.escape(forger_origin)}/lms/forger?{html.escape(query)}" '
            'onload="peerFrameLoaded()"></iframe>\n'
        )
        waits += 1
    return head, frames, waits
