// Room chat: one WebSocket, frames are JSON arrays of events (docs/chat-protocol.md).
// Every received event is re-dispatched as "marquee:room-event" for other modules.
// Text is only ever rendered with textContent.

const panel = document.querySelector("[data-chat]");
if (panel) startChat(panel);

function startChat(panel) {
  const log = panel.querySelector("[data-chat-log]");
  const statusEl = panel.querySelector("[data-chat-status]");
  const viewersEl = panel.querySelector("[data-chat-viewers]");
  const notice = panel.querySelector("[data-chat-notice]");
  const jump = panel.querySelector("[data-chat-jump]");
  const form = panel.querySelector("[data-chat-form]");
  const held = panel.querySelector("[data-chat-held]");
  const slow = panel.querySelector("[data-chat-slow]");
  let isModerator = panel.dataset.moderator === "1";
  const me = panel.dataset.username || "";
  const MAX_ITEMS = 300;
  let socket = null;
  let lastId = null;
  let attempt = 0;
  let stickToBottom = true;
  let refCounter = 0;

  // Auto-scroll only while the reader is at the bottom.
  log.addEventListener("scroll", () => {
    stickToBottom = log.scrollHeight - log.scrollTop - log.clientHeight < 40;
    if (stickToBottom) jump.hidden = true;
  });
  jump.addEventListener("click", () => {
    log.scrollTop = log.scrollHeight;
    jump.hidden = true;
  });

  function setStatus(text) {
    statusEl.textContent = text;
  }

  function showNotice(text, kind = "info") {
    notice.textContent = text;
    notice.dataset.kind = kind;
    notice.hidden = !text;
    clearTimeout(showNotice.timer);
    if (text) showNotice.timer = setTimeout(() => (notice.hidden = true), 6000);
  }

  function connect() {
    const scheme = location.protocol === "https:" ? "wss:" : "ws:";
    const query = lastId !== null ? `?last_id=${lastId}` : "";
    socket = new WebSocket(`${scheme}//${location.host}${panel.dataset.wsPath}${query}`);
    setStatus("Connecting…");
    socket.addEventListener("message", (msg) => {
      let events;
      try {
        events = JSON.parse(msg.data);
      } catch {
        return;
      }
      const wasAtBottom = stickToBottom;
      // A join frame is hello + history: ids there may skip (deleted or
      // non-message events are left out), so no gap check inside it.
      const hello = events[0] && events[0].type === "hello" ? events[0] : null;
      if (hello) {
        if (hello.reset || lastId === null) {
          log.replaceChildren();
          lastId = null;
        }
        for (const event of events) handle(event, true);
        lastId = Math.max(lastId ?? 0, hello.last_id, ...events.map((e) => (typeof e.id === "number" ? e.id : 0)));
      } else {
        for (const event of events) handle(event, false);
      }
      trim();
      if (wasAtBottom) log.scrollTop = log.scrollHeight;
    });
    socket.addEventListener("open", () => {
      attempt = 0;
      setStatus("");
    });
    socket.addEventListener("close", (event) => {
      socket = null;
      if (event.code === 4403 || event.code === 4404) {
        setStatus("Chat closed.");
        return; // banned or hidden: reconnecting would be refused again
      }
      if (event.code === 4401 && !me) {
        setStatus("Log in to read this chat.");
        return;
      }
      // Reconnect with exponential backoff and jitter, resuming from lastId.
      const delay = Math.min(30000, 500 * 2 ** attempt) * (0.5 + Math.random() / 2);
      attempt += 1;
      setStatus("Reconnecting…");
      setTimeout(connect, delay);
    });
  }

  function send(payload) {
    if (!socket || socket.readyState !== WebSocket.OPEN) {
      showNotice("Not connected yet.", "error");
      return false;
    }
    socket.send(JSON.stringify(payload));
    return true;
  }

  function handle(event, joining) {
    if (typeof event.id === "number") {
      if (lastId !== null && event.id <= lastId) return; // already seen
      if (!joining && lastId !== null && event.id > lastId + 1 && socket) {
        socket.close(); // ids have no gaps: one was missed, so resume from lastId
        return;
      }
      if (!joining) lastId = event.id;
    }
    // ``replayed``: history sent on (re)joining, not something happening now.
    document.dispatchEvent(new CustomEvent("marquee:room-event", { detail: { ...event, replayed: Boolean(joining) } }));
    switch (event.type) {
      case "hello":
        isModerator = Boolean(event.is_moderator);
        panel.classList.toggle("is-moderator", isModerator);
        if (event.viewers >= 0) viewersEl.textContent = `${event.viewers} watching`;
        break;
      case "rights": // e.g. demoted: the moderator tools go away without a reconnect
        isModerator = Boolean(event.is_moderator);
        panel.classList.toggle("is-moderator", isModerator);
        break;
      case "message":
        addMessage(event);
        break;
      case "tip":
        addLine("tip", `${event.from || event.user || "Someone"} tipped ${event.tokens} tokens`, event.message);
        break;
      case "goal_reached": {
        const label = event.label || (event.goal && event.goal.label) || "";
        addLine("goal", `Goal reached${label ? `: ${label}` : ""}!`);
        break;
      }
      case "show_started":
        addLine("system", `Show started${event.title ? `: ${event.title}` : ""}`);
        break;
      case "show_ended":
        addLine("system", "Show ended");
        break;
      case "moderation":
        moderation(event);
        break;
      case "presence":
        viewersEl.textContent = `${event.viewers} watching`;
        break;
      case "review":
        review(event);
        break;
      case "error":
        showNotice(event.message || "Something went wrong.", "error");
        break;
      case "notice":
        showNotice(event.message || "", "info");
        break;
      default:
        break;
    }
  }

  function line(kind, id) {
    const li = document.createElement("li");
    li.className = `chat-line chat-${kind}`;
    if (id !== undefined) li.dataset.id = String(id);
    log.append(li);
    if (!stickToBottom) jump.hidden = false;
    return li;
  }

  function addLine(kind, text, extra) {
    const li = line(kind);
    const strong = document.createElement("strong");
    strong.textContent = text;
    li.append(strong);
    if (extra) {
      const span = document.createElement("span");
      span.textContent = ` ${extra}`;
      li.append(span);
    }
  }

  function addMessage(event) {
    const li = line("message", event.id);
    li.dataset.user = event.user;
    const who = document.createElement("span");
    who.className = `chat-user role-${event.role || "viewer"}`;
    who.textContent = event.user;
    const text = document.createElement("span");
    text.className = "chat-text";
    text.textContent = event.text;
    li.append(who, text);
    if (isModerator && event.user !== me && event.role !== "performer") li.append(modActions(event));
    else if (isModerator) li.append(modActions(event, true));
  }

  function modActions(event, deleteOnly = false) {
    const box = document.createElement("span");
    box.className = "chat-mod";
    const actions = deleteOnly
      ? [["Delete", { action: "delete", message_id: event.id }]]
      : [
          ["Delete", { action: "delete", message_id: event.id }],
          ["Timeout", { action: "timeout", user: event.user, seconds: 300 }],
          ["Clear", { action: "clear", user: event.user }],
          ["Ban", { action: "ban", user: event.user }],
        ];
    for (const [label, payload] of actions) {
      const button = document.createElement("button");
      button.type = "button";
      button.className = "chat-mod-btn";
      button.textContent = label;
      button.setAttribute("aria-label", `${label} ${event.user}`);
      button.dataset.action = payload.action;
      button.addEventListener("click", () => {
        if (payload.action === "ban" && !confirm(`Ban ${event.user} from this room?`)) return;
        send({ type: "mod", ref: `m${++refCounter}`, ...payload });
      });
      box.append(button);
    }
    return box;
  }

  function moderation(event) {
    if (event.action === "deleted" || event.action === "cleared") {
      for (const id of event.message_ids || []) {
        log.querySelector(`[data-id="${Number(id)}"]`)?.remove();
      }
    } else if (event.action === "slow_mode") {
      addLine("system", event.seconds ? `Slow mode: one message every ${event.seconds} s` : "Slow mode off");
      if (slow && !event.automatic) slow.value = String(event.seconds);
    } else if (event.action === "timeout") {
      addLine("system", `${event.user} was timed out`);
    } else if (event.action === "ban") {
      addLine("system", `${event.user} was banned`);
    }
  }

  function review(event) {
    if (!held) return;
    if (event.action === "flagged") {
      addLine("flag", `Flagged (${(event.flags || []).join(", ")}) from ${event.user}`);
      return;
    }
    const li = document.createElement("li");
    const text = document.createElement("span");
    text.textContent = `${event.user}: ${event.text}`;
    li.append(text);
    for (const [label, action] of [["Approve", "approve"], ["Reject", "reject"]]) {
      const button = document.createElement("button");
      button.type = "button";
      button.className = "chat-mod-btn";
      button.textContent = label;
      button.addEventListener("click", () => {
        if (send({ type: "mod", action, held_id: event.held_id })) li.remove();
      });
      li.append(button);
    }
    held.append(li);
  }

  function trim() {
    while (log.children.length > MAX_ITEMS) log.firstElementChild.remove();
  }

  form?.addEventListener("submit", (e) => {
    e.preventDefault();
    const input = form.elements.text;
    const text = input.value.trim();
    if (!text) return;
    if (send({ type: "message", text, ref: `c${++refCounter}` })) input.value = "";
  });

  slow?.addEventListener("change", () => {
    send({ type: "mod", action: "slow_mode", seconds: Number(slow.value) });
  });

  connect();
}
