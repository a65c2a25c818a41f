import { createCipheriv, createDecipheriv, createHash, createHmac, randomBytes } from "node:crypto";
import { DurableError, InvalidOptionError } from "../errors.js";
import type { Codec, SealPlace } from "./codec.js";

// Encryption at rest for captures and results.
// The superjson payload is sealed with AES-256-GCM into an envelope stored in
// the same column:
//
//   { "enc": "v2", "kid": "3f2a…", "iv": "<b64 12 bytes>", "tag": "<b64 16 bytes>", "ct": "<b64>" }
//
// The key id names the key, so rotation is "encrypt with the current key,
// decrypt with any key in the ring". GCM's tag makes tampering detectable,
// and a v2 envelope's additional data is its place (column and row, see
// SealPlace), so a sealed value copied into another row or column fails
// authentication too. v1 envelopes (a constant additional data) still open.
// Rows written before encryption was turned on (no envelope) still decode, so
// enabling it needs no migration of queued jobs.

export interface EncryptionKey {
  id: string;
  key: Buffer;
}

export interface KeyRing {
  current: EncryptionKey;
  /** Every key that may decrypt, current first. */
  all: EncryptionKey[];
}

export type KeyInput = string | Uint8Array | { id?: string; key: string | Uint8Array };

export interface EncryptionOptions {
  /** The key new captures and results are sealed with: base64 of 32 bytes, optionally "keyId:base64". */
  key: KeyInput;
  /** Older keys, still accepted for decryption (rotation). */
  previousKeys?: KeyInput[];
}

export interface EncryptedEnvelope {
  /** v1: bound to nothing but the key (older rows); v2: bound to its place. */
  enc: "v1" | "v2";
  kid: string;
  iv: string;
  tag: string;
  ct: string;
}

export const ENCRYPTION_ENV = { key: "DURABLE_ENCRYPTION_KEY", previous: "DURABLE_ENCRYPTION_KEYS_PREVIOUS" } as const;

/** A stored value could not be decrypted here: missing key, wrong key or tampered data. */
export class DecryptionError extends DurableError {
  readonly keyId: string | null;
  constructor(reason: "missing-key" | "unknown-key" | "tampered" | "malformed", keyId: string | null, detail = "") {
    const messages = {
      "missing-key": `the value is encrypted (key id "${keyId}") but this process has no encryption key. Set ${ENCRYPTION_ENV.key} or durable.start({ encryption: { key } }).`,
      "unknown-key": `the value is encrypted with key id "${keyId}", which is not among this process's keys. Add that key to ${ENCRYPTION_ENV.previous} (or encryption.previousKeys).`,
      tampered: `the encrypted value (key id "${keyId}") failed authentication: it was modified, moved from another row or column, or the key with that id is wrong. Restore the row or check the key.`,
      malformed: `the encrypted envelope is malformed${detail ? ` (${detail})` : ""}. Expected { enc: "v2", kid, iv, tag, ct }.`,
    } as const;
    super(reason === "malformed" ? "DURABLE_ENCRYPTION_MALFORMED" : reason === "tampered" ? "DURABLE_ENCRYPTION_TAMPERED" : "DURABLE_ENCRYPTION_KEY", `Cannot decrypt: ${messages[reason]}`);
    this.keyId = keyId;
  }
}

const V1_AAD = Buffer.from("durable-async:v1");
const ENVELOPES = new Set(["v1", "v2"]);

/** The additional data a value is sealed with: v1's constant, or v2's column and row. */
function additionalData(version: "v1" | "v2", place: SealPlace): Buffer {
  if (version === "v1") return V1_AAD;
  // A JSON array, so no choice of parts can shift one into the next.
  return Buffer.from(`durable-async:v2${JSON.stringify([place.column, ...place.row])}`, "utf8");
}
const KEY_ID = /^[A-Za-z0-9_.-]{1,64}$/;

function keyIdOf(key: Buffer): string {
  // Derived ids let an operator set just a key; 8 bytes of a hash reveal nothing usable about a 256-bit key.
  return createHash("sha256").update("durable-async key id\0").update(key).digest("hex").slice(0, 16);
}

function decodeKeyText(option: string, text: string): Buffer {
  const trimmed = text.trim();
  const bytes = /^[0-9a-fA-F]{64}$/.test(trimmed) ? Buffer.from(trimmed, "hex") : Buffer.from(trimmed, "base64");
  if (bytes.length !== 32 || (!/^[0-9a-fA-F]{64}$/.test(trimmed) && !/^[A-Za-z0-9+/_-]+={0,2}$/.test(trimmed))) {
    throw new InvalidOptionError(option, `expected 32 random bytes as base64 (44 characters) or hex (64), got ${bytes.length} bytes. Generate one with: node -e "console.log(crypto.randomBytes(32).toString('base64'))"`);
  }
  return bytes;
}

export function parseKey(option: string, input: KeyInput): EncryptionKey {
  let id: string | undefined;
  let material: string | Uint8Array;
  if (typeof input === "string") {
    const colon = input.indexOf(":");
    if (colon > 0) [id, material] = [input.slice(0, colon), input.slice(colon + 1)];
    else material = input;
  } else if (input instanceof Uint8Array) {
    material = input;
  } else if (typeof input === "object" && input !== null && "key" in input) {
    id = input.id;
    material = input.key;
  } else {
    throw new InvalidOptionError(option, `expected a base64 key string, a 32-byte Buffer or { id, key }, got ${input === null ? "null" : typeof input}.`);
  }
  const key = typeof material === "string" ? decodeKeyText(option, material) : Buffer.from(material);
  if (key.length !== 32) throw new InvalidOptionError(option, `an AES-256 key is 32 bytes, got ${key.length}.`);
  if (id !== undefined && (typeof id !== "string" || !KEY_ID.test(id))) {
    throw new InvalidOptionError(option, `key id ${JSON.stringify(id)} must be 1-64 letters, digits, "_", "." or "-".`);
  }
  return { id: id ?? keyIdOf(key), key };
}

/**
 * The key ring from the start option, else from the environment; null when
 * neither sets a key. `false` turns encryption off even if the environment has a key.
 */
export function resolveEncryption(option: unknown, env: NodeJS.ProcessEnv = process.env): KeyRing | null {
  if (option === false) return null;
  let input: EncryptionOptions;
  if (option === undefined) {
    const key = env[ENCRYPTION_ENV.key];
    if (!key) {
      if (env[ENCRYPTION_ENV.previous]) throw new InvalidOptionError(ENCRYPTION_ENV.previous, `is set but ${ENCRYPTION_ENV.key} is not; set the current key too.`);
      return null;
    }
    const previous = (env[ENCRYPTION_ENV.previous] ?? "").split(",").map((s) => s.trim()).filter(Boolean);
    input = { key, previousKeys: previous };
  } else if (typeof option === "object" && option !== null && !Array.isArray(option) && "key" in option) {
    const unknown = Object.keys(option).filter((k) => k !== "key" && k !== "previousKeys");
    if (unknown.length) throw new InvalidOptionError(`encryption.${unknown[0]}`, "is not an encryption option (use key and previousKeys).");
    input = option as EncryptionOptions;
    if (input.previousKeys !== undefined && !Array.isArray(input.previousKeys)) {
      throw new InvalidOptionError("encryption.previousKeys", "expected an array of keys.");
    }
  } else {
    throw new InvalidOptionError("encryption", "expected { key, previousKeys? } or false.");
  }
  const current = parseKey("encryption.key", input.key);
  const all = [current];
  (input.previousKeys ?? []).forEach((k, i) => {
    const parsed = parseKey(`encryption.previousKeys[${i}]`, k);
    const clash = all.find((existing) => existing.id === parsed.id);
    if (clash && !clash.key.equals(parsed.key)) throw new InvalidOptionError(`encryption.previousKeys[${i}]`, `key id "${parsed.id}" is used by two different keys.`);
    if (!clash) all.push(parsed);
  });
  return { current, all };
}

/** True for a value stored by the encrypting codec. The dashboard uses it to show captures as redacted. */
export function isEncrypted(stored: unknown): stored is EncryptedEnvelope {
  return typeof stored === "object" && stored !== null && !Array.isArray(stored) && ENVELOPES.has((stored as { enc?: unknown }).enc as string);
}

/** What a viewer without the key may show in place of an encrypted value. */
export function redacted(stored: EncryptedEnvelope): { redacted: true; keyId: string } {
  return { redacted: true, keyId: String(stored.kid) };
}

/** Seals a payload for one place: it opens only where `place` names (always a v2 envelope). */
export function encryptValue(ring: KeyRing, value: unknown, place: SealPlace): EncryptedEnvelope {
  const iv = randomBytes(12);
  const cipher = createCipheriv("aes-256-gcm", ring.current.key, iv);
  cipher.setAAD(additionalData("v2", place));
  const ct = Buffer.concat([cipher.update(JSON.stringify(value), "utf8"), cipher.final()]);
  return { enc: "v2", kid: ring.current.id, iv: iv.toString("base64"), tag: cipher.getAuthTag().toString("base64"), ct: ct.toString("base64") };
}

const B64 = /^[A-Za-z0-9+/]*={0,2}$/;

/** Opens a value read from `place`; a v2 envelope sealed for another place fails as tampered. */
export function decryptValue(ring: KeyRing | null, envelope: EncryptedEnvelope, place: SealPlace): unknown {
  const { enc, kid, iv, tag, ct } = envelope as unknown as Record<string, unknown>;
  if (enc !== "v1" && enc !== "v2") throw new DecryptionError("malformed", typeof kid === "string" ? kid : null, `unknown version ${JSON.stringify(enc)}`);
  // A v1 value where only v2 can have been written was moved there: it fails like any other misplaced value.
  if (enc === "v1" && place.v1 === false) throw new DecryptionError("tampered", typeof kid === "string" ? kid : null);
  if (typeof kid !== "string" || typeof iv !== "string" || typeof tag !== "string" || typeof ct !== "string") {
    throw new DecryptionError("malformed", typeof kid === "string" ? kid : null, "kid, iv, tag and ct must be strings");
  }
  if (!B64.test(iv) || !B64.test(tag) || !B64.test(ct)) throw new DecryptionError("malformed", kid, "iv, tag and ct must be base64");
  if (!ring) throw new DecryptionError("missing-key", kid);
  const key = ring.all.find((k) => k.id === kid);
  if (!key) throw new DecryptionError("unknown-key", kid);
  const ivBytes = Buffer.from(iv, "base64");
  const tagBytes = Buffer.from(tag, "base64");
  if (ivBytes.length !== 12 || tagBytes.length !== 16) throw new DecryptionError("malformed", kid, "iv must be 12 bytes and tag 16");
  let plain: string;
  try {
    const decipher = createDecipheriv("aes-256-gcm", key.key, ivBytes, { authTagLength: 16 });
    decipher.setAAD(additionalData(enc, place));
    decipher.setAuthTag(tagBytes);
    plain = Buffer.concat([decipher.update(Buffer.from(ct, "base64")), decipher.final()]).toString("utf8");
  } catch {
    throw new DecryptionError("tampered", kid);
  }
  return JSON.parse(plain);
}

/**
 * The codec every instance uses. Without a key it stores plaintext, and an
 * encrypted row fails with a clear DecryptionError instead of running with
 * an envelope for captures. Closures, not methods: callers pass
 * `codec.decode` around unbound.
 */
export function createCodec(ring: KeyRing | null): Codec {
  return {
    sealed: ring !== null,
    encode: ring ? (value, place) => encryptValue(ring, value, place) : (value) => value,
    decode: (stored, place) => (isEncrypted(stored) ? decryptValue(ring, stored, place) : stored),
    // Keyed by the current key: after a rotation, a unique window open under the old key is not seen (documented).
    digest: ring ? (text) => createHmac("sha256", ring.current.key).update("durable-async unique\0").update(text).digest("hex") : undefined,
  };
}

/**
 * For a viewer (the dashboard): the decrypted payload with the key, a
 * redaction marker without it. `place` is where the value was read from
 * (sealPlaces.captures(row.task_id, row.row_key) or sealPlaces.result(row.id)).
 */
export function revealStored(stored: unknown, ring: KeyRing | null, place: SealPlace): unknown {
  if (!isEncrypted(stored)) return stored;
  if (!ring || !ring.all.some((k) => k.id === stored.kid)) return redacted(stored);
  return decryptValue(ring, stored, place);
}
