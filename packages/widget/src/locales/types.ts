/** Every string the widget shows. Add a locale by writing one of these and passing it to `registerLocale`. */
export interface LiveChatStrings {
  /** Text direction of the locale. */
  dir: "ltr" | "rtl";
  title: string;
  connecting: string;
  offline: string;
  signedOut: string;
  /** The visitor was refused for good (banned, or chat switched off). */
  unavailable: string;
  queued: string;
  assigned: (agent: string) => string;
  closed: string;
  startAgain: string;
  empty: string;
  inputLabel: string;
  placeholder: string;
  send: string;
  attach: string;
  reply: string;
  replyingTo: string;
  cancelReply: string;
  endChat: string;
  close: string;
  you: string;
  agent: string;
  typing: (who: string) => string;
  seen: string;
  sending: string;
  failed: string;
  retry: string;
  attachment: string;
  messages: string;
}
