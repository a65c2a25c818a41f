// Generates the benchmark app: 500 TypeScript modules (450 plain, 50 with two
// durable call sites each: 100 in all) plus an index. The 450 never mention the
// package, so the plugin must pass them through without parsing.
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";

export const FILES = 450;
export const DURABLE_FILES = 50;

function plainModule(i) {
  return `export interface Record${i} { id: number; name: string; tags: string[]; createdAt: Date }

export class Store${i} {
  private readonly items = new Map<number, Record${i}>();
  add(item: Record${i}): void {
    this.items.set(item.id, { ...item, tags: [...item.tags] });
  }
  find(predicate: (r: Record${i}) => boolean): Record${i}[] {
    return [...this.items.values()].filter(predicate);
  }
}

export function summarize${i}(records: readonly Record${i}[]): string {
  const names = records.map((r) => r.name.trim().toLowerCase());
  const total = records.reduce((n, r) => n + r.tags.length, 0);
  return \`\${names.join(",")}:\${total}\`;
}

export const DEFAULTS_${i} = { retries: ${i % 7}, label: "module-${i}" } as const;
`;
}

function durableModule(i) {
  return `import { durable } from "durable-async";
import { summarize${i}, type Record${i} } from "./m${i}.js";

export async function handle${i}(record: Record${i}, count: number) {
  const label = \`r-\${record.id}\`;
  await durable.async(() => summarize${i}([record]).length + count, { maxAttempts: 3 });
  durable.async(async () => {
    const text = summarize${i}([record]);
    return \`\${label}:\${text}\`;
  });
}
`;
}

export function generate(dir) {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(join(dir, "src"), { recursive: true });
  writeFileSync(join(dir, "package.json"), JSON.stringify({ name: "bench-app", type: "module", private: true }));
  writeFileSync(join(dir, "tsconfig.json"), JSON.stringify({
    compilerOptions: { target: "ES2022", module: "NodeNext", moduleResolution: "NodeNext", strict: true, lib: ["ES2023"], types: [], skipLibCheck: true, noEmit: true },
    include: ["src"],
  }, null, 2));
  const imports = [];
  for (let i = 0; i < FILES; i++) {
    writeFileSync(join(dir, "src", `m${i}.ts`), plainModule(i));
    imports.push(`export * from "./m${i}.js";`);
  }
  for (let i = 0; i < DURABLE_FILES; i++) {
    writeFileSync(join(dir, "src", `task${i}.ts`), durableModule(i));
    imports.push(`export * from "./task${i}.js";`);
  }
  writeFileSync(join(dir, "src", "index.ts"), `${imports.join("\n")}\n`);
  return join(dir, "src", "index.ts");
}
