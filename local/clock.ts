/**
 * Simulated time for local mode. Thirty days must run in seconds, so nothing in the local run reads
 * the wall clock: the simulation owns `SimulatedClock`, and `ScheduleTimer` tells it when the
 * evaluator's EventBridge schedule (`rate(...)` or `cron(...)`) would have fired.
 */
import { Cron } from "croner";

/** Raised for a schedule expression EventBridge would reject or local mode cannot simulate. */
export class ScheduleExpressionError extends Error {
  constructor(expression: string, why: string) {
    super(`invalid schedule expression "${expression}": ${why}`);
    this.name = "ScheduleExpressionError";
  }
}

/** Monotonic simulated clock (epoch ms). */
export class SimulatedClock {
  private t: number;

  constructor(start: number) {
    this.t = start;
  }

  now(): number {
    return this.t;
  }

  /** Moves time forward; moving backwards is a bug in the simulation. */
  advanceTo(t: number): void {
    if (t < this.t) throw new RangeError(`simulated clock cannot go back from ${this.t} to ${t}`);
    this.t = t;
  }

  /** A `Date.now`-like function to inject where a handler wants a clock. */
  readonly nowFn = (): number => this.t;
}

const UNIT_MS: Record<string, number> = {
  minute: 60_000,
  minutes: 60_000,
  hour: 3_600_000,
  hours: 3_600_000,
  day: 86_400_000,
  days: 86_400_000,
};

/** Next fire time strictly after `after`, per an EventBridge schedule expression. */
export type NextFire = (after: number) => number;

/**
 * Parses `rate(6 hours)` or `cron(0 0/6 * * ? *)` (EventBridge's 6 fields: minutes hours
 * day-of-month month day-of-week year; evaluated in UTC). Rates are aligned to the epoch, so runs
 * are reproducible.
 */
export function parseSchedule(expression: string): NextFire {
  const rate = /^rate\(\s*(\d+)\s+([a-z]+)\s*\)$/.exec(expression.trim());
  if (rate) {
    const unit = UNIT_MS[rate[2]!];
    const n = Number(rate[1]);
    if (!unit) throw new ScheduleExpressionError(expression, `unknown unit "${rate[2]}"`);
    if (n <= 0) throw new ScheduleExpressionError(expression, "rate must be positive");
    const period = n * unit;
    return (after) => (Math.floor(after / period) + 1) * period;
  }
  const cron = /^cron\((.*)\)$/.exec(expression.trim());
  if (cron) {
    const fields = cron[1]!.trim().split(/\s+/);
    if (fields.length !== 6) throw new ScheduleExpressionError(expression, "cron needs 6 fields");
    const [min, hour, dom, month, dow, year] = fields as [string, string, string, string, string, string];
    if (year !== "*") throw new ScheduleExpressionError(expression, "only year '*' is simulated");
    // EventBridge allows a numeric start before a step ("0/12"); croner wants a range ("0-23/12").
    const stepFrom = (field: string, max: number) => field.replace(/^(\d+)\/(\d+)$/, `$1-${max}/$2`);
    const pattern = [
      stepFrom(min, 59),
      stepFrom(hour, 23),
      dom === "?" ? "*" : stepFrom(dom, 31),
      stepFrom(month, 12),
      dow === "?" ? "*" : dow,
    ].join(" ");
    let job: Cron;
    try {
      // EventBridge numbers weekdays 1-7 from Sunday (Quartz style).
      job = new Cron(pattern, { timezone: "UTC", paused: true, alternativeWeekdays: true });
    } catch (e) {
      throw new ScheduleExpressionError(expression, (e as Error).message);
    }
    return (after) => {
      const next = job.nextRun(new Date(after));
      if (!next) throw new ScheduleExpressionError(expression, "never fires again");
      return next.getTime();
    };
  }
  throw new ScheduleExpressionError(expression, "expected rate(...) or cron(...)");
}

/** Fire times of a schedule, consumed as simulated time advances. */
export class ScheduleTimer {
  private nextAt: number;
  private readonly next: NextFire;

  constructor(expression: string, start: number) {
    this.next = parseSchedule(expression);
    this.nextAt = this.next(start);
  }

  /** Fire times in (previous call, t], in order. */
  due(t: number): number[] {
    const out: number[] = [];
    while (this.nextAt <= t) {
      out.push(this.nextAt);
      this.nextAt = this.next(this.nextAt);
    }
    return out;
  }

  peek(): number {
    return this.nextAt;
  }
}
