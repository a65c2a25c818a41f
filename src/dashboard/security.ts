import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import type { IncomingMessage } from "node:http";

// Access control for the dashboard. A token (when configured) is accepted as
// a bearer header or as an HttpOnly cookie set by visiting ?token=…; every
// action is a POST carrying a CSRF token derived from a per-process secret
// and the caller's credential, so a page on another origin cannot forge one.

export const COOKIE = "durable_dashboard";

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

export class Guard {
  private readonly secret = randomBytes(32);
  constructor(readonly token: string | undefined) {}

  authorized(req: IncomingMessage): boolean {
    if (!this.token) return true;
    const given = presentedToken(req);
    return given !== undefined && equalSecret(given, this.token);
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
  return host === "localhost" || host === "::1" || host === "[::1]" || /^127\.\d+\.\d+\.\d+$/.test(host);
}
