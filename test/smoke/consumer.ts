// The TypeScript consumer of the pack-and-install smoke test: compiled with `tsc --strict` against the
// installed tarballs' declarations (with examples/quickstart.ts beside it).
import { type UTDStreamClient, UTDStreamType } from "@utd-stream/media";
import { CLOSE_CODES, type ErrorCode, UTDStreamException } from "@utd-stream/protocol";
import { getSession, type ReadableStore, type UTDMessage } from "@utd-stream/signaling";
import { UTDEvents } from "@utd-stream/widget";
import WebSocket from "ws";

export async function messagesOf(baseUrl: string, appId: string, appKey: string): Promise<ReadableStore<readonly UTDMessage[]>> {
  const chat = await getSession({ baseUrl, appId, appKey, userId: "ts", WebSocket });
  const dm = await chat.user("other").directConversation();
  return dm.subscribeMessages(() => {}).messages;
}

export async function callSomeone(client: UTDStreamClient): Promise<string | null> {
  const call = client.callSession(UTDStreamType.videoCall);
  await call.start({ calleeIdentity: "bob" });
  return call.status.value;
}

export function describeError(e: unknown): ErrorCode | "network_error" | "unknown" | null {
  return e instanceof UTDStreamException ? e.code : null;
}

export const unauthorizedClose: number = CLOSE_CODES.unauthorized;
export const sub = UTDEvents.on("conversationMessageReceived", (m) => m.text?.length);
