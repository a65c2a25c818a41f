// Job data is user data: an error message, a result or a meta value may hold
// terminal escape sequences ("\u001b[1A\u001b[2K" rewrites lines already
// printed, "\u001b]8;;…" makes links). Everything the CLI prints for people
// goes through terminalSafe, which shows control characters as \uXXXX text.
// --json output stays exact JSON (safeJson escapes the same characters the
// JSON way, which parses back to the same value).

// C0 controls, DEL and C1 controls. \n and \t are kept where the text is multi-line.
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/g;
const CONTROL_KEEP_LINES = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g;

const escaped = (c: string) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`;

/** `text` with control characters shown as `\u001b`; `keepLines` keeps newlines and tabs (multi-line output). */
export function terminalSafe(text: string, options: { keepLines?: boolean } = {}): string {
  return text.replace(options.keepLines ? CONTROL_KEEP_LINES : CONTROL, escaped);
}

/** JSON text with DEL and C1 controls escaped too (JSON.stringify escapes only C0): the same value, nothing a terminal acts on. */
export function safeJson(json: string): string {
  return json.replace(/[\u007f-\u009f]/g, escaped);
}
