// "Go live from this browser": camera + microphone sent by WHIP (RFC 9725).
// POST the SDP offer (session cookie + CSRF header), apply the 201's answer,
// DELETE the Location to stop.  The server relays into the same RTMP ingest.
import { csrfToken, iceGathered } from "./signaling.js";

const panel = document.querySelector("[data-golive]");

if (panel) {
  const start = panel.querySelector("[data-golive-start]");
  const stop = panel.querySelector("[data-golive-stop]");
  const status = panel.querySelector("[data-golive-status]");
  const preview = panel.querySelector("[data-golive-preview]");
  let pc = null;
  let stream = null;
  let sessionUrl = null;

  const say = (text) => {
    status.textContent = text;
  };

  const reset = () => {
    if (pc) pc.close();
    if (stream) stream.getTracks().forEach((track) => track.stop());
    pc = null;
    stream = null;
    sessionUrl = null;
    preview.srcObject = null;
    preview.hidden = true;
    start.hidden = false;
    start.disabled = false;
    stop.hidden = true;
  };

  const headers = (extra) => ({ "X-CSRFToken": csrfToken(), ...extra });

  start.addEventListener("click", async () => {
    start.disabled = true;
    say("Asking for your camera and microphone…");
    try {
      stream = await navigator.mediaDevices.getUserMedia({ video: { width: 1280, height: 720 }, audio: true });
      preview.srcObject = stream;
      preview.hidden = false;
      pc = new RTCPeerConnection();
      stream.getTracks().forEach((track) => pc.addTransceiver(track, { direction: "sendonly", streams: [stream] }));
      pc.addEventListener("connectionstatechange", () => {
        if (pc && pc.connectionState === "connected") say("Live: your room is on air.");
        if (pc && pc.connectionState === "failed") {
          say("The connection to the server failed.");
          reset();
        }
      });
      await pc.setLocalDescription(await pc.createOffer());
      await iceGathered(pc);
      say("Connecting…");
      const response = await fetch(panel.dataset.whipUrl, {
        method: "POST",
        credentials: "same-origin",
        headers: headers({ "Content-Type": "application/sdp" }),
        body: pc.localDescription.sdp,
      });
      if (response.status !== 201) {
        const body = await response.json().catch(() => ({}));
        throw new Error((body.error && body.error.message) || `Refused (${response.status}).`);
      }
      sessionUrl = new URL(response.headers.get("Location"), window.location.href).href;
      await pc.setRemoteDescription({ type: "answer", sdp: await response.text() });
      start.hidden = true;
      stop.hidden = false;
    } catch (error) {
      reset();
      say(error.message || "Could not go live.");
    }
  });

  stop.addEventListener("click", async () => {
    stop.disabled = true;
    if (sessionUrl) {
      await fetch(sessionUrl, { method: "DELETE", credentials: "same-origin", headers: headers({}) }).catch(() => {});
    }
    stop.disabled = false;
    reset();
    say("Broadcast ended.");
  });

  // Closing the tab ends the show too (keepalive lets the DELETE outlive the page).
  window.addEventListener("pagehide", () => {
    if (sessionUrl) fetch(sessionUrl, { method: "DELETE", credentials: "same-origin", keepalive: true, headers: headers({}) });
  });
}
