// Room player: signed HLS via hls.js, paywall, live/offline without reloads.
// State comes from the room API; chat's "marquee:room-event" (show_started /
// show_ended, private_started / private_ended) triggers a refresh at once,
// polling covers pages without chat.  A private show's URL differs only in its
// token (/v/<viewer>/p<session>/…): the payer's player switches to it without
// reloading; everyone else's stops and shows the private state.
// The payer of a private and the performer (preview) also get a WHEP URL
// (private.webrtc_url): the player tries WebRTC (sub-second) while HLS plays,
// switches to it once connected, and stays on / falls back to HLS if it fails.
import Hls from "../vendor/hls.min.mjs";
import { csrfToken, iceGathered } from "./signaling.js";

const root = document.querySelector("[data-player]");
const POLL_LIVE_MS = 30000;
const POLL_PAYWALL_MS = 5000;
const POLL_OFFLINE_MS = 10000;
// /v/<viewer>/<show or p<session>>/<expires>/<sig>/ (marquee/shows/playback.py)
const TOKEN_PREFIX = /\/v\/[A-Za-z0-9]+\/p?[0-9]+\/[0-9]+\/[A-Za-z0-9_-]+\//;

if (root) {
  const video = root.querySelector("[data-player-video]");
  const parts = {
    offline: root.querySelector("[data-player-offline]"),
    denied: root.querySelector("[data-player-denied]"),
    paywall: root.querySelector("[data-paywall]"),
  };
  let hls = null;
  let stream = null; // playlist URL without its token, to spot a new stream
  let tokenPrefix = null; // "/v/<viewer>/<show>/<expires>/<sig>/" currently valid
  let timer = null;
  let pinned = -1; // the viewer's chosen rendition (-1: hls.js picks by bandwidth)
  let rtc = null; // { url, pc, location, live } of the WHEP attempt or connection
  let rtcFailed = null; // the WHEP URL that failed: HLS for the rest of that show
  const quality = document.createElement("select");
  quality.dataset.playerQuality = "";
  quality.className = "player-quality";
  quality.setAttribute("aria-label", "Video quality");
  quality.hidden = true;
  video.after(quality);

  const withCurrentToken = (url) => (tokenPrefix ? url.replace(TOKEN_PREFIX, tokenPrefix) : url);

  function show(which) {
    for (const [name, el] of Object.entries(parts)) el.hidden = name !== which;
    video.hidden = which !== "video";
    root.classList.toggle("player-offline", which !== "video");
  }

  // The master playlist lists the source first, then by height: "Auto" plus one entry per rung.
  function offerQualities(levels) {
    const label = (level) => (level.height && level.attrs && level.attrs.RESOLUTION ? `${level.height}p` : "Source");
    quality.replaceChildren(new Option("Auto", "-1"), ...levels.map((level, i) => new Option(label(level), String(i))));
    if (pinned >= levels.length) pinned = -1;
    quality.value = String(pinned);
    quality.hidden = levels.length < 2;
  }

  quality.addEventListener("change", () => {
    pinned = Number(quality.value);
    // nextLevel pins from the next fragment on without flushing what is buffered
    // (a live buffer is only ~1 s); -1 gives the choice back to hls.js.
    if (hls) hls.nextLevel = pinned;
  });

  function stop() {
    quality.hidden = true;
    if (hls) { hls.destroy(); hls = null; }
    video.removeAttribute("src");
    stream = null;
  }

  // --- WebRTC (WHEP) for the payer and the performer -------------------------
  function stopWebrtc() {
    if (!rtc) return;
    const { pc, location, live } = rtc;
    rtc = null;
    if (pc) pc.close();
    if (location) {
      fetch(location, { method: "DELETE", credentials: "same-origin", headers: { "X-CSRFToken": csrfToken() } }).catch(() => {});
    }
    if (live) video.srcObject = null;
    root.dataset.playerTransport = "hls";
  }

  async function tryWebrtc(url) {
    const attempt = { url, pc: null, location: null, live: false };
    rtc = attempt;
    const lost = () => {
      if (rtc !== attempt) return;
      rtcFailed = url;
      stopWebrtc();
      refresh(); // back on HLS
    };
    try {
      const pc = new RTCPeerConnection();
      attempt.pc = pc;
      const media = new MediaStream();
      pc.addTransceiver("video", { direction: "recvonly" });
      pc.addTransceiver("audio", { direction: "recvonly" });
      pc.addEventListener("track", (event) => media.addTrack(event.track));
      pc.addEventListener("connectionstatechange", () => {
        if (pc.connectionState === "connected" && rtc === attempt && !attempt.live) {
          attempt.live = true;
          stop(); // HLS off: this peer is the show now
          video.srcObject = media;
          root.dataset.playerTransport = "webrtc";
          video.play().catch(() => {});
        } else if (["failed", "closed", "disconnected"].includes(pc.connectionState)) {
          lost();
        }
      });
      await pc.setLocalDescription(await pc.createOffer());
      await iceGathered(pc);
      const response = await fetch(url, {
        method: "POST",
        credentials: "same-origin",
        headers: { "Content-Type": "application/sdp", "X-CSRFToken": csrfToken() },
        body: pc.localDescription.sdp,
      });
      if (response.status !== 201) throw new Error(`WHEP ${response.status}`);
      attempt.location = response.headers.get("Location");
      if (rtc !== attempt) { pc.close(); return; }
      await pc.setRemoteDescription({ type: "answer", sdp: await response.text() });
    } catch {
      lost();
    }
  }

  function play(url) {
    const base = url.replace(TOKEN_PREFIX, "/");
    tokenPrefix = url.match(TOKEN_PREFIX)[0];
    if (base === stream) return; // same stream: new token only, segments pick it up
    stop();
    stream = base;
    if (Hls.isSupported()) {
      hls = new Hls({
        // Sit 1.2 s behind the newest listed fragment (0.5 s fragments; 1 s
        // for an OBS source passed through), not 2 whole fragments: see
        // docs/benchmarks.md (glass-to-glass in Chromium).  Drifted behind,
        // catch up by playing up to 10% faster rather than by seeking.
        liveSyncDuration: 1.2,
        liveMaxLatencyDuration: 5,
        maxLiveSyncPlaybackRate: 1.1,
        // nginx-rtmp writes no LL-HLS parts: low-latency mode would only add requests.
        lowLatencyMode: false,
        backBufferLength: 10,
        // Every playlist and segment request carries the newest token.
        xhrSetup: (xhr, requestUrl) => xhr.open("GET", withCurrentToken(requestUrl), true),
      });
      hls.on(Hls.Events.MANIFEST_PARSED, (_event, data) => {
        offerQualities(data.levels);
        if (pinned >= 0) hls.nextLevel = pinned;
      });
      hls.on(Hls.Events.ERROR, (_event, data) => {
        if (data.fatal) { stop(); schedule(2000); }
      });
      hls.loadSource(url);
      hls.attachMedia(video);
    } else if (video.canPlayType("application/vnd.apple.mpegurl")) {
      video.src = url;
    }
    video.play().catch(() => {});
  }

  function setBadge(live) {
    const badge = document.querySelector("[data-live-badge]");
    if (!badge) return;
    badge.textContent = live ? "Live" : "Offline";
    badge.classList.toggle("badge-live", live);
    badge.classList.toggle("badge-offline", !live);
  }

  const sinceFormat = new Intl.DateTimeFormat(undefined, { hour: "numeric", minute: "2-digit", timeZoneName: "short" });

  function paywall(offer) {
    parts.paywall.querySelector("[data-paywall-message]").textContent = offer.message;
    parts.paywall.querySelector("[data-paywall-title]").textContent = offer.title || "";
    parts.paywall.querySelector("[data-paywall-gives]").textContent = offer.gives || "";
    const since = offer.started_at ? new Date(offer.started_at) : null;
    const sinceEl = parts.paywall.querySelector("[data-paywall-since]");
    parts.paywall.querySelector("[data-paywall-when]").hidden = !since;
    if (since) {
      sinceEl.setAttribute("datetime", offer.started_at);
      sinceEl.textContent = sinceFormat.format(since);
    }
    parts.paywall.querySelector("[data-paywall-product]").value = offer.product || "";
    parts.paywall.querySelector("[data-paywall-show]").value = offer.show_id || "";
    parts.paywall.querySelector("[data-paywall-button]").textContent = `Buy for $${offer.price_display}`;
  }

  function apply(state) {
    document.dispatchEvent(new CustomEvent("marquee:room-state", { detail: state }));
    setBadge(state.is_live);
    const whep = (state.private && state.private.webrtc_url) || null;
    if (rtc && rtc.url !== whep) stopWebrtc();
    if (!state.is_live) { stop(); show("offline"); return schedule(POLL_OFFLINE_MS); }
    if (state.playback_url) {
      show("video");
      // HLS plays until the WebRTC peer connects (and whenever it can't).
      if (!(rtc && rtc.live)) play(state.playback_url);
      if (whep && !rtc && rtcFailed !== whep) tryWebrtc(whep);
      // Renew a minute before expiry (or halfway through short tokens).
      const left = state.playback_expires_at * 1000 - Date.now();
      return schedule(Math.min(POLL_LIVE_MS, Math.max(1000, Math.min(left - 60000, left / 2))));
    }
    stop();
    if (state.paywall) { paywall(state.paywall); show("paywall"); return schedule(POLL_PAYWALL_MS); }
    parts.denied.textContent = state.denied ? state.denied.message : "";
    show("denied");
    return schedule(POLL_OFFLINE_MS);
  }

  function schedule(ms) {
    clearTimeout(timer);
    timer = setTimeout(refresh, ms);
  }

  async function refresh() {
    try {
      const response = await fetch(root.dataset.roomApi, { credentials: "same-origin", headers: { Accept: "application/json" } });
      if (!response.ok) throw new Error(`room API ${response.status}`);
      apply(await response.json());
    } catch {
      schedule(POLL_OFFLINE_MS);
    }
  }

  window.addEventListener("pagehide", () => {
    if (rtc && rtc.location) {
      fetch(rtc.location, { method: "DELETE", credentials: "same-origin", keepalive: true, headers: { "X-CSRFToken": csrfToken() } });
    }
  });

  document.addEventListener("marquee:room-event", (event) => {
    const detail = event.detail || {};
    const names = [detail.type, detail.event, detail.subtype];
    const watched = ["show_started", "show_ended", "private_started", "private_ended"];
    if (names.some((name) => watched.includes(name))) refresh();
  });
  refresh();
}
