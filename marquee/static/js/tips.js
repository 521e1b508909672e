// Room tipping: the goal bar follows the room's tip events live, each tip
// gets a short animation (none with prefers-reduced-motion) and an optional
// sound, quick tip buttons ask first when the viewer wants it (/me/), and a
// refused or failed tip never leaves an old "Thank you" on screen.
// Room events come from chat.js as "marquee:room-event" (docs/chat-protocol.md).

const stage = document.querySelector(".room .stage");
const SOUND_KEY = "marquee:tip-sound";
let audio = null;

function updateGoal(goal) {
  const panel = document.querySelector("[data-tip-goal]");
  if (!panel || !goal || !(goal.goal > 0)) return;
  const bar = panel.querySelector("progress");
  bar.max = goal.goal;
  bar.value = Math.min(goal.tokens, goal.goal);
  bar.textContent = `${goal.percent}%`;
  panel.dataset.tokens = String(goal.tokens);
  panel.querySelector("[data-goal-tokens]").textContent = String(goal.tokens);
  const heading = panel.querySelector("h2");
  const label = goal.label ? `: ${goal.label}` : "";
  heading.textContent = `${goal.reached ? "Goal reached!" : "Tip goal"}${label}`;
  panel.classList.remove("goal-bump");
  void panel.offsetWidth; // restart the animation
  panel.classList.add("goal-bump");
}

function burst(tokens) {
  if (!stage) return;
  const el = document.createElement("div");
  el.className = "tip-burst";
  el.setAttribute("aria-hidden", "true"); // the chat line already says it
  el.textContent = `+${tokens}`;
  stage.append(el);
  const done = () => el.remove();
  el.addEventListener("animationend", done, { once: true });
  setTimeout(done, 2500); // reduced motion: no animation, no animationend
}

function soundOn() {
  try {
    return localStorage.getItem(SOUND_KEY) === "1";
  } catch {
    return false;
  }
}

function chime() {
  if (!soundOn()) return;
  audio = audio || new AudioContext();
  const osc = audio.createOscillator();
  const gain = audio.createGain();
  osc.frequency.value = 880;
  gain.gain.setValueAtTime(0.08, audio.currentTime);
  gain.gain.exponentialRampToValueAtTime(0.0001, audio.currentTime + 0.35);
  osc.connect(gain).connect(audio.destination);
  osc.start();
  osc.stop(audio.currentTime + 0.35);
}

const soundButton = document.querySelector("[data-tip-sound]");
function showSound() {
  soundButton.setAttribute("aria-pressed", String(soundOn()));
  soundButton.textContent = soundOn() ? "Tip sound: on" : "Tip sound: off";
}
if (soundButton) {
  soundButton.hidden = false;
  showSound();
  soundButton.addEventListener("click", () => {
    try {
      localStorage.setItem(SOUND_KEY, soundOn() ? "0" : "1");
    } catch {
      return;
    }
    showSound();
    chime(); // a user gesture: lets the browser start audio, and previews it
  });
}

document.addEventListener("marquee:room-event", (event) => {
  const data = event.detail || {};
  if (data.type === "tip") {
    updateGoal(data.goal);
    if (!data.replayed) {
      burst(data.tokens);
      chime();
    }
  } else if (data.type === "goal_reached") {
    updateGoal(data.goal);
  }
});

// Quick buttons carry data-confirm when the viewer asked for it (htmx asks
// before issuing the request; the question names the amount clicked).
document.body.addEventListener("htmx:confirm", (event) => {
  const submitter = event.detail.triggeringEvent && event.detail.triggeringEvent.submitter;
  const question = (submitter && submitter.dataset.confirm) || event.detail.elt.dataset.confirm;
  if (!question) return;
  event.preventDefault();
  if (window.confirm(question)) event.detail.issueRequest(true);
});

function tipPanel(event) {
  const target = event.detail && (event.detail.target || event.detail.elt);
  return target && target.closest ? target.closest("#tip-panel") : null;
}

// A new tip starts: the last one's "Thank you" or error no longer applies.
document.body.addEventListener("htmx:beforeRequest", (event) => {
  const panel = tipPanel(event);
  if (panel) panel.querySelectorAll(".tip-ok, .tip-error").forEach((el) => el.remove());
});

// htmx swaps nothing on an error answer or a dropped connection: say so.
function showFailure(event) {
  const panel = tipPanel(event);
  if (!panel) return;
  let message = "The tip was not sent. Check your connection and try again.";
  const xhr = event.detail.xhr;
  if (xhr && xhr.status) {
    message = `The tip was not sent (error ${xhr.status}). Reload the page and try again.`;
    try {
      message = JSON.parse(xhr.responseText).error.message || message;
    } catch {
      /* an HTML error page: keep the generic message */
    }
  }
  panel.querySelectorAll(".tip-ok, .tip-error").forEach((el) => el.remove());
  const p = document.createElement("p");
  p.className = "tip-error";
  p.setAttribute("role", "alert");
  p.textContent = message;
  panel.querySelector(".tip-head").after(p);
}
document.body.addEventListener("htmx:responseError", showFailure);
document.body.addEventListener("htmx:sendError", showFailure);
