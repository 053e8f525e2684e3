// tend's dashboard: the little that needs a script. Everything works without it, except the
// live transcript and "show all" in place.
"use strict";

// "show all" on a cut tool output: fetch the whole text and put it in place of the preview.
document.addEventListener("click", async (e) => {
  const link = e.target.closest("a.more");
  if (!link) return;
  e.preventDefault();
  const res = await fetch(link.href, { credentials: "same-origin" });
  if (!res.ok) return;
  const html = await res.text();
  const pre = link.parentElement.querySelector("pre.body");
  if (pre) {
    pre.outerHTML = html;
  } else {
    link.insertAdjacentHTML("beforebegin", html);
  }
  link.remove();
});

// Filters apply as soon as they change.
document.querySelectorAll("select[data-autosubmit]").forEach((select) => {
  select.addEventListener("change", () => select.form.submit());
});

// Actions that cannot be undone ask first.
document.querySelectorAll("form[data-confirm]").forEach((form) => {
  form.addEventListener("submit", (e) => {
    if (!window.confirm(form.dataset.confirm)) e.preventDefault();
  });
});

// A run that is still going: its new events stream in.
const main = document.querySelector("main[data-live]");
if (main) {
  const run = main.dataset.run;
  const after = main.dataset.live;
  const list = document.getElementById("transcript");
  const typing = document.getElementById("typing");
  const nearBottom = () =>
    window.innerHeight + window.scrollY >= document.body.scrollHeight - 80;
  const source = new EventSource(`/runs/${encodeURIComponent(run)}/live?after=${after}`);
  source.addEventListener("line", (e) => {
    const follow = nearBottom();
    typing.textContent = "";
    list.insertAdjacentHTML("beforeend", e.data);
    if (follow) window.scrollTo(0, document.body.scrollHeight);
  });
  source.addEventListener("delta", (e) => {
    typing.textContent += e.data;
  });
  source.addEventListener("done", () => {
    source.close();
    // The run ended or waits for a human: show its report, diff and state as they are now.
    window.location.reload();
  });
}
