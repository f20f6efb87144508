import { createHash, timingSafeEqual } from "node:crypto";

/** Compares two secrets in constant time; hashing first gives equal lengths, so the expected length never leaks. */
export function constantTimeEqual(a: string, b: string): boolean {
  return timingSafeEqual(createHash("sha256").update(a).digest(), createHash("sha256").update(b).digest());
}
