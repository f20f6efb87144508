/**
 * The drop-in browser build (`dist/browser/utd-widget.js`, served by the engine at `/widget/utd-widget.js`):
 * registers `<utd-chat-widget>` and exposes the API as `window.UTDWidget`.
 */
import { defineChatWidget } from "./element.js";

export * from "./index.js";

defineChatWidget();
