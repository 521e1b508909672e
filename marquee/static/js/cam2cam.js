// cam2cam in a private show: the payer sends their camera by WHIP, only the
// performer sees it (WHEP).  The room state from player.js
// ("marquee:room-state") says whether it is on for this viewer
// (private.cam2cam_url: the payer's WHIP URL or the performer's WHEP URL;
// absent when the room does not allow it or the show is not theirs).
// Nothing is recorded: the server only relays the frames to the performer.
import { csrfToken, iceGathered } from "./signaling.js";

const box = document.querySelector("[data-cam2cam]");

// POST the offer, apply the answer; the peer's Location (for DELETE) or an Error with .status.
async function negotiate(pc, url) {
  await pc.setLocalDescription(await pc.createOffer());
  await iceGathered(pc);
  const response = await fetch(url, {
    method: "POST",
    credentials: "same-origin",
    headers: { "Content-Type": "application/sdp", "X-CSRFToken": csrfToken() },
    body: pc.localDescription.sdp,
  });
  if (response.status !== 201) {
    const body = await response.json().catch(() => ({}));
    const error = new Error((body.error && body.error.message) || `Refused (${response.status}).`);
    error.status = response.status;
    throw error;
  }
  const location = response.headers.get("Location");
  await pc.setRemoteDescription({ type: "answer", sdp: await response.text() });
  return location;
}

function hangUp(location) {
  if (location) {
    fetch(location, { method: "DELETE", credentials: "same-origin", headers: { "X-CSRFToken": csrfToken() } }).catch(() => {});
  }
}

if (box) {
  const own = box.dataset.ownRoom === "1";
  const status = box.querySelector("[data-cam2cam-status]");
  const video = box.querySelector("[data-cam2cam-video]");
  const start = box.querySelector("[data-cam2cam-start]");
  const stopButton = box.querySelector("[data-cam2cam-stop]");
  let url = null; // this viewer's cam2cam URL while the show allows it
  let pc = null;
  let camera = null;
  let location = null;
  let retry = null;
  const say = (text) => { status.textContent = text; };

  function close() {
    clearTimeout(retry);
    if (pc) pc.close();
    if (camera) camera.getTracks().forEach((track) => track.stop());
    hangUp(location);
    pc = camera = location = null;
    video.srcObject = null;
    video.hidden = true;
    if (start) { start.hidden = false; start.disabled = false; }
    if (stopButton) stopButton.hidden = true;
  }

  // The performer: watch the payer's camera once they send it (409 until then).
  async function watch() {
    if (!url || pc) return;
    const peer = new RTCPeerConnection();
    pc = peer;
    const media = new MediaStream();
    peer.addTransceiver("video", { direction: "recvonly" });
    peer.addEventListener("track", (event) => media.addTrack(event.track));
    peer.addEventListener("connectionstatechange", () => {
      if (peer.connectionState === "connected") {
        video.srcObject = media;
        video.hidden = false;
        video.play().catch(() => {});
        say("The viewer's camera.");
      } else if (["failed", "closed", "disconnected"].includes(peer.connectionState) && pc === peer) {
        close();
        say("The viewer's camera is off.");
        retry = setTimeout(watch, 3000);
      }
    });
    try {
      location = await negotiate(peer, url);
    } catch {
      if (pc === peer) { pc.close(); pc = null; }
      say("The viewer may send their camera; it shows here.");
      retry = setTimeout(watch, 3000);
    }
  }

  async function send() {
    start.disabled = true;
    say("Asking for your camera…");
    try {
      camera = await navigator.mediaDevices.getUserMedia({ video: { width: 640, height: 480 }, audio: false });
      video.srcObject = camera;
      video.hidden = false;
      const peer = new RTCPeerConnection();
      pc = peer;
      camera.getTracks().forEach((track) => peer.addTransceiver(track, { direction: "sendonly" }));
      peer.addEventListener("connectionstatechange", () => {
        if (peer.connectionState === "connected") say("The performer sees your camera.");
        if (["failed", "closed"].includes(peer.connectionState) && pc === peer) { close(); say("Your camera is off."); }
      });
      location = await negotiate(peer, url);
      start.hidden = true;
      stopButton.hidden = false;
    } catch (error) {
      close();
      say(error.message || "Could not send your camera.");
    }
  }

  if (start) start.addEventListener("click", send);
  if (stopButton) stopButton.addEventListener("click", () => { close(); say("Your camera is off."); });

  document.addEventListener("marquee:room-state", (event) => {
    const next = (event.detail && event.detail.private && event.detail.private.cam2cam_url) || null;
    if (next === url) return;
    close();
    url = next;
    box.hidden = !url;
    if (!url) return;
    if (own) watch();
    else say("You may send your camera to the performer: only they see it, and it is not recorded.");
  });

  window.addEventListener("pagehide", () => {
    if (location) fetch(location, { method: "DELETE", credentials: "same-origin", keepalive: true, headers: { "X-CSRFToken": csrfToken() } });
  });
}
