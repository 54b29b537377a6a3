// Click-to-load YouTube: a materi page shows a link to the video, and only a click on it
// brings in the player (0.5 to 1 MB from YouTube), so a phone pays for the player only
// when the video is watched. Without JavaScript the link opens the video on YouTube.
(function () {
  "use strict";
  document.addEventListener("click", function (e) {
    var link = e.target.closest ? e.target.closest("a.video-play[data-embed]") : null;
    if (!link || e.button !== 0 || e.ctrlKey || e.metaKey || e.shiftKey || e.altKey) return;
    e.preventDefault();
    var player = document.createElement("iframe");
    player.src = link.dataset.embed + "?autoplay=1";
    player.title = link.dataset.title || "";
    player.allow = "autoplay; encrypted-media; picture-in-picture";
    player.allowFullscreen = true;
    link.parentNode.replaceChild(player, link);
    player.focus();
  });
})();
