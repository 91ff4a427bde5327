/** A worker's run slots (queue/run-slots.ts): runs at once, FIFO of jobs waiting for slots, and what BullMQ is told. */
import { describe, expect, it } from 'vitest';
import { RunSlots } from './run-slots.ts';

/** Lets promise callbacks run (an acquire resolved by a release). */
const settle = () => new Promise((resolve) => setImmediate(resolve));

describe('run slots', () => {
  it('give jobs waiting for slots their turn in arrival order, a small job never overtaking a big one ahead of it', async () => {
    const slots = new RunSlots(4, () => {});
    const order: string[] = [];
    await slots.acquire(3); // a job of 3 runs: 1 slot left
    const big = slots.acquire(3).then(() => order.push('big (3 runs, arrived first)'));
    const small = slots.acquire(1).then(() => order.push('small (1 run, arrived second)'));
    await settle();
    expect(order).toEqual([]); // the small job fits the free slot but waits behind the big one
    slots.release(1);
    slots.release(1);
    await settle();
    expect(order).toEqual(['big (3 runs, arrived first)']);
    expect(slots.inUse).toBe(4);
    slots.release(1);
    await Promise.all([big, small]);
    expect(order).toEqual(['big (3 runs, arrived first)', 'small (1 run, arrived second)']);
    expect(slots.inUse).toBe(4);
  });

  it('a job with more runs than the worker has slots takes them all, and waits until all are free', async () => {
    const slots = new RunSlots(2, () => {});
    await slots.acquire(1);
    let started = false;
    const huge = slots.acquire(16).then(() => (started = true));
    slots.release(0);
    await settle();
    expect(started).toBe(false);
    slots.release(1);
    await huge;
    expect(slots.inUse).toBe(2);
  });

  it('a freed flow slot is handed over (tryAcquire) only while a slot is free and no job waits', async () => {
    const slots = new RunSlots(2, () => {});
    expect(slots.tryAcquire()).toBe(true);
    await slots.acquire(1);
    expect(slots.tryAcquire()).toBe(false); // full
    const waiting = slots.acquire(1);
    slots.release(1); // goes to the waiting job, not to a hand-over
    await waiting;
    expect(slots.tryAcquire()).toBe(false);
    slots.release(1);
    expect(slots.tryAcquire()).toBe(true);
    expect(slots.inUse).toBe(2);
  });

  it('tell BullMQ one more job only while a slot is free and nobody waits', async () => {
    const told: number[] = [];
    const slots = new RunSlots(2, (jobs) => told.push(jobs));
    expect(told.at(-1)).toBe(1); // idle: fetch one job
    await slots.acquire(1);
    expect(told.at(-1)).toBe(2); // one job running, a slot free: one more
    await slots.acquire(1);
    expect(told.at(-1)).toBe(2); // full: no more than the jobs held
    const third = slots.acquire(1);
    expect(told.at(-1)).toBe(2); // the job BullMQ gave waits for a slot: no further fetch
    slots.release(1);
    slots.jobDone();
    await third;
    expect(told.at(-1)).toBe(2);
    slots.release(2);
    slots.jobDone();
    slots.jobDone();
    expect(told.at(-1)).toBe(1);
  });
});
