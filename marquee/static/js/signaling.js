// What the WHIP/WHEP pages share (player.js, cam2cam.js, golive.js): the
// CSRF header for their POST/DELETE, and waiting for ICE gathering.

export { csrfToken } from "./csrf.js";

// aiortc takes no trickled candidates: offer once all are gathered (host
// candidates are enough on the same network, so give up waiting after 3 s).
export function iceGathered(pc) {
  if (pc.iceGatheringState === "complete") return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      if (pc.iceGatheringState === "complete") {
        pc.removeEventListener("icegatheringstatechange", done);
        resolve();
      }
    };
    pc.addEventListener("icegatheringstatechange", done);
    setTimeout(resolve, 3000);
  });
}
