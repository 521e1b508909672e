// Private shows on the room page: request (private / exclusive), spy, join a
// group show, end; the performer's live requests with accept / decline.
// Talks to the JSON API (marquee/privates/api.py); hears chat's
// "marquee:room-event" (private_requested, private_started, private_ended,
// charge) and the player's "marquee:room-state".  Text only via textContent.
import { csrfToken } from "./csrf.js";


const panel = document.querySelector("[data-private-panel]");

async function api(url, body) {
  const response = await fetch(url, {
    method: "POST",
    credentials: "same-origin",
    headers: { "Content-Type": "application/json", Accept: "application/json", "X-CSRFToken": csrfToken() },
    body: JSON.stringify(body || {}),
  });
  let data = {};
  try { data = await response.json(); } catch { data = {}; }
  return { ok: response.ok, status: response.status, data };
}

if (panel) {
  const own = panel.dataset.ownRoom === "1";
  const $ = (selector) => panel.querySelector(selector);
  const status = $("[data-private-status]");
  const charge = $("[data-private-charge]");
  const error = $("[data-private-error]");
  const form = $("[data-private-request-form]");
  const spy = $("[data-private-spy]");
  const end = $("[data-private-end]");
  const requests = $("[data-private-requests]");
  const none = $("[data-private-none]");
  let session = panel.dataset.session ? Number(panel.dataset.session) : null;

  const say = (text) => { status.textContent = text; };
  const fail = (result) => {
    error.textContent = (result.data.error && result.data.error.message) || "Something went wrong.";
    error.hidden = false;
  };
  const clearError = () => { error.hidden = true; error.textContent = ""; };

  function mineOpen(id, label, text) {
    session = id;
    if (form) form.hidden = true;
    if (spy) spy.hidden = true;
    end.dataset.privateEnd = String(id);
    end.textContent = label;
    end.hidden = false;
    say(text);
  }

  function mineClosed(text) {
    session = null;
    if (form) form.hidden = false;
    end.hidden = true;
    charge.hidden = true;
    say(text);
  }

  async function request(kind) {
    clearError();
    const result = await api(panel.dataset.requestUrl, { kind });
    if (!result.ok) return fail(result);
    if (result.data.status === "active") mineOpen(result.data.id, "Stop spying", "You are watching the private show.");
    else mineOpen(result.data.id, "Withdraw the request", `Request sent: ${result.data.hold_tokens} tokens held while the performer answers.`);
  }

  if (form) {
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      const kind = form.querySelector("input[name=kind]:checked");
      request(kind ? kind.value : "private");
    });
  }
  if (spy) spy.addEventListener("click", () => request("spy"));

  for (const join of panel.querySelectorAll("[data-group-join]")) {
    join.addEventListener("click", async () => {
      clearError();
      const result = await api(`/api/v1/group-shows/${join.dataset.groupJoin}/join/`);
      if (!result.ok) return fail(result);
      join.hidden = true;
      mineOpen(result.data.id, "Leave the group show", `Joined: ${result.data.hold_tokens} tokens held until the goal is met.`);
    });
  }

  end.addEventListener("click", async () => {
    clearError();
    const id = end.dataset.privateEnd;
    if (!id) return;
    const result = await api(`/api/v1/private/${id}/end/`);
    if (!result.ok) return fail(result);
    const body = result.data;
    if (own) { end.hidden = true; say(`Private show ended: ${body.periods_billed} min, ${body.tokens_charged} tokens.`); return; }
    mineClosed(`Show ended: ${body.periods_billed} min, ${body.tokens_charged} tokens charged; the rest of the hold is back in your wallet.`);
    const receipt = document.createElement("a");
    receipt.href = `/private/${body.id}/receipt/`;
    receipt.textContent = "Receipt";
    status.append(" ", receipt);
  });

  function addRequest(event) {
    if (!requests || requests.querySelector(`[data-private-request="${event.private_id}"]`)) return;
    const item = document.createElement("li");
    item.dataset.privateRequest = String(event.private_id);
    const who = document.createElement("span");
    const name = document.createElement("strong");
    name.textContent = event.viewer;
    const since = new Date(event.member_since);
    who.append(name, ` · ${event.kind} · member since ${since.toLocaleDateString(undefined, { month: "short", year: "numeric" })}`);
    const accept = document.createElement("button");
    accept.type = "button"; accept.className = "btn btn-primary btn-small"; accept.dataset.privateAnswer = "accept"; accept.textContent = "Accept";
    const decline = document.createElement("button");
    decline.type = "button"; decline.className = "btn btn-small"; decline.dataset.privateAnswer = "decline"; decline.textContent = "Decline";
    item.append(who, " ", accept, " ", decline);
    requests.append(item);
    none.hidden = true;
  }

  function dropRequest(id) {
    const item = requests && requests.querySelector(`[data-private-request="${id}"]`);
    if (item) item.remove();
    if (none && requests) none.hidden = requests.children.length > 0;
  }

  if (requests) {
    requests.addEventListener("click", async (event) => {
      const button = event.target.closest("[data-private-answer]");
      if (!button) return;
      clearError();
      const id = button.closest("[data-private-request]").dataset.privateRequest;
      const result = await api(`/api/v1/dashboard/private/${id}/${button.dataset.privateAnswer}/`);
      dropRequest(id);
      if (!result.ok) return fail(result);
      if (result.data.status === "active") {
        end.dataset.privateEnd = String(result.data.id);
        end.hidden = false;
        say("You are in a private show.");
      }
    });
  }

  document.addEventListener("marquee:room-event", (event) => {
    const e = event.detail || {};
    if (e.type === "private_requested" && own) addRequest(e);
    else if (e.type === "private_started") {
      if (own) { end.dataset.privateEnd = String(e.private_id); end.hidden = false; say("You are in a private show."); }
      else if (session === e.private_id) mineOpen(e.private_id, "End the show", "You are in a private show.");
      else if (!session) say("In a private show.");
    } else if (e.type === "private_ended") {
      if (own) { dropRequest(e.private_id); if (end.dataset.privateEnd === String(e.private_id)) { end.hidden = true; say(""); } }
      else if (session === e.private_id) mineClosed(e.reason === "declined" ? "The performer declined." : "The show is over.");
      else if (session && e.reason === "parent_ended") mineClosed("The private show is over.");
      else if (!session) { say(""); if (spy) spy.hidden = true; }
    } else if (e.type === "charge") {
      charge.textContent = e.warning
        ? `Your tokens cover only this minute: the show ends after minute ${e.period} unless you buy more.`
        : `Minute ${e.period}: ${e.tokens} tokens · ${e.available_tokens} tokens left`;
      charge.hidden = false;
      charge.classList.toggle("private-warning", Boolean(e.warning));
    }
  });

  // Without a chat socket on the page (the dashboard), requests are polled.
  if (own && requests && !document.querySelector("[data-chat]")) {
    const poll = async () => {
      try {
        const response = await fetch("/api/v1/dashboard/private/", { credentials: "same-origin", headers: { Accept: "application/json" } });
        if (!response.ok) return;
        const pending = await response.json();
        const ids = new Set(pending.map((r) => String(r.id)));
        for (const item of [...requests.children]) if (!ids.has(item.dataset.privateRequest)) dropRequest(item.dataset.privateRequest);
        for (const r of pending) addRequest({ private_id: r.id, viewer: r.viewer, kind: r.kind, member_since: r.member_since });
      } catch {
        /* offline: next poll */
      }
    };
    setInterval(poll, 5000);
  }

  // The player's room state (the entitlement module's answer): spy button and status.
  document.addEventListener("marquee:room-state", (event) => {
    const state = event.detail || {};
    const running = state.private;
    if (spy && !own) spy.hidden = !(running && running.spies_allowed && !running.watching && !session);
    if (running && !running.watching && !session && !own) say("In a private show.");
  });
}
