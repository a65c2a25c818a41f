// Task ids and body hashes must survive unrelated edits (DESIGN §3): moving a
// call site or adding code above it keeps both; editing the closure changes
// only the hash.
import { beforeAll, describe, expect, it } from "vitest";
import { createProject, transform } from "../../transformer/index.js";

const project = createProject({ root: "/virtual" });
const header = `import { durable } from "durable-async";\ndeclare function send(id: number, n: number): void;\n`;
const body = (closure: string, above = "", between = "") => `${header}${above}
export function notify(user: { id: number }) {
  const n = 1;${between}
  durable.async(${closure});
}
`;

async function site(source: string) {
  const result = await transform("/virtual/src/notify.ts", source, { project, root: "/virtual" });
  expect(result.diagnostics).toEqual([]);
  expect(result.tasks).toHaveLength(1);
  return result.tasks[0]!;
}

describe("task id stability", () => {
  const closure = "() => send(user.id, n)";
  let original: Awaited<ReturnType<typeof site>>;
  beforeAll(async () => {
    original = await site(body(closure));
  });

  it("builds the id from module path, declaration path and ordinal", async () => {
    expect(original.id).toBe("src/notify.ts#notify#0");
    expect(original.hash).toMatch(/^[0-9a-f]{16}$/);
  });

  it("keeps id and hash when the call moves down 20 lines", async () => {
    const moved = await site(body(closure, "", "\n".repeat(20)));
    expect(moved.caller.line).toBe(original.caller.line + 20);
    expect(moved.id).toBe(original.id);
    expect(moved.hash).toBe(original.hash);
  });

  it("keeps id and hash when code is added above", async () => {
    const above = "export function other() { return 42; }\nconst unrelated = [1, 2, 3];\n";
    const shifted = await site(body(closure, above));
    expect(shifted.id).toBe(original.id);
    expect(shifted.hash).toBe(original.hash);
  });

  it("ignores formatting and comments in the hash", async () => {
    const reformatted = await site(body("() =>\n    // comment\n    send( user.id,   n )"));
    expect(reformatted.hash).toBe(original.hash);
  });

  it("changes only the hash when the closure body is edited", async () => {
    const edited = await site(body("() => send(user.id, n + 1)"));
    expect(edited.id).toBe(original.id);
    expect(edited.hash).not.toBe(original.hash);
  });

  it("changes the hash when the capture names change", async () => {
    const edited = await site(body("() => send(user.id, 1)"));
    expect(edited.captures).toEqual(["user"]);
    expect(edited.hash).not.toBe(original.hash);
  });

  it("sees line breaks that change what the code means (semicolon insertion)", async () => {
    const hashOf = async (closure: string) => (await site(body(closure))).hash;
    // `return⏎x` returns undefined; `a⏎++b` is `a; ++b`, `a++⏎b` is `a++; b`.
    expect(await hashOf("() => {\n  return\n  user.id;\n}")).not.toBe(await hashOf("() => {\n  return user.id;\n}"));
    expect(await hashOf("() => {\n  let a = n, b = n;\n  a\n  ++b;\n  return [a, b];\n}"))
      .not.toBe(await hashOf("() => {\n  let a = n, b = n;\n  a++\n  b;\n  return [a, b];\n}"));
    expect(await hashOf("() => {\n  return /* a\n comment */ user.id;\n}")).not.toBe(await hashOf("() => {\n  return user.id;\n}"));
    // Line breaks anywhere else are formatting.
    expect(await hashOf("() => {\n  return send(\n    user.id,\n    n,\n  );\n}")).toBe(await hashOf("() => { return send(user.id, n,); }"));
  });

  it("uses the literal name option as the id", async () => {
    const named = await site(body(`${closure}, { name: "notify-user" }`));
    expect(named.id).toBe("notify-user");
  });
});
