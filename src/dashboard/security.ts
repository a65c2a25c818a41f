import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import type { IncomingMessage } from "node:http";
import { ConfigError } from "../errors.js";
import type { Logger } from "../events/index.js";

// Access control for the dashboard; it fails closed. Three modes:
//
// - token: every request presents it, as a bearer header or as an HttpOnly
//   cookie set by visiting ?token=… once;
// - loopback (no token): only clients on this machine, and only when the Host
//   header is a loopback name too: a page on another site that rebinds its
//   DNS name to 127.0.0.1 reaches the port, but with its own name as Host;
// - open (no token, `allowUnauthenticated: true`): for a handler mounted
//   behind the application's own authentication.
//
// Every action is a POST carrying a CSRF token derived from a per-process
// secret and the caller's credential, so a page on another origin cannot forge one.

export const COOKIE = "durable_dashboard";
const MIN_TOKEN = 12;

export type AccessMode = "token" | "loopback" | "open";

export interface AccessOptions {
  /** Required on every request when set (bearer header, or ?token= once to set a cookie). */
  token?: string;
  /** Without a token, serve every client instead of loopback ones only (put your own authentication in front). */
  allowUnauthenticated?: boolean;
}

export interface Refusal {
  status: 401 | 403;
  title: string;
  detail: string;
}

export function equalSecret(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

export function readCookie(req: IncomingMessage, name: string): string | undefined {
  const header = req.headers.cookie;
  if (!header) return undefined;
  for (const part of header.split(";")) {
    const eq = part.indexOf("=");
    if (eq > 0 && part.slice(0, eq).trim() === name) {
      try {
        return decodeURIComponent(part.slice(eq + 1).trim());
      } catch {
        return undefined;
      }
    }
  }
  return undefined;
}

export function presentedToken(req: IncomingMessage): string | undefined {
  const auth = req.headers.authorization;
  if (auth?.startsWith("Bearer ")) return auth.slice(7).trim();
  return readCookie(req, COOKIE);
}

/** The access mode the options ask for; a token too short to resist guessing is refused. */
export function accessMode(options: AccessOptions): { mode: AccessMode; token?: string } {
  const { token, allowUnauthenticated } = options;
  if (token !== undefined && token !== null && typeof token !== "string") throw new ConfigError(`Invalid dashboard \`token\`: expected a string, got ${typeof token}.`);
  if (allowUnauthenticated !== undefined && typeof allowUnauthenticated !== "boolean") throw new ConfigError("Invalid dashboard option `allowUnauthenticated`: expected true or false.");
  // An empty token (an unset environment variable) means no token: loopback only, never "anyone".
  if (token) {
    if (token.length < MIN_TOKEN) throw new ConfigError(`The dashboard token is too short: use at least ${MIN_TOKEN} random characters (e.g. \`openssl rand -hex 16\`).`);
    return { mode: "token", token };
  }
  return { mode: allowUnauthenticated ? "open" : "loopback" };
}

export function announceAccess(mode: AccessMode, logger: Logger): void {
  if (mode === "loopback") {
    logger.warn("durable dashboard: no token set, so it serves clients on this machine only (loopback address and a loopback Host header). Set `token` to serve other machines, or `allowUnauthenticated: true` if your server authenticates requests before this handler.");
  } else if (mode === "open") {
    logger.warn("durable dashboard: allowUnauthenticated is on: anyone who reaches this handler can read job data and retry, cancel or delete jobs. Authenticate requests before they reach it.");
  }
}

export class Guard {
  private readonly secret = randomBytes(32);
  constructor(readonly mode: AccessMode, readonly token: string | undefined) {}

  tokenValid(given: string | null | undefined): boolean {
    return this.token !== undefined && typeof given === "string" && equalSecret(given, this.token);
  }

  /** Why this request may not see the dashboard, or null when it may. */
  refusal(req: IncomingMessage): Refusal | null {
    if (this.mode === "open") return null;
    if (this.mode === "token") {
      if (this.tokenValid(presentedToken(req))) return null;
      return { status: 401, title: "Token required", detail: "Open this page with ?token=… (the dashboard's token) or send Authorization: Bearer …." };
    }
    if (!isLoopbackAddress(req.socket.remoteAddress)) {
      return { status: 403, title: "Loopback only", detail: "This dashboard has no token, so it serves clients on its own machine only. Give it a token to open it from elsewhere." };
    }
    if (!isLoopbackHostHeader(req.headers.host)) {
      return { status: 403, title: "Unexpected host name", detail: "This dashboard has no token, so it answers only to localhost, 127.0.0.1 or [::1] in the address bar (a foreign name may be a DNS rebinding attack). Open it by one of those, or give it a token." };
    }
    return null;
  }

  /** Bound to the credential in use, so a token from one session is useless with another. */
  csrfFor(req: IncomingMessage): string {
    return createHmac("sha256", this.secret).update(`csrf:${presentedToken(req) ?? ""}`).digest("base64url");
  }

  csrfValid(req: IncomingMessage, given: unknown): boolean {
    return typeof given === "string" && given.length > 0 && equalSecret(given, this.csrfFor(req));
  }

  /**
   * A cross-site form post carries a foreign Origin; reject it even before the
   * token check. An absent or opaque ("null") origin is left to the CSRF token.
   */
  sameOrigin(req: IncomingMessage): boolean {
    const origin = req.headers.origin;
    if (!origin || origin === "null") return true;
    try {
      const host = new URL(origin).host;
      const forwarded = String(req.headers["x-forwarded-host"] ?? "").split(",")[0]!.trim();
      return host === req.headers.host || (forwarded !== "" && host === forwarded);
    } catch {
      return false;
    }
  }
}

export function isLoopback(host: string): boolean {
  const name = host.toLowerCase().replace(/\.$/, "");
  return name === "localhost" || name.endsWith(".localhost") || name === "::1" || name === "[::1]" || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(name);
}

function isLoopbackAddress(address: string | undefined): boolean {
  if (!address) return false;
  return isLoopback(address.replace(/^::ffff:/i, ""));
}

/** The Host header's name (port dropped) is a loopback name; a missing header is refused. */
export function isLoopbackHostHeader(header: string | undefined): boolean {
  if (!header) return false;
  const match = /^(\[[^\]]+\]|[^:]+)(?::\d{1,5})?$/.exec(header.trim());
  return match !== null && isLoopback(match[1]!);
}
