/**
 * The engines a VM runs calls on (each a module instance with its sandbox): the active one
 * and a spare. An engine is dropped when V8 unwound it in the middle of QuickJS (native
 * stack overflow) or it aborted (a QuickJS assertion): the module's JavaScript side may be
 * mid-update, which the memory snapshot does not cover. The spare takes over at once and a
 * new spare is built in the background (~50 ms).
 */
import type { Logger } from "../logger.ts";
import type { CallSandbox } from "./sandbox.ts";

export class EnginePool {
  private current: CallSandbox;
  private currentRetired = false;
  private spare: CallSandbox | undefined;
  private building: Promise<void> | undefined;
  private retiredCount = 0;

  private constructor(
    private readonly build: () => Promise<CallSandbox>,
    private readonly logger: Logger,
    active: CallSandbox,
    spare: CallSandbox,
  ) {
    this.current = active;
    this.spare = spare;
  }

  static async create(build: () => Promise<CallSandbox>, logger: Logger): Promise<EnginePool> {
    const [active, spare] = await Promise.all([build(), build()]);
    return new EnginePool(build, logger, active, spare);
  }

  get active(): CallSandbox {
    return this.current;
  }

  /** The spare, for work that may break it before the pool is used (the start-up check). */
  get spareEngine(): CallSandbox | undefined {
    return this.spare;
  }

  get retired(): number {
    return this.retiredCount;
  }

  /**
   * Drops the active engine for the spare and starts building a new spare. Without a spare
   * (a second fault while one is being built) the retired engine keeps serving until the new
   * one is ready; calls it cannot run fail as "internal".
   */
  retireActive(cause: unknown): void {
    this.retiredCount++;
    this.logger.warn("contract engine retired", { reason: cause instanceof Error ? cause.message : String(cause), spare: this.spare !== undefined });
    if (this.spare !== undefined) {
      this.current = this.spare;
      this.spare = undefined;
    } else {
      this.currentRetired = true;
    }
    this.buildSpare();
  }

  private buildSpare(): void {
    if (this.building !== undefined) return;
    this.building = this.build().then(
      (engine) => {
        this.building = undefined;
        if (this.currentRetired) {
          this.current = engine;
          this.currentRetired = false;
          this.buildSpare();
        } else {
          this.spare = engine;
        }
      },
      (err: unknown) => {
        this.building = undefined;
        this.logger.error("cannot build a spare contract engine", { reason: err instanceof Error ? err.message : String(err) });
      },
    );
  }

  /** Resolves once no engine is being built. */
  async settled(): Promise<void> {
    while (this.building !== undefined) await this.building;
  }
}
