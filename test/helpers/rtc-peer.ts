import {
  AudioFrame,
  AudioSource,
  AudioStream,
  LocalAudioTrack,
  type RemoteTrack,
  Room,
  RoomEvent,
  TrackKind,
  TrackPublishOptions,
  TrackSource,
} from "@livekit/rtc-node";

const RATE = 48_000;
const FRAME = 480; // 10 ms

/** A headless LiveKit participant (Node, @livekit/rtc-node) for media tests. */
export class RtcPeer {
  readonly room = new Room();
  private toneTimer: NodeJS.Timeout | undefined;
  private source: AudioSource | undefined;
  private readonly remoteAudio = new Map<string, RemoteTrack>();
  private readonly audioWaiters: (() => void)[] = [];

  constructor(readonly identity: string) {
    this.room.on(RoomEvent.TrackSubscribed, (track, _pub, participant) => {
      if (track.kind === TrackKind.KIND_AUDIO) {
        this.remoteAudio.set(participant.identity, track);
        for (const w of this.audioWaiters.splice(0)) w();
      }
    });
    this.room.on(RoomEvent.TrackUnsubscribed, (_track, _pub, participant) => {
      this.remoteAudio.delete(participant.identity);
      for (const w of this.audioWaiters.splice(0)) w();
    });
  }

  /** Connects with an engine-minted token. */
  static async join(identity: string, url: string, token: string): Promise<RtcPeer> {
    const p = new RtcPeer(identity);
    await p.room.connect(url, token, { autoSubscribe: true, dynacast: false });
    return p;
  }

  /** Publishes a continuous sine tone of `hz` as the microphone. Rejects when the SFU refuses. */
  async publishTone(hz: number): Promise<void> {
    const source = new AudioSource(RATE, 1);
    this.source = source;
    const track = LocalAudioTrack.createAudioTrack(`tone-${hz}`, source);
    const opts = new TrackPublishOptions();
    opts.source = TrackSource.SOURCE_MICROPHONE;
    let n = 0;
    const push = async () => {
      const data = new Int16Array(FRAME);
      for (let i = 0; i < FRAME; i++, n++) data[i] = Math.round(Math.sin((2 * Math.PI * hz * n) / RATE) * 12_000);
      if (!source.closed) await source.captureFrame(new AudioFrame(data, RATE, 1, FRAME)).catch(() => {});
    };
    this.toneTimer = setInterval(() => void push(), 10);
    if (!this.room.localParticipant) throw new Error("not connected");
    await this.room.localParticipant.publishTrack(track, opts);
  }

  /** Whether we currently receive an audio track from `identity`. */
  hasAudioFrom(identity: string): boolean {
    return this.remoteAudio.has(identity);
  }

  /** Waits until `pred` holds (re-checked on every subscription change), or fails after `ms`. */
  async waitFor(pred: () => boolean, ms: number, what: string): Promise<void> {
    const deadline = Date.now() + ms;
    while (!pred()) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`${this.identity}: timed out waiting for ${what}`);
      await new Promise<void>((r) => {
        const t = setTimeout(r, Math.min(left, 200));
        this.audioWaiters.push(() => {
          clearTimeout(t);
          r();
        });
      });
    }
  }

  /**
   * Reads `identity`'s audio until the tone at `hz` dominates a 100 ms window (Goertzel power vs total),
   * or fails after `ms`. Proves media really flows, not just that a track was announced.
   */
  async detectTone(identity: string, hz: number, ms = 10_000): Promise<void> {
    await this.waitFor(() => this.hasAudioFrom(identity), ms, `an audio track from ${identity}`);
    const track = this.remoteAudio.get(identity);
    if (!track) throw new Error("track vanished");
    const stream = new AudioStream(track, { sampleRate: RATE, numChannels: 1 });
    const reader = stream.getReader();
    const deadline = Date.now() + ms;
    let window: number[] = [];
    try {
      while (Date.now() < deadline) {
        const r = await Promise.race([
          reader.read(),
          new Promise<null>((ok) => setTimeout(() => ok(null), Math.max(1, deadline - Date.now()))),
        ]);
        if (r === null || r.done) break;
        for (const s of r.value.data) window.push(s);
        if (window.length >= RATE / 10) {
          if (toneRatio(window, hz) > 0.5) return;
          window = [];
        }
      }
    } finally {
      reader.releaseLock();
      await stream.cancel().catch(() => {});
    }
    throw new Error(`${this.identity}: no ${hz} Hz tone from ${identity} within ${ms} ms`);
  }

  async leave(): Promise<void> {
    if (this.toneTimer) clearInterval(this.toneTimer);
    await this.source?.close().catch(() => {});
    await this.room.disconnect().catch(() => {});
  }
}

/** Share of the window's energy at `hz` (Goertzel), 0..1. */
export function toneRatio(samples: readonly number[], hz: number): number {
  const n = samples.length;
  const k = Math.round((n * hz) / RATE);
  const w = (2 * Math.PI * k) / n;
  const c = 2 * Math.cos(w);
  let s1 = 0;
  let s2 = 0;
  let energy = 0;
  for (const x of samples) {
    const s0 = x + c * s1 - s2;
    s2 = s1;
    s1 = s0;
    energy += x * x;
  }
  const power = s1 * s1 + s2 * s2 - c * s1 * s2;
  // A pure tone puts (n/2)·energy into its bin.
  return energy === 0 ? 0 : power / ((n / 2) * energy);
}
