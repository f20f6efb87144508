/**
 * Server-to-client WebSocket text frames built once and written as they are (RFC 6455 §5.2: FIN, opcode
 * 1, unmasked, no extension bits). A user-stream event's frame is shared by every recipient at the same
 * `seq`, so the per-recipient work is one socket write — `ws` would frame every send again (a header
 * buffer per socket and a two-buffer `writev`).
 */

/** Bytes of the frame header for a payload of `len` bytes. */
export function headerLength(len: number): number {
  return len < 126 ? 2 : len < 65536 ? 4 : 10;
}

/** Writes the header of an unfragmented, unmasked text frame of `len` payload bytes at the start of `out`; answers its length. */
export function writeTextHeader(out: Buffer, len: number): number {
  out[0] = 0x81;
  if (len < 126) {
    out[1] = len;
    return 2;
  }
  if (len < 65536) {
    out[1] = 126;
    out.writeUInt16BE(len, 2);
    return 4;
  }
  out[1] = 127;
  out.writeUInt32BE(Math.floor(len / 2 ** 32), 2);
  out.writeUInt32BE(len >>> 0, 6);
  return 10;
}

/** The whole frame (header + payload) of a text payload; a string is encoded (UTF-8) straight into the frame. */
export function textFrame(payload: Buffer | string): Buffer {
  const len = typeof payload === "string" ? Buffer.byteLength(payload) : payload.length;
  const out = Buffer.allocUnsafe(headerLength(len) + len);
  const at = writeTextHeader(out, len);
  if (typeof payload === "string") out.write(payload, at, "utf8");
  else payload.copy(out, at);
  return out;
}

/** The payload of a frame built here (for a socket whose frames `ws` must build: an extension was negotiated). */
export function payloadOf(wire: Buffer): Buffer {
  const b = (wire[1] as number) & 0x7f;
  return wire.subarray(b < 126 ? 2 : b === 126 ? 4 : 10);
}
