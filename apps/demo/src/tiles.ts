import type { UTDSession } from "@utd-stream/media";
import { h } from "./dom.js";

interface Attachable {
  sid?: string;
  kind: string;
  attach(): HTMLMediaElement;
  detach(el: HTMLMediaElement): HTMLMediaElement;
}

/**
 * Renders a media session's tracks: one tile per video track (local preview included, muted) and a
 * hidden element per remote audio track. Follows the session's room events; returns a stop function.
 */
export function mountTiles(session: UTDSession, el: HTMLElement): () => void {
  const shown = new Map<string, { tile: HTMLElement; media: HTMLMediaElement; track: Attachable }>();
  const render = () => {
    const want = new Map<string, { identity: string; track: Attachable; local: boolean }>();
    const local = session.localParticipant;
    if (local) {
      for (const pub of local.trackPublications.values()) {
        const tr = pub.track as Attachable | undefined;
        if (tr && tr.kind === "video") want.set(`local:${pub.trackSid}`, { identity: local.identity, track: tr, local: true });
      }
    }
    for (const p of session.remoteParticipants.value) {
      for (const pub of p.trackPublications.values()) {
        const tr = pub.track as Attachable | undefined;
        if (tr && pub.isSubscribed) want.set(`${p.identity}:${pub.trackSid}`, { identity: p.identity, track: tr, local: false });
      }
    }
    for (const [key, s] of shown) {
      if (want.get(key)?.track === s.track) continue;
      s.track.detach(s.media);
      s.tile.remove();
      shown.delete(key);
    }
    for (const [key, w] of want) {
      if (shown.has(key)) continue;
      const media = w.track.attach();
      media.autoplay = true;
      if (w.local) media.muted = true;
      const tile =
        w.track.kind === "video"
          ? h(
              "figure",
              { class: `tile${w.local ? " local" : ""}`, "data-testid": "tile", "data-identity": w.identity, "data-local": w.local },
              media,
              h("figcaption", {}, h("bdi", {}, w.identity)),
            )
          : h("div", { class: "audio-sink", hidden: true, "data-testid": "audio", "data-identity": w.identity }, media);
      el.append(tile);
      shown.set(key, { tile, media, track: w.track });
    }
  };
  const offs = [session.room.events.subscribe(render), session.remoteParticipants.subscribe(render)];
  render();
  return () => {
    for (const off of offs) off();
    for (const s of shown.values()) {
      s.track.detach(s.media);
      s.tile.remove();
    }
    shown.clear();
  };
}
