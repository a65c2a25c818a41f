# One-off generator for the initial fixture inputs (kept for reference; the
# fixture directories are the source of truth once created).
import os, textwrap
base = os.path.join(os.path.dirname(__file__), "fixtures")
H = 'import { durable } from "durable-async";\n'
cases = {}
def case(name, body, ext="ts", header=H):
    cases[name] = (ext, header + textwrap.dedent(body).lstrip("\n"))

# ---- transformations ----
case("basic-arrow", """
export async function registerUser(email: string) {
  const user = { id: 1, email };
  durable.async(() => sendWelcomeEmail(user.email, user.id));
  return user;
}
function sendWelcomeEmail(email: string, id: number) {}
""")
case("options-passthrough", """
export function importOrg(org: { id: string }, url: string) {
  durable.async(() => importCsv(org.id, url), {
    nodeType: "datasync",
    maxAttempts: 3,
    timeout: "10m",
    meta: { orgId: org.id },
  });
}
declare function importCsv(id: string, url: string): Promise<void>;
""")
case("no-captures", """
export function tick() {
  durable.async(() => cleanup());
}
function cleanup() {}
""")
case("captures-sorted", """
export function sync(zeta: number, alpha: string, mid: boolean) {
  durable.async(() => log(zeta, alpha, mid, zeta));
}
declare function log(...args: unknown[]): void;
""")
case("destructured-parameters", """
export function charge({ orderId, amount }: { orderId: string; amount: number }, [first]: string[]) {
  durable.async(() => pay(orderId, amount, first));
}
declare function pay(id: string, amount: number, note: string): void;
""")
case("shadowed-durable-local", """
export function notShadowed(id: string) {
  durable.async(() => work(id));
}
export function shadowed(id: string) {
  const durable = { async: (fn: () => void) => fn() };
  durable.async(() => work(id));
}
declare function work(id: string): void;
""")
case("shadowed-capture-name", """
const config = { retries: 3 };
export function run(flag: boolean) {
  durable.async(() => use(config.retries));
  {
    const config = { retries: 5 };
    durable.async(() => use(config.retries, flag));
  }
}
declare function use(...a: unknown[]): void;
""")
case("lambda-calls-method-on-capture", """
export function tagAll(user: { id: number; tags: string[] }, ids: string[]) {
  durable.async(() => ids.forEach((id) => user.tags.push(id.toUpperCase())));
}
""")
case("hoisted-function-used-before-definition", """
export function signup(email: string) {
  durable.async(() => welcome(email));
}
function welcome(email: string) {
  return helper(email);
}
function helper(s: string) { return s; }
""")
case("loop-for-of-binding", """
export function fanOut(users: { id: number }[]) {
  for (const user of users) {
    durable.async(() => notify(user.id));
  }
}
declare function notify(id: number): void;
""")
case("loop-for-let-binding", """
export function batches(total: number) {
  for (let offset = 0; offset < total; offset += 100) {
    durable.async(() => processBatch(offset));
  }
}
declare function processBatch(offset: number): void;
""")
case("nested-durable-async", """
export async function run(orderId: string) {
  await durable.async(async () => {
    const invoice = await render(orderId);
    durable.async(() => send(invoice, orderId));
  });
}
declare function render(id: string): Promise<string>;
declare function send(url: string, id: string): void;
""")
case("renamed-import", """
export function go(id: string) {
  d.async(() => work(id));
}
declare function work(id: string): void;
""", header='import { durable as d } from "durable-async";\n')
case("namespace-import", """
export function go(id: string) {
  DA.durable.async(() => work(id));
}
declare function work(id: string): void;
""", header='import * as DA from "durable-async";\n')
case("class-method", """
export class OrderService {
  charge(order: { id: string; total: number }) {
    durable.async(() => capture(order.id, order.total));
    durable.async(() => receipt(order.id));
  }
  static refund(orderId: string) {
    durable.async(() => capture(orderId, -1));
  }
  constructor(region: string) {
    durable.async(() => warm(region));
  }
}
declare function capture(id: string, total: number): void;
declare function receipt(id: string): void;
declare function warm(region: string): void;
""")
case("object-literal-method", """
export const billing = {
  charge(orderId: string) {
    durable.async(() => capture(orderId));
  },
  refund: (orderId: string) => {
    durable.async(() => capture(orderId));
  },
};
declare function capture(id: string): void;
""")
case("export-default-function", """
export default function (userId: number) {
  durable.async(() => audit(userId));
}
declare function audit(id: number): void;
""")
case("export-default-arrow", """
export default async (userId: number) => {
  durable.async(() => audit(userId));
};
declare function audit(id: number): void;
""")
case("optional-chaining-capture", """
export function maybe(user?: { profile?: { email?: string } }) {
  durable.async(() => mail(user?.profile?.email ?? "none"));
}
declare function mail(to: string): void;
""")
case("spread-capture", """
export function merge(base: { a: number }, extra: number[]) {
  durable.async(() => save({ ...base, b: 2 }, [...extra, 4]));
}
declare function save(o: object, xs: number[]): void;
""")
case("async-closure-await", """
export async function pipeline(id: string) {
  durable.async(async () => {
    const a = await step1(id);
    const b = await step2(a);
    return b;
  });
}
declare function step1(id: string): Promise<string>;
declare function step2(s: string): Promise<number>;
""")
case("function-expression-closure", """
export function legacy(id: string) {
  durable.async(function () {
    return work(id);
  });
  durable.async(async function named() {
    return work(id);
  });
}
declare function work(id: string): void;
""")
case("durable-run", """
export async function render(orderId: string) {
  const url = await durable.run(() => renderInvoice(orderId), { timeout: "30s" });
  return url;
}
declare function renderInvoice(id: string): Promise<string>;
""")
case("durable-cron-module-level", """
durable.cron("*/5 * * * *", () => pollAll(), { name: "bloodwork", tz: "UTC" });
durable.cron("0 * * * *", () => pollAll());
function pollAll() {}
""")
case("named-task", """
export function importOrg(orgId: string) {
  durable.async(() => importCsv(orgId), { name: "import-csv" });
}
declare function importCsv(id: string): void;
""")
case("module-level-call", """
const startupId = "boot";
durable.async(() => warm(startupId));
declare function warm(id: string): void;
""")
case("imports-not-captured", """
import { sendEmail } from "./mailer.js";
import * as path from "node:path";
export function notify(to: string) {
  durable.async(() => sendEmail(path.join("/tmp", to)));
}
""", header=H)
case("globals-not-captured", """
export function stamp(id: string) {
  durable.async(() => console.log(id, Date.now(), JSON.stringify({ id }), process.pid, Math.max(1, 2)));
}
""")
case("type-only-references", """
export function typed(id: string) {
  interface Local { id: string }
  type Alias = { n: number };
  const value = { id };
  durable.async(() => {
    const copy: Local = { id: value.id };
    const n = { n: 1 } as Alias;
    const t: typeof value = copy;
    return [t, n];
  });
}
""")
case("superjson-types-ok", """
export function rich(id: bigint) {
  const when = new Date();
  const map = new Map<string, number>([["a", 1]]);
  const set = new Set<string>(["x"]);
  const re = /a+/g;
  const url = new URL("https://example.com");
  const err = new Error("boom");
  const bytes = new Uint8Array(4);
  const nothing: string | undefined = undefined;
  durable.async(() => use(id, when, map, set, re, url, err, bytes, nothing));
}
declare function use(...a: unknown[]): void;
""")
case("registered-class-ok", """
import SuperJSON from "superjson";
export class Money {
  constructor(public cents: number) {}
  format() { return String(this.cents); }
}
SuperJSON.registerClass(Money);
export function bill(amount: Money) {
  durable.async(() => charge(amount.cents));
}
declare function charge(c: number): void;
""")
case("arrow-in-variable", """
export const handler = async (req: { body: { id: string } }) => {
  const id = req.body.id;
  durable.async(() => work(id));
};
declare function work(id: string): void;
""")
case("ordinal-per-declaration", """
export function a(x: number) {
  durable.async(() => f(x));
  durable.async(() => f(x + 1));
}
export function b(x: number) {
  durable.async(() => f(x));
}
declare function f(n: number): void;
""")
case("catch-binding-capture", """
export async function safe() {
  try {
    await risky();
  } catch (error) {
    const message = String(error);
    durable.async(() => report(message));
  }
}
declare function risky(): Promise<void>;
declare function report(m: string): void;
""")
case("unrelated-durable-methods", """
export async function main(id: string) {
  await durable.start({ nodeType: "api" });
  const job = await durable.async(() => work(id));
  await durable.await(job);
  await durable.stop();
}
declare function work(id: string): void;
""")
case("let-assigned-before-call", """
export function prepare(input: string) {
  let value = input.trim();
  value = value.toLowerCase();
  durable.async(() => work(value));
}
declare function work(v: string): void;
""")
case("shorthand-property-in-closure", """
export function pack(user: { id: number }, note: string) {
  durable.async(() => save({ user, note }));
}
declare function save(o: object): void;
""")
case("warning-any-capture", """
export function loose(payload: any) {
  durable.async(() => work(payload));
}
declare function work(p: unknown): void;
""")
case("warning-unknown-capture", """
export function loose(payload: unknown) {
  durable.async(() => work(payload));
}
declare function work(p: unknown): void;
""")
case("tsx-component", """
export function Button(props: { id: string }) {
  const id = props.id;
  return <button onClick={() => durable.async(() => track(id))}>go</button>;
}
declare function track(id: string): void;
declare namespace JSX { interface IntrinsicElements { button: any } }
""", ext="tsx")
case("javascript-file", """
export function go(id) {
  durable.async(() => work(id));
}
function work(id) { return id; }
""", ext="js")
case("trivia-and-comments", """
export function go(id: string) {
  durable.async(
    // why: the worker retries this
    () => /* inline */ work(
      id,
    ),
    { maxAttempts: 2 }, // trailing
  );
}
declare function work(id: string): void;
""")
case("getter-and-setter-enclosure", """
export class Account {
  #id = "a";
  set email(value: string) {
    durable.async(() => verify(value));
  }
  get summary() {
    const snapshot = "s";
    durable.async(() => verify(snapshot));
    return snapshot;
  }
}
declare function verify(v: string): void;
""")
case("local-const-arrow-inside-closure", """
export function go(items: number[]) {
  durable.async(() => {
    const double = (n: number) => n * 2;
    function triple(n: number) { return n * 3; }
    return items.map(double).map(triple);
  });
}
""")
case("this-in-nested-function-ok", """
export class A {
  run(id: string) {
    durable.async(() => {
      const helper = { id, get() { return this.id; } };
      return helper.get();
    });
  }
}
""")

# ---- errors ----
case("error-this", """
export class Mailer {
  to = "x@example.com";
  send() {
    durable.async(() => deliver(this.to));
  }
}
declare function deliver(to: string): void;
""")
case("error-super", """
class Base { name() { return "b"; } }
export class Child extends Base {
  go() {
    durable.async(() => deliver(super.name()));
  }
}
declare function deliver(to: string): void;
""")
case("error-arguments", """
export function legacy(a: string) {
  durable.async(() => deliver(arguments[0]));
}
declare function deliver(to: string): void;
""")
case("error-closure-parameters", """
export function go() {
  durable.async((id: string) => deliver(id));
}
declare function deliver(to: string): void;
""")
case("error-captured-local-function", """
export function go(id: string) {
  durable.async(() => format(id));
  function format(s: string) { return s.trim(); }
}
""")
case("error-captured-local-arrow", """
export function go(id: string) {
  const format = (s: string) => s.trim();
  durable.async(() => format(id));
}
""")
case("error-captured-local-class", """
export function go(id: string) {
  class Formatter { run(s: string) { return s; } }
  durable.async(() => new Formatter().run(id));
}
""")
case("error-reassigned-after-call", """
export function go(input: string) {
  let value = input;
  durable.async(() => work(value));
  value = "changed";
}
declare function work(v: string): void;
""")
case("error-reassigned-inside-closure", """
export function go() {
  var count = 0;
  durable.async(() => {
    count += 1;
    return count;
  });
}
""")
case("error-reassigned-in-loop", """
export function go(items: string[]) {
  let last = "";
  for (const item of items) {
    last = item;
    durable.async(() => work(last));
  }
}
declare function work(v: string): void;
""")
case("error-parameter-reassigned-after-call", """
export function go(id: string) {
  durable.async(() => work(id));
  id = id.trim();
}
declare function work(v: string): void;
""")
case("error-async-as-value", """
export function go(ids: string[]) {
  const enqueue = durable.async;
  ids.map(durable.run);
  return enqueue;
}
""")
case("error-destructured-async", """
export function go() {
  const { async } = durable;
  return async;
}
""")
case("error-non-literal-function", """
const task = () => work("x");
export function go() {
  durable.async(task);
  durable.cron("* * * * *", task);
}
declare function work(v: string): void;
""")
case("error-capture-function-type", """
export function go(callback: () => void) {
  durable.async(() => callback());
}
""")
case("error-capture-object-with-methods", """
export function go(user: { id: number; greet(): string }) {
  durable.async(() => work(user.id));
}
declare function work(v: number): void;
""")
case("error-capture-promise", """
export function go(pending: Promise<string>) {
  durable.async(async () => work(await pending));
}
declare function work(v: string): void;
""")
case("error-capture-symbol", """
export function go() {
  const key = Symbol("k");
  durable.async(() => work(key));
}
declare function work(v: unknown): void;
""")
case("error-capture-stream", """
import { createReadStream } from "node:fs";
export function go(path: string) {
  const stream = createReadStream(path);
  durable.async(() => work(stream));
}
declare function work(v: unknown): void;
""")
case("error-capture-socket", """
import type { Socket } from "node:net";
export function go(socket: Socket) {
  durable.async(() => work(socket.remoteAddress));
}
declare function work(v: unknown): void;
""")
case("error-capture-weak-collections", """
export function go(cache: WeakMap<object, string>, seen: WeakSet<object>) {
  durable.async(() => work(cache, seen));
}
declare function work(...v: unknown[]): void;
""")
case("error-capture-unregistered-class", """
class Money {
  constructor(public cents: number) {}
}
export function go(amount: Money) {
  durable.async(() => work(amount.cents));
}
declare function work(v: number): void;
""")
case("error-capture-nested-path", """
import type { Socket } from "node:net";
export function go(user: { id: number; session: { socket: Socket } }) {
  durable.async(() => work(user.id));
}
declare function work(v: number): void;
""")
case("error-name-not-literal", """
export function go(name: string) {
  durable.async(() => work(), { name });
}
declare function work(): void;
""")
case("error-duplicate-name", """
export function go() {
  durable.async(() => work(), { name: "same" });
  durable.async(() => work(), { name: "same" });
}
declare function work(): void;
""")
case("error-unknown-node-type", """
export function go() {
  durable.async(() => work(), { nodeType: "wrokre" });
}
declare function work(): void;
""")
case("error-this-in-function-expression", """
export function go() {
  durable.async(function () {
    return work(this);
  });
}
declare function work(v: unknown): void;
""")

for name, (ext, text) in cases.items():
    d = os.path.join(base, name)
    os.makedirs(d, exist_ok=True)
    p = os.path.join(d, "input." + ext)
    if not os.path.exists(p):
        open(p, "w").write(text)
print(len(cases))
