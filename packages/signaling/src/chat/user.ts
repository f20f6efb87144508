import { type FriendState, type Presence, UTDStreamException } from "@utd-stream/protocol";
import type { UTDSignalClient } from "../client.js";
import { type ReadableStore, Store } from "../store.js";
import type { UsersApi } from "../users/api.js";
import type { UTDFriend } from "../wire/chat.js";
import { presenceFromWire, type UTDPresence } from "../wire/presence.js";
import type { ChatApi } from "./api.js";
import type { ConversationRef } from "./conversation.js";

/** What the app can know about another user: their presence and their friendship with you. */
export interface UTDUserProfile {
  identity: string;
  /** Online or offline, since when, on which devices. */
  presence: UTDPresence;
  /** `friends`, `outgoing` (you asked), `incoming` (they asked), or null when neither. */
  friend: FriendState | null;
}

/** A live view of a user's profile (from `UserRef.subscribe`). */
export interface UserProfileSubscription {
  /** The profile as last known (null until the first load). */
  readonly profile: ReadableStore<UTDUserProfile | null>;
  unsubscribe(): void;
}

/** A reference to a user (TalkJS `UserRef`): their profile, friendship and the direct conversation with them. */
export interface UserRef {
  readonly id: string;
  /** Their profile now: presence and friendship. */
  get(): Promise<UTDUserProfile>;
  /**
   * Subscribes to their profile: `onSnapshot` gets it once loaded, then on every presence change (they come
   * online, go offline, add a device) and friendship change. Their presence is watched on this socket.
   */
  subscribe(onSnapshot: (profile: UTDUserProfile) => void): UserProfileSubscription;
  /** Asks to be friends (accepts when they already asked). */
  befriend(): Promise<UTDFriend>;
  acceptFriend(): Promise<UTDFriend>;
  declineFriend(): Promise<void>;
  unfriend(): Promise<void>;
  /** The one direct conversation with this user (created on first use). */
  directConversation(): Promise<ConversationRef>;
}

/** What a user reference needs from its session. */
export interface UserHost {
  chat: ChatApi;
  users: UsersApi;
  client: UTDSignalClient;
  reportError(err: UTDStreamException): void;
  direct(identity: string): Promise<ConversationRef>;
}

async function friendState(chat: ChatApi, identity: string): Promise<FriendState | null> {
  return (await chat.friends()).find((f) => f.identity === identity)?.state ?? null;
}

/** Builds the reference to `id`. */
export function userRef(id: string, host: UserHost): UserRef {
  const get = async (): Promise<UTDUserProfile> => {
    const [presence, friend] = await Promise.all([host.users.presence([id]), friendState(host.chat, id)]);
    const p = presence[0] ?? { identity: id, status: "offline" as const, lastSeenAt: null, devices: [] };
    return { identity: id, presence: p, friend };
  };
  return {
    id,
    get,
    subscribe(onSnapshot) {
      const store = new Store<UTDUserProfile | null>(null);
      let closed = false;
      const set = (p: UTDUserProfile) => {
        if (!closed) store.set(p);
      };
      const load = async () => {
        try {
          // Watching answers with the current presence and keeps `presence.changed` coming for this user.
          const [watched, friend] = await Promise.all([
            host.client.request<{ presence: Presence[] }>("presence.watch", { identities: [id] }),
            friendState(host.chat, id),
          ]);
          const w = watched.presence.find((x) => x.identity === id);
          set({ identity: id, presence: w ? presenceFromWire(w) : (await get()).presence, friend });
        } catch (err) {
          if (err instanceof UTDStreamException) host.reportError(err);
        }
      };
      const offStore = store.onChange((p) => {
        if (p) onSnapshot(p);
      });
      const offs = [
        host.client.on("presence.changed", (p) => {
          const cur = store.value;
          if (p.identity === id && cur) set({ ...cur, presence: presenceFromWire(p) });
        }),
        host.client.on("friend.updated", (f) => {
          const cur = store.value;
          if (f.identity === id && cur) set({ ...cur, friend: f.state });
        }),
        // A new stream forgot the watch list, and changes may have been missed meanwhile.
        host.client.on("welcome", (w) => {
          if (!w.resumed) void load();
        }),
      ];
      void load();
      return {
        profile: store,
        unsubscribe: () => {
          closed = true;
          offStore();
          for (const off of offs) off();
        },
      };
    },
    befriend: () => host.chat.requestFriend(id),
    acceptFriend: () => host.chat.acceptFriend(id),
    declineFriend: () => host.chat.declineFriend(id),
    unfriend: () => host.chat.removeFriend(id),
    directConversation: () => host.direct(id),
  };
}
