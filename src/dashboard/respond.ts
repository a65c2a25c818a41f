import type { IncomingMessage, ServerResponse } from "node:http";
import type { Html } from "./html.js";

// Writing responses and reading request bodies, with the headers every
// dashboard response carries.

export const SECURITY_HEADERS = {
  "content-security-policy": "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
  "x-frame-options": "DENY",
  "x-content-type-options": "nosniff",
  // same-origin, not no-referrer: with no-referrer Chromium sends "Origin: null" on form posts.
  "referrer-policy": "same-origin",
  "cache-control": "no-store",
};

export function send(res: ServerResponse, status: number, body: Html, headers: Record<string, string> = {}): void {
  const text = String(body).startsWith("<!doctype") ? String(body) : `<!doctype html><meta charset="utf-8"><title>durable</title>${body}`;
  res.writeHead(status, { ...SECURITY_HEADERS, "content-type": "text/html; charset=utf-8", ...headers });
  res.end(text);
}

export function sendAsset(res: ServerResponse, type: string, body: string): void {
  res.writeHead(200, { "content-type": `${type}; charset=utf-8`, "cache-control": "public, max-age=300", "x-content-type-options": "nosniff" });
  res.end(body);
}

/** A 303 to a path on this origin: `location` must come from a normalized path (see requestUrl). */
export function redirect(res: ServerResponse, location: string, headers: Record<string, string> = {}): void {
  if (!/^\/(?![\/\\])/.test(location)) throw new Error(`refusing to redirect to ${JSON.stringify(location)}: not a path on this origin`);
  res.writeHead(303, { ...SECURITY_HEADERS, ...headers, location });
  res.end();
}

const ORIGIN = "http://dashboard.invalid";

/**
 * The request's path and query on a fixed origin. Runs of slashes and
 * backslashes collapse to one slash first: `//evil.example/x` is a path here,
 * never a host, so links and redirects built from it stay on this origin.
 */
export function requestUrl(req: IncomingMessage): URL {
  // Express strips the mount path from req.url; originalUrl keeps it.
  const raw = (req as { originalUrl?: string }).originalUrl ?? req.url ?? "/";
  const queryAt = raw.indexOf("?");
  const path = (queryAt < 0 ? raw : raw.slice(0, queryAt)).replace(/[\\/]+/g, "/");
  return new URL(`${ORIGIN}${path.startsWith("/") ? "" : "/"}${path}${queryAt < 0 ? "" : raw.slice(queryAt)}`);
}

/** Parses a path the dashboard built itself (a form's return address) on the same fixed origin. */
export function pathUrl(path: string): URL {
  return new URL(path, ORIGIN);
}

/** Reads an urlencoded body (64 KB cap), or takes one a framework already parsed. */
export async function readForm(req: IncomingMessage): Promise<URLSearchParams> {
  const parsed = (req as { body?: unknown }).body;
  // express.json() leaves `{}` on requests it did not parse; only a body with fields counts as parsed.
  if (parsed && typeof parsed === "object" && !Buffer.isBuffer(parsed) && (Object.keys(parsed).length > 0 || req.readableEnded)) {
    return new URLSearchParams(Object.entries(parsed as Record<string, unknown>).map(([k, v]): [string, string] => [k, String(v)]));
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > 65_536) throw new Error("request body too large");
    chunks.push(chunk as Buffer);
  }
  return new URLSearchParams(Buffer.concat(chunks).toString("utf8"));
}
