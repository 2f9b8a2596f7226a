// Zoryx dashboard: the little the pages need besides htmx (no inline scripts: the CSP forbids them).
"use strict";

// The login page: a console link carries the one-time code in the fragment (never sent to a
// server); put it in the form, drop it from the address bar, and log in.
function loginFromFragment() {
  const form = document.getElementById("code-form");
  const match = /(?:^|&)code=([0-9a-f]{64})(?:&|$)/.exec(window.location.hash.slice(1));
  if (!form || !match) return;
  document.getElementById("code").value = match[1];
  history.replaceState(null, "", window.location.pathname);
  form.submit();
}

// The config page: "edit" fills the editor with the key and its value.
function configEditButtons() {
  document.addEventListener("click", (event) => {
    const button = event.target.closest("button.edit[data-key]");
    if (!button) return;
    event.preventDefault();
    document.getElementById("config-key").value = button.dataset.key;
    const value = document.getElementById("config-value");
    value.value = button.dataset.value;
    value.focus();
  });
}

// The log: keep the newest line in view while the reader is at the bottom.
function followLog() {
  const box = document.querySelector(".logbox");
  if (!box) return;
  box.scrollTop = box.scrollHeight;
  document.body.addEventListener("htmx:sseMessage", () => {
    if (box.scrollHeight - box.scrollTop - box.clientHeight < 80) box.scrollTop = box.scrollHeight;
  });
}

// Live parts: the page says when its feed is open (and the badge shows it).
function liveState() {
  document.body.addEventListener("htmx:sseOpen", () => { document.body.dataset.live = "open"; });
  document.body.addEventListener("htmx:sseError", () => { document.body.dataset.live = "error"; });
}

document.addEventListener("DOMContentLoaded", () => {
  liveState();
  loginFromFragment();
  configEditButtons();
  followLog();
});
