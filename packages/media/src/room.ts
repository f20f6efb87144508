import { isRoomEventMessage, ROOM_EVENTS_TOPIC, type RoomEventMessage } from "@utd-stream/protocol";
import {
  ConnectionState,
  type LocalParticipant,
  type Participant,
  type RemoteParticipant,
  Room,
  RoomEvent,
  type Track,
  type TrackPublication,
} from "livekit-client";
import { EventStream, type ReadableStore, Store } from "./store.js";

/** One raw LiveKit room event: its name and the listener arguments LiveKit passed. */
export interface UTDRoomEvent {
  type: RoomEvent;
  args: unknown[];
}

/** One published track of a participant in the room (local or remote), as {@link UTDRoom.tracks} lists it. */
export interface UTDTrackRef {
  participant: Participant;
  identity: string;
  local: boolean;
  /** `camera`, `microphone`, `screen_share`, `screen_share_audio` or `unknown`. */
  source: Track.Source;
  kind: Track.Kind;
  /** LiveKit's publication (with `participant` and `source`, the shape of LiveKit's `TrackReference`). */
  publication: TrackPublication;
  /** The media track: set while subscribed (remote) or published (local). */
  track: Track | undefined;
  muted: boolean;
}

export interface UTDRoomOptions {
  /** LiveKit adaptive stream (default true). */
  adaptiveStream?: boolean;
  /** LiveKit dynacast (default true). */
  dynacast?: boolean;
}

/**
 * Headless wrapper around a LiveKit `Room` (seed: `UTDRoom`): owns the connection and surfaces state as
 * stores plus a raw event stream. It never elevates its own permissions: `canPublish` only follows
 * what the server grants.
 */
export class UTDRoom {
  /** The underlying LiveKit room. */
  readonly room: Room;
  /** Every LiveKit room event, raw. */
  readonly events = new EventStream<UTDRoomEvent>();
  /** Room events the engine sends into the room (`stage.updated`, `seats.updated`, `speak.*`…). */
  readonly serverEvents = new EventStream<RoomEventMessage>();
  private readonly _connected = new Store(false);
  private readonly _canPublish = new Store(false);
  private readonly _remote = new Store<RemoteParticipant[]>([]);
  private readonly _tracks = new Store<readonly UTDTrackRef[]>([]);
  private tracksKey = "";

  constructor(opts: UTDRoomOptions = {}) {
    this.room = new Room({ adaptiveStream: opts.adaptiveStream ?? true, dynacast: opts.dynacast ?? true });
    for (const type of Object.values(RoomEvent)) {
      this.room.on(type as RoomEvent.Connected, (...args: unknown[]) => this.events.emit({ type, args }));
    }
    const refresh = () => this.refresh();
    for (const e of [
      RoomEvent.ConnectionStateChanged,
      RoomEvent.ParticipantConnected,
      RoomEvent.ParticipantDisconnected,
      RoomEvent.TrackSubscribed,
      RoomEvent.TrackUnsubscribed,
      RoomEvent.ParticipantPermissionsChanged,
      RoomEvent.Disconnected,
      RoomEvent.LocalTrackPublished,
      RoomEvent.LocalTrackUnpublished,
      RoomEvent.TrackPublished,
      RoomEvent.TrackUnpublished,
      RoomEvent.TrackMuted,
      RoomEvent.TrackUnmuted,
    ]) {
      this.room.on(e as RoomEvent.Connected, refresh);
    }
    this.room.on(RoomEvent.DataReceived, (payload, participant, _kind, topic) => {
      // Only the server (no sending participant) speaks on the engine's topic.
      if (participant || topic !== ROOM_EVENTS_TOPIC) return;
      try {
        const msg: unknown = JSON.parse(new TextDecoder().decode(payload));
        if (isRoomEventMessage(msg)) this.serverEvents.emit(msg);
      } catch {
        /* not ours */
      }
    });
  }

  /** Whether the media room is connected. */
  get connected(): ReadableStore<boolean> {
    return this._connected;
  }

  /** Whether the server currently lets this participant publish (seat / stage / host / call party). */
  get canPublish(): ReadableStore<boolean> {
    return this._canPublish;
  }

  /** Remote participants, refreshed on (dis)connects and track subscriptions. */
  get remoteParticipants(): ReadableStore<RemoteParticipant[]> {
    return this._remote;
  }

  /**
   * Every track in the room, local first (camera, microphone, screen share of each participant), refreshed
   * on publish, subscribe, mute and (dis)connect: what a UI renders tiles from.
   */
  get tracks(): ReadableStore<readonly UTDTrackRef[]> {
    return this._tracks;
  }

  get localParticipant(): LocalParticipant | undefined {
    return this._connected.value ? this.room.localParticipant : undefined;
  }

  /** Connects with an engine-minted token. */
  async connect(url: string, token: string, opts: { autoSubscribe?: boolean } = {}): Promise<void> {
    await this.room.connect(url, token, { autoSubscribe: opts.autoSubscribe ?? true });
    this.refresh();
  }

  /** Microphone on/off. Turning it on is refused by the SFU unless the server granted publish. */
  async setMicrophone(enabled: boolean): Promise<void> {
    await this.room.localParticipant.setMicrophoneEnabled(enabled);
  }

  /** Camera on/off. Turning it on is refused by the SFU unless the server granted camera publish. */
  async setCamera(enabled: boolean): Promise<void> {
    await this.room.localParticipant.setCameraEnabled(enabled);
  }

  /** A data message to the room, or to `destinationIdentities`. */
  async sendData(data: Uint8Array, opts: { reliable?: boolean; destinationIdentities?: string[]; topic?: string } = {}): Promise<void> {
    await this.room.localParticipant.publishData(new Uint8Array(data), {
      reliable: opts.reliable ?? true,
      ...(opts.destinationIdentities ? { destinationIdentities: opts.destinationIdentities } : {}),
      ...(opts.topic ? { topic: opts.topic } : {}),
    });
  }

  async disconnect(): Promise<void> {
    await this.room.disconnect();
    this.refresh();
  }

  private refresh(): void {
    this._connected.set(this.room.state === ConnectionState.Connected);
    this._canPublish.set(this._connected.value && (this.room.localParticipant.permissions?.canPublish ?? false));
    this._remote.set([...this.room.remoteParticipants.values()]);
    const refs: UTDTrackRef[] = [];
    if (this._connected.value) {
      for (const p of [this.room.localParticipant, ...this._remote.value] as Participant[]) {
        for (const pub of p.trackPublications.values()) {
          const { source, kind, track, isMuted: muted } = pub;
          refs.push({
            participant: p,
            publication: pub,
            identity: p.identity,
            local: p === this.room.localParticipant,
            source,
            kind,
            track,
            muted,
          });
        }
      }
    }
    // A new list only when a track came, went or changed: views re-render on real changes.
    const key = refs.map((r) => `${r.identity}/${r.source}/${r.track?.sid}/${r.muted}`).join();
    if (key !== this.tracksKey) {
      this.tracksKey = key;
      this._tracks.set(refs);
    }
  }
}
