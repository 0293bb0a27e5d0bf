/**
 * What is usual for a job: how many notifications its runs send, learned from its own
 * run history (job_runs), per time of day. Pure, so the shapes it must accept (zone
 * bursts, weekends, a catch-up after an outage) are unit-tested without a database.
 *
 * The statistic, and why (docs/operating.md, "The brake on a storm"):
 * - Runners that start within a minute of each other are one round (a parallel sweep,
 *   or four pods of one tick): they share one tick's work, so the round counts once.
 * - A round's count covers the time since the round before it: its rate is count per
 *   minute of that time, so a catch-up after an outage of four hours, which covers four
 *   hours, is four hours' worth, not a storm.
 * - Each 15-minute slot of the (UTC) day keeps the median rate of its rounds over the
 *   last 14 days: a zone's burst recurs at its slot every day and is usual there; the
 *   median ignores a day that went wrong and the weekends (4 days in 14) at a third.
 * - The usual rate at a slot is the largest median within an hour either side: a burst
 *   moves by an hour when its zone changes clocks, and a run is not exactly on its tick.
 * - What is usual for a run is that rate summed over the time since the previous round
 *   (held ones included: a held storm is still owed, and must not look like hours of
 *   work); with no history for those slots it is 0, and only --hold-min applies.
 */

export interface PastRun {
  /** The instant the run was as of (--at, else its start). */
  at: Date;
  /** What it counted to send, or undefined for a run that is a boundary only (held, approved, --no-hold). */
  count: number | undefined;
}

const MINUTE_MS = 60_000;
const SLOT_MINUTES = 15;
const SLOTS_PER_DAY = (24 * 60) / SLOT_MINUTES;
/** Runs this close after a round's first run belong to it. */
export const ROUND_MS = 60_000;
/** How far back the history reads. */
export const HISTORY_DAYS = 14;
/** A slot's usual rate is the largest median within this many slots either side (an hour). */
const NEIGHBOUR_SLOTS = 4;
/** A gap longer than this is not summed further: a job stopped for a week starts from its floor again. */
const MAX_GAP_MS = 7 * 24 * 3600 * 1000;

interface Round {
  at: number;
  count: number | undefined;
}

/** Runs started within ROUND_MS of a round's first run are that round; its count is the largest of theirs. */
export function toRounds(runs: readonly PastRun[]): Round[] {
  const rounds: Round[] = [];
  for (const run of [...runs].sort((a, b) => a.at.getTime() - b.at.getTime())) {
    const at = run.at.getTime();
    const last = rounds.at(-1);
    if (last && at - last.at < ROUND_MS) {
      if (run.count !== undefined) last.count = Math.max(last.count ?? 0, run.count);
    } else {
      rounds.push({ at, count: run.count });
    }
  }
  return rounds;
}

export const slotOf = (ms: number) => Math.floor((((ms % 86_400_000) + 86_400_000) % 86_400_000) / (SLOT_MINUTES * MINUTE_MS));

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** Per slot of the day, the median rate (notifications per minute) of the rounds that ended in it. */
export function slotMedians(rounds: readonly Round[]): Array<number | undefined> {
  const rates: number[][] = Array.from({ length: SLOTS_PER_DAY }, () => []);
  for (let i = 1; i < rounds.length; i += 1) {
    const round = rounds[i]!;
    if (round.count === undefined) continue;
    const minutes = Math.max(1, (round.at - rounds[i - 1]!.at) / MINUTE_MS);
    rates[slotOf(round.at)]!.push(round.count / minutes);
  }
  return rates.map((slot) => (slot.length > 0 ? median(slot) : undefined));
}

/** The usual rate at a slot: the largest median within an hour either side (0 where none is known). */
export function usualRate(medians: ReadonlyArray<number | undefined>, slot: number): number {
  let rate = 0;
  for (let d = -NEIGHBOUR_SLOTS; d <= NEIGHBOUR_SLOTS; d += 1) {
    rate = Math.max(rate, medians[(slot + d + SLOTS_PER_DAY) % SLOTS_PER_DAY] ?? 0);
  }
  return rate;
}

/**
 * How many notifications are usual for a run as of `now`, given the job's past runs (the
 * run itself and those of its round left out by the caller or by ROUND_MS): the usual
 * rate summed over the time since the previous round. 0 without a previous round.
 */
export function usualCount(past: readonly PastRun[], now: Date): number {
  const since = now.getTime() - HISTORY_DAYS * 24 * 3600 * 1000;
  const rounds = toRounds(past.filter((run) => run.at.getTime() >= since && run.at.getTime() <= now.getTime() - ROUND_MS));
  const previous = rounds.at(-1);
  if (!previous) return 0;
  const medians = slotMedians(rounds);
  const end = now.getTime();
  let t = Math.max(previous.at, end - MAX_GAP_MS);
  let total = 0;
  while (t < end) {
    // Pieces end on slot boundaries; each takes the rate of the slot its end falls in, as a sample of a run ending there does.
    const next = Math.min(end, (Math.floor(t / (SLOT_MINUTES * MINUTE_MS)) + 1) * SLOT_MINUTES * MINUTE_MS);
    total += usualRate(medians, slotOf(next)) * ((next - t) / MINUTE_MS);
    t = next;
  }
  return Math.round(total);
}

/** The count above which a run holds: `factor` times usual, never below `min`. */
export function holdThreshold(usual: number, options: { factor: number; min: number }): number {
  return Math.max(options.min, Math.ceil(options.factor * usual));
}
