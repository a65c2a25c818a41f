// Task stubs for durable steps, written by hand as the transformer emits
// them (docs/INTERNALS.md). Plain .mjs importing dist/, so worker processes
// load the same file. `effects` records every side effect, to count them.
import { __durableTask, durable } from "../../dist/src/index.js";

const def = (id, captures, run, line = 1) =>
  __durableTask({ id, hash: "h-" + id, caller: { file: "test/support/steps-tasks.mjs", fn: "steps", line, column: 1 }, source: "() => …", captures, kind: "async", run });

export const effects = [];
const thrown = new Set();
/** Each test's schema numbers its jobs from 1: forget what earlier tests' jobs did. */
export function reset() {
  effects.length = 0;
  thrown.clear();
}

/** A child with a side effect. */
export const child = def("steps#child", ["n"], ({ n }) => {
  effects.push(`child ${n}`);
  return n * 10;
});

/** A child that fails for good. */
export const failingChild = def("steps#failingChild", ["n"], ({ n }) => {
  effects.push(`failing ${n}`);
  throw new Error(`child ${n} failed`);
});

/** Awaits three children; with failOnce, throws once after they all finished (the retry must reuse them). */
export const parentOfThree = def("steps#parentOfThree", ["failOnce"], async ({ failOnce }) => {
  const { jobId } = durable.context();
  effects.push(`parent ${jobId} ran`);
  const results = await durable.awaitAll([1, 2, 3].map((n) => durable.async(child, { n })));
  if (failOnce && !thrown.has(jobId)) {
    thrown.add(jobId);
    throw new Error("parent fails once after its children finished");
  }
  return results;
});

/** durable.run in sequence, with an inline step between. */
export const sequence = def("steps#sequence", [], async () => {
  const a = await durable.run(child, { n: 1 });
  const stamp = await durable.step(() => {
    effects.push("inline step");
    return { at: new Date(0), a };
  });
  const b = await durable.run(child, { n: 2 });
  return { a, b, stamp };
});

/** Sleeps durably between two inline steps. */
export const sleeper = def("steps#sleeper", ["ms"], async ({ ms }) => {
  await durable.step(() => effects.push("before sleep"));
  await durable.sleep(ms);
  await durable.step(() => effects.push("after sleep"));
  return "woke";
});

/** Takes a different first step on its replay: the journal must refuse it. */
export const diverges = def("steps#diverges", [], async () => {
  const { jobId } = durable.context();
  const first = !thrown.has(jobId);
  thrown.add(jobId);
  if (first) {
    await durable.run(child, { n: 1 });
    throw new Error("retry me");
  }
  await durable.run(failingChild, { n: 1 });
  return "unreachable";
}, 60);

/** Awaits a child that fails; the error is the child's, on every replay. */
export const awaitsFailure = def("steps#awaitsFailure", [], async () => {
  try {
    await durable.run(failingChild, { n: 7 }, { maxAttempts: 1 });
    return "no error";
  } catch (error) {
    return { name: error.name, code: error.code };
  }
});

/** A fan-out of `count` children awaited together. */
export const fanOut = def("steps#fanOut", ["count"], async ({ count }) => {
  const handles = [];
  for (let i = 0; i < count; i++) handles.push(durable.async(child, { n: i }));
  const results = await durable.awaitAll(handles);
  return results.reduce((a, b) => a + b, 0);
});

/**
 * Two children, then code between steps that hangs on the first attempt
 * (the test kills its process there), then a third child. A rescue replays
 * it on another process: the first two children come from the journal.
 */
export const crashBetweenSteps = def("steps#crashBetweenSteps", [], async () => {
  const { jobId, attempt } = durable.context();
  const [a, b] = await durable.awaitAll([durable.async(child, { n: 1 }), durable.async(child, { n: 2 })]);
  const marked = await durable.step(() => `marked by ${process.pid}`);
  if (attempt === 1) {
    process.send?.({ betweenSteps: jobId, pid: process.pid });
    await new Promise((resolve) => setTimeout(resolve, 60_000));
  }
  const c = await durable.run(child, { n: 3 });
  return { sum: a + b + c, marked, finishedBy: process.pid };
});

/** Runs until its signal aborts (a cancel). */
export const blockingChild = def("steps#blockingChild", [], () => {
  const { signal } = durable.context();
  effects.push("blocking started");
  return new Promise((_, reject) => signal.addEventListener("abort", () => reject(signal.reason), { once: true }));
});

/** Awaits a blocking child; reports how the await ended. */
export const awaitsBlocking = def("steps#awaitsBlocking", [], async () => {
  const handle = await durable.async(blockingChild, {});
  try {
    return await durable.await(handle);
  } catch (error) {
    return { name: error.name, code: error.code, jobId: error.jobId };
  }
});

/** A parent whose child itself awaits a blocking grandchild. */
export const grandparent = def("steps#grandparent", [], async () => durable.run(awaitsBlocking, {}));

/** durable.bulk inside a job: its children are steps too. */
export const bulkParent = def("steps#bulkParent", [], async () => {
  const handles = await durable.bulk(() => {
    for (const n of [4, 5]) durable.async(child, { n });
  });
  return durable.awaitAll(handles);
});

/** Outlives its timeout, then tries to enqueue a child and take a step: both refused, the error kept in `effects`. */
export const zombie = def("steps#zombie", ["ms"], async ({ ms }) => {
  const { signal } = durable.context();
  await new Promise((r) => setTimeout(r, ms));
  for (const call of [() => durable.async(child, { n: 9 }), () => durable.step(() => effects.push("zombie step ran"))]) {
    try {
      await call();
      effects.push("zombie call went through");
    } catch (error) {
      effects.push(`${error.code} aborted=${signal.aborted}`);
    }
  }
});

/** Awaits a child no node runs (datasync) with a timeout; returns how the await ended. */
export const timedAwait = def("steps#timedAwait", ["ms"], async ({ ms }) => {
  const handle = await durable.async(child, { n: 7 }, { nodeType: "datasync" });
  try {
    return await durable.await(handle, { timeout: ms });
  } catch (error) {
    effects.push(`timed out ${error.code}`);
    return error.code;
  }
});
