// One periodic job of a node's upkeep (heartbeat, rescue, pruning, ...).
// Each service has its own interval and runs alone: the next run is
// scheduled when the previous one ends, so a slow pass never piles up
// behind itself, and a failing pass is reported and tried again next time.

export interface ServiceSpec {
  /** Names the service in logs and node:error events ("rescuing jobs of dead nodes"). */
  during: string;
  intervalMs: number;
  /** Delay before the first run (default: one interval). */
  firstDelayMs?: number;
  /** Spread runs over ±jitter × interval, so a fleet started together does not run in lockstep (default 0). */
  jitter?: number;
  /**
   * Keeps running while the node stops, until its running jobs have finished
   * or been handed back: the lease must hold through the shutdown grace, or
   * another node rescues (and runs again) a job still running here.
   */
  whileJobsRun?: boolean;
  /** One pass. May return a delay (ms) to run again sooner than the interval (a backlog). */
  run(): Promise<number | void>;
}

export class MaintenanceService {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private stopped = true;

  constructor(
    readonly spec: ServiceSpec,
    private readonly onError: (during: string, error: unknown) => void,
  ) {}

  get name(): string {
    return this.spec.during;
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.schedule(this.spec.firstDelayMs ?? this.nextInterval());
  }

  /** Runs a pass now (unless one is running, which is waited for instead). */
  runNow(): Promise<void> {
    if (this.running) return this.running;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.running = this.pass();
    return this.running;
  }

  /** No more passes; resolves once a pass in progress ends. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.running;
  }

  private async pass(): Promise<void> {
    let again: number | void = undefined;
    try {
      again = await this.spec.run();
    } catch (error) {
      this.onError(this.spec.during, error);
    } finally {
      this.running = null;
    }
    if (!this.stopped) this.schedule(typeof again === "number" ? again : this.nextInterval());
  }

  private schedule(ms: number): void {
    // Not unref'd: a worker node stays up until it is stopped, even with notifications off.
    this.timer = setTimeout(() => {
      this.timer = null;
      this.running = this.pass();
    }, Math.max(0, ms));
  }

  private nextInterval(): number {
    const jitter = this.spec.jitter ?? 0;
    return this.spec.intervalMs * (1 - jitter + Math.random() * 2 * jitter);
  }
}
