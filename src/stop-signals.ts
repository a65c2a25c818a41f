import type { Logger } from "./logger.js";

/**
 * SIGTERM/SIGINT handling of a node. The first signal stops gracefully
 * (running jobs get the grace), then re-raises it so the process ends with
 * the signal's exit status. A second one while stopping cuts the grace
 * short (`hurry`: running jobs go back to other nodes now, their attempt
 * counted). A third gets Node's default (immediate exit). Returns the
 * function that removes the handlers.
 */
export function installStopSignals(deps: { logger: Logger; stop: () => Promise<void>; hurry: () => void }): () => void {
  const installed: Array<[NodeJS.Signals, () => void]> = [];
  const remove = () => {
    for (const [signal, handler] of installed.splice(0)) process.removeListener(signal, handler);
  };
  let received = 0;
  for (const signal of ["SIGTERM", "SIGINT"] as NodeJS.Signals[]) {
    const handler = () => {
      received++;
      if (received === 1) {
        deps.logger.info(`durable: ${signal} received; stopping gracefully (send it again to hand running jobs back now)`);
        void deps.stop().finally(() => {
          remove();
          process.kill(process.pid, signal);
        });
        return;
      }
      deps.logger.warn(`durable: ${signal} received again; handing running jobs back to other nodes now (send it once more to exit at once)`);
      deps.hurry();
      remove();
    };
    process.on(signal, handler);
    installed.push([signal, handler]);
  }
  return remove;
}
