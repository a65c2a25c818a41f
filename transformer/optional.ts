// The transformer's heavy parts (oxc-parser, ts-morph, esbuild) are optional
// dependencies of durable-async: installed by a plain `npm install`, left out
// of a production image by `--omit=optional`. A build or a hook that needs
// one that is missing says which package to install, instead of Node's
// "Cannot find package" from deep inside a chunk.

export class MissingDependencyError extends Error {
  readonly code = "DURABLE_MISSING_DEPENDENCY";
  constructor(readonly packageName: string, purpose: string, cause?: unknown) {
    super(
      `durable-async needs the package "${packageName}" for ${purpose}, and it is not installed ` +
        `(it is an optional dependency: \`npm install --omit=optional\` leaves it out). Install it: npm install --save-dev ${packageName}`,
      { cause },
    );
    this.name = "MissingDependencyError";
  }
}

/** A module-not-found error about this package (ESM or CommonJS), not about some file inside it. */
export function isMissingPackage(error: unknown, packageName: string): boolean {
  const e = error as { code?: unknown; message?: unknown } | null;
  if (!e || (e.code !== "ERR_MODULE_NOT_FOUND" && e.code !== "MODULE_NOT_FOUND")) return false;
  const message = String(e.message);
  return message.includes(`'${packageName}'`) || message.includes(`"${packageName}"`) || message.includes(`'${packageName}/`) || message.includes(`"${packageName}/`);
}

/** Runs `load` (an import that reaches `packageName`), turning "not installed" into a MissingDependencyError. */
export async function loadOptional<T>(packageName: string, purpose: string, load: () => Promise<T>): Promise<T> {
  try {
    return await load();
  } catch (error) {
    if (isMissingPackage(error, packageName)) throw new MissingDependencyError(packageName, purpose, error);
    throw error;
  }
}

/** The synchronous form, for a `require` (the CommonJS hook). */
export function requireOptional<T>(packageName: string, purpose: string, load: () => T): T {
  try {
    return load();
  } catch (error) {
    if (isMissingPackage(error, packageName)) throw new MissingDependencyError(packageName, purpose, error);
    throw error;
  }
}
