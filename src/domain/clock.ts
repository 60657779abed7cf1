/**
 * The one source of time. Everything that compares or stores times (tokens, sessions, schedules, jobs, policies)
 * asks a Clock, so tests move time forward instead of sleeping.
 */
export interface Clock {
  /** Epoch milliseconds. */
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };

/** A clock that moves only when told to (tests, simulations). */
export class ManualClock implements Clock {
  constructor(private t: number = Date.now()) {}
  now(): number {
    return this.t;
  }
  /** Moves time forward by `ms` (never backwards). */
  advance(ms: number): number {
    if (ms < 0) throw new Error('a clock does not go backwards');
    this.t += ms;
    return this.t;
  }
  set(t: number): void {
    this.t = t;
  }
}
