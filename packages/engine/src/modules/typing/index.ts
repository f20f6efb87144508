import { TypingFrameSchema } from "@utd-stream/protocol/schemas";
import { defineModule, wsVerb } from "../module.js";
import { TypingService } from "./service.js";

export { TypingService } from "./service.js";

declare module "../module.js" {
  interface ModuleServices {
    typing: TypingService;
  }
}

/** Typing indicators to a user or a conversation's members (WebSocket only; state per node). */
export const typingModule = defineModule({
  name: "typing",
  needs: ["realtime", "chat"],
  create: ({ clock, realtime, chat }) => {
    const typing = new TypingService(realtime.events, clock, realtime.config.typingTtlS, (ctx, conversationId) =>
      chat.members.identities({ app: ctx.app, identity: ctx.identity }, conversationId),
    );
    return {
      service: typing,
      connections: {
        connected: () => {},
        // Indicators stop with the user's last socket here (another device may still be typing).
        disconnected: (ctx, _conn, remaining) => {
          if (remaining === 0) typing.stopAll(ctx.app.id, ctx.identity);
        },
      },
      wsVerbs: [
        wsVerb("typing.start", TypingFrameSchema, async (ctx, frame) => typing.handle(ctx, frame)),
        wsVerb("typing.stop", TypingFrameSchema, async (ctx, frame) => typing.handle(ctx, frame)),
      ],
      start: () => typing.start(),
      stop: () => typing.stop(),
    };
  },
});
