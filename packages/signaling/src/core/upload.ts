import { UTDStreamException } from "@utd-stream/protocol";
import { byteLength, parse, type UploadData } from "./api.js";

/** The part of `XMLHttpRequest` an upload with progress uses. */
interface XhrLike {
  open(method: string, url: string): void;
  setRequestHeader(name: string, value: string): void;
  send(body: unknown): void;
  readonly status: number;
  readonly responseText: string;
  upload: { onprogress: ((ev: { loaded: number; total: number }) => void) | null };
  onload: (() => void) | null;
  onerror: (() => void) | null;
}
type XhrConstructor = new () => XhrLike;

export function xhrPut(
  XHR: XhrConstructor,
  url: string,
  method: string,
  headers: Record<string, string>,
  data: UploadData,
  onProgress: (sent: number, total: number) => void,
): Promise<void> {
  const total = byteLength(data);
  return new Promise((resolve, reject) => {
    const x = new XHR();
    x.open(method, url);
    // The browser sets Content-Length itself (a forbidden header for scripts).
    for (const [k, v] of Object.entries(headers)) if (k.toLowerCase() !== "content-length") x.setRequestHeader(k, v);
    x.upload.onprogress = (ev) => onProgress(ev.loaded, ev.total || total);
    x.onload = () => {
      try {
        parse(x.status, x.responseText);
        onProgress(total, total);
        resolve();
      } catch (err) {
        reject(err);
      }
    };
    x.onerror = () => reject(UTDStreamException.network("upload failed"));
    x.send(data);
  });
}

/** The runtime's `XMLHttpRequest` (browsers, React Native), for uploads with progress. */
export function xhrConstructor(): XhrConstructor | undefined {
  return (globalThis as { XMLHttpRequest?: XhrConstructor }).XMLHttpRequest;
}
