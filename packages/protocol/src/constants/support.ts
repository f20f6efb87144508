/**
 * Support conversations: a visitor (any identity of the app) talks to the app's operator team.
 * `queued` — waiting for an operator; `assigned` — one operator (the assignee) is in it; `closed` — no
 * more messages (the visitor or the assignee closed it).
 */
export const SUPPORT_STATES = ["queued", "assigned", "closed"] as const;
export type SupportState = (typeof SUPPORT_STATES)[number];

/** `requeued`: the assignee lost the operator role, so the conversation waits in the queue again (`by` is that operator). */
export const SUPPORT_CHANGES = ["started", "claimed", "transferred", "closed", "requeued"] as const;

/** Server events of the support domain. Chat events (`message.new`, `conversation.updated` with `closed`) flow as usual to members. */
export const SUPPORT_EVENTS = {
  /** data: `SupportEvent`. To the visitor and every operator of the app. */
  supportUpdated: "support.updated",
} as const;
