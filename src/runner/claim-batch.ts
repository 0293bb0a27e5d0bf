/**
 * How many items a run claims at a time: enough to keep its requests busy for a few
 * answers of the service, few enough that it never holds much more than it will send
 * soon. What a runner has claimed and not yet sent is work no other runner can take: at
 * the end of a sweep shared by several, the last one to finish is the one that held the
 * most. Concurrency stands in for the rate, which a run cannot know before it starts (it
 * is concurrency over the service's latency), so a claim covers about four rounds of
 * requests; never under 100, so claims stay a few statements a page, never one per item.
 */
export function claimBatchSize(concurrency: number, pageSize: number): number {
  return Math.min(pageSize, Math.max(4 * concurrency, 100));
}
