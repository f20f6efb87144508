import { createSocket } from "node:dgram";
import { createServer, type Server } from "node:net";

/** A TCP port nobody listens on right now (the OS picks it). */
export async function freePort(): Promise<number> {
  const [port] = await freePorts(1);
  return port as number;
}

/** `n` distinct TCP ports nobody listens on right now: all are held open until every one is known. */
export async function freePorts(n: number): Promise<number[]> {
  const servers: Server[] = [];
  try {
    const ports: number[] = [];
    for (let i = 0; i < n; i++) {
      const srv = createServer();
      servers.push(srv);
      ports.push(
        await new Promise<number>((ok, fail) => {
          srv.once("error", fail);
          srv.listen(0, "127.0.0.1", () => {
            const addr = srv.address();
            ok(typeof addr === "object" && addr ? addr.port : 0);
          });
        }),
      );
    }
    return ports;
  } finally {
    await Promise.all(servers.map((s) => new Promise<void>((r) => s.close(() => r()))));
  }
}

/** A UDP port nobody is bound to right now on loopback (the OS picks it). */
export async function freeUdpPort(): Promise<number> {
  const sock = createSocket("udp4");
  try {
    return await new Promise<number>((ok, fail) => {
      sock.once("error", fail);
      sock.bind(0, "127.0.0.1", () => ok(sock.address().port));
    });
  } finally {
    await new Promise<void>((r) => sock.close(() => r()));
  }
}
