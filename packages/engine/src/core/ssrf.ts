import { lookup as dnsLookup } from "node:dns";
import { BlockList, isIP, type LookupFunction } from "node:net";

/** Kinds of address the operator may allow outgoing webhooks and hooks to reach (`UTD_WEBHOOK_ALLOW_NETWORKS`). */
export const NETWORK_CLASSES = ["loopback", "private", "link-local"] as const;
export type NetworkClass = (typeof NETWORK_CLASSES)[number];

function list(v4: string[], v6: string[]): BlockList {
  const b = new BlockList();
  for (const c of v4) {
    const [net, bits] = c.split("/");
    b.addSubnet(net as string, Number(bits), "ipv4");
  }
  for (const c of v6) {
    const [net, bits] = c.split("/");
    b.addSubnet(net as string, Number(bits), "ipv6");
  }
  return b;
}

const CLASSES: Record<NetworkClass, BlockList> = {
  loopback: list(["127.0.0.0/8"], ["::1/128"]),
  private: list(["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10"], ["fc00::/7"]),
  "link-local": list(["169.254.0.0/16"], ["fe80::/10"]),
};
/** Never reachable, whatever the configuration says. */
const NEVER = list(["0.0.0.0/8", "224.0.0.0/4", "240.0.0.0/4"], ["::/128", "ff00::/8"]);

/** Why an address may not be reached, or undefined when it may. */
export function refusedAddress(address: string, allow: readonly NetworkClass[]): string | undefined {
  let a = address;
  let family = isIP(a);
  // IPv4-mapped IPv6 (::ffff:127.0.0.1) is the IPv4 address in disguise.
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(a);
  if (mapped) {
    a = mapped[1] as string;
    family = 4;
  }
  if (family === 0) return `${address} is not an IP address`;
  const type = family === 4 ? "ipv4" : "ipv6";
  if (NEVER.check(a, type)) return `${address} is not a routable address`;
  for (const cls of NETWORK_CLASSES) {
    if (CLASSES[cls].check(a, type) && !allow.includes(cls))
      return `${address} is a ${cls} address (allow it with UTD_WEBHOOK_ALLOW_NETWORKS=${cls})`;
  }
  return undefined;
}

/**
 * Checks a target URL before it is stored: http(s) only, and a literal IP (or `localhost`) must be allowed.
 * Names are checked again on every connection by {@link guardedLookup}, so DNS cannot point one elsewhere later.
 */
export function refusedUrl(url: string, allow: readonly NetworkClass[]): string | undefined {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return "not a URL";
  }
  if (u.protocol !== "http:" && u.protocol !== "https:") return "only http and https URLs are allowed";
  if (u.username || u.password) return "credentials in the URL are not allowed";
  const host = u.hostname.replace(/^\[|\]$/g, "");
  if (host === "localhost" || host.endsWith(".localhost")) return refusedAddress("127.0.0.1", allow);
  if (isIP(host)) return refusedAddress(host, allow);
  return undefined;
}

/** A resolver for outgoing requests that refuses any address the configuration does not allow. */
export function guardedLookup(allow: readonly NetworkClass[]): LookupFunction {
  return (hostname, options, callback) => {
    dnsLookup(hostname, { ...options, all: true }, (err, addresses) => {
      if (err) return callback(err, "", 4);
      const list = addresses as unknown as { address: string; family: number }[];
      for (const a of list) {
        const why = refusedAddress(a.address, allow);
        if (why) return callback(Object.assign(new Error(`refused target: ${why}`), { code: "ETARGETREFUSED" }), "", 4);
      }
      if ((options as { all?: boolean }).all) return (callback as unknown as (e: null, a: typeof list) => void)(null, list);
      const first = list[0];
      if (!first) return callback(Object.assign(new Error(`no address for ${hostname}`), { code: "ENOTFOUND" }), "", 4);
      callback(null, first.address, first.family);
    });
  };
}
