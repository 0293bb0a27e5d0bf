/**
 * How many items a run claims at a time: enough to keep its requests busy for a few
 * answers of the service, few enough that it never holds much more than it will send
 * soon. What a runner has claimed and not yet sent is work no other runner can take: at
 * the end of a sweep shared by several, the last one to finish is the one that held the
 * most. Concurrency stands in for the rate, which a run cannot know before it starts (it
 * is concurrency over the service's latency), so a claim covers about eight rounds of
 * requests: at C=64 a page of 500 is one claim; at C=8 and a latency of 200 ms, 100 todos are
 * 2.5 s of work. Never under 100, so claims stay a few statements a page, never one per item.
 */
export function claimBatchSize(concurrency: number, pageSize: number): number {
  return Math.min(pageSize, Math.max(8 * concurrency, 100));
}
