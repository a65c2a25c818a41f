// Worker child processes: fork, wait for messages, stop (and only ever kill
// the pid we forked, if it does not stop by itself).
import { fork } from "node:child_process";
import { fileURLToPath } from "node:url";
import { sleep } from "./clock.mjs";

const CHILD = fileURLToPath(new URL("../child.mjs", import.meta.url));

/** Every worker child still running, so an interrupted run can end them (by pid). */
export const liveChildren = new Set();

export function forkWorker(system, env, { execArgv = [] } = {}) {
  const child = fork(CHILD, [system], { env: { ...process.env, BENCH_ENV: JSON.stringify(env) }, execArgv, stdio: ["ignore", "inherit", "inherit", "ipc"] });
  liveChildren.add(child);
  child.once("exit", () => liveChildren.delete(child));
  const listeners = new Set();
  const backlog = [];
  child.on("message", (m) => {
    if (listeners.size === 0) backlog.push(m);
    for (const l of [...listeners]) l(m);
  });
  const api = {
    child,
    send: (m) => child.send(m),
    on(listener) {
      listeners.add(listener);
      for (const m of backlog.splice(0)) listener(m);
      return () => listeners.delete(listener);
    },
    waitFor(type, timeoutMs = 60_000) {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => (off(), reject(new Error(`${system} worker: no "${type}" within ${timeoutMs} ms`))), timeoutMs);
        const onExit = (code) => (off(), reject(new Error(`${system} worker exited with ${code} before "${type}"`)));
        child.once("exit", onExit);
        const off0 = api.on((m) => {
          if (m.type === type) off(), resolve(m);
        });
        const off = () => (clearTimeout(timer), off0(), child.off("exit", onExit));
      });
    },
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((r) => child.once("exit", r));
      child.send({ type: "stop" });
      await Promise.race([exited, sleep(15_000)]);
      if (child.exitCode === null && child.signalCode === null) {
        child.kill("SIGKILL");
        await exited;
      }
    },
  };
  return api;
}
