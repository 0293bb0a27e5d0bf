import { randomUUID } from 'node:crypto';
import type { DeliveryFilter } from '../commands/deliveries/delivery.type.js';

/** A re-arm preview: the exact keys a person saw, which the re-arm then applies to. */
export interface RearmPreview {
  id: string;
  filter: DeliveryFilter;
  keys: string[];
  createdBy: string;
  expiresAt: number;
}

/** How long a preview may be applied, and how many are kept (the oldest go first). */
const PREVIEW_MS = 15 * 60_000;
const MAX_PREVIEWS = 200;

/**
 * Previews held in memory for a quarter of an hour: a re-arm re-arms what its preview
 * listed, not what matches the filter by then (Sidekiq issue 5997). Each is applied once.
 */
export function createRearmPreviews(now: () => number = Date.now) {
  const previews = new Map<string, RearmPreview>();
  return {
    create(filter: DeliveryFilter, keys: string[], createdBy: string): RearmPreview {
      const preview = { id: randomUUID(), filter, keys, createdBy, expiresAt: now() + PREVIEW_MS };
      previews.set(preview.id, preview);
      if (previews.size > MAX_PREVIEWS) previews.delete(previews.keys().next().value as string);
      return preview;
    },
    /** The preview, removed so it is applied once; undefined when unknown or expired. */
    take(id: string): RearmPreview | undefined {
      const preview = previews.get(id);
      previews.delete(id);
      return preview && preview.expiresAt > now() ? preview : undefined;
    },
    get(id: string): RearmPreview | undefined {
      const preview = previews.get(id);
      return preview && preview.expiresAt > now() ? preview : undefined;
    },
  };
}

export type RearmPreviews = ReturnType<typeof createRearmPreviews>;
