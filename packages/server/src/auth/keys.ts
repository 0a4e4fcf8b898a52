import { createHash, randomBytes } from "node:crypto";

const KEY_PREFIX = "pdg_";

export function generateApiKey(): string {
  return KEY_PREFIX + randomBytes(24).toString("base64url");
}

/** Keys are long random strings, so one sha256 (no salt, no stretching) is enough to keep them unusable if read. */
export function hashApiKey(key: string): string {
  return createHash("sha256").update(key).digest("hex");
}

export function randomId(length: number, alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"): string {
  const bytes = randomBytes(length);
  let id = "";
  for (const byte of bytes) id += alphabet[byte % alphabet.length];
  return id;
}
