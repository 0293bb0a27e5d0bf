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

export interface PreviewLimits {
  /** How long a preview may be applied (default 15 minutes). */
  ageMs?: number;
  /** Previews kept at most; the oldest go first (default 20). */
  maxPreviews?: number;
  /**
   * Keys kept at most over all previews, the oldest previews going first (default 50,000:
   * five full previews, about 8 MB). What bounds the memory: 200 previews of 10,000 keys
   * took the process from 123 to 334 MB, over the Deployment's 256 Mi.
   */
  maxKeys?: number;
}

/**
 * Previews held in memory for a quarter of an hour: a re-arm re-arms what its preview
 * listed, not what matches the filter by then (Sidekiq issue 5997). Each is applied once.
 * A preview pushed out by newer ones answers as expired: preview again.
 */
export function createRearmPreviews(now: () => number = Date.now, limits: PreviewLimits = {}) {
  const ageMs = limits.ageMs ?? 15 * 60_000;
  const maxPreviews = limits.maxPreviews ?? 20;
  const maxKeys = limits.maxKeys ?? 50_000;
  const previews = new Map<string, RearmPreview>();
  let keysHeld = 0;
  const remove = (id: string) => {
    const preview = previews.get(id);
    if (!preview) return;
    previews.delete(id);
    keysHeld -= preview.keys.length;
  };
  const live = (preview: RearmPreview | undefined) => (preview && preview.expiresAt > now() ? preview : undefined);
  return {
    create(filter: DeliveryFilter, keys: string[], createdBy: string): RearmPreview {
      // Insertion order is age order: the expired are at the front.
      for (const preview of previews.values()) {
        if (preview.expiresAt > now()) break;
        remove(preview.id);
      }
      const preview = { id: randomUUID(), filter, keys, createdBy, expiresAt: now() + ageMs };
      previews.set(preview.id, preview);
      keysHeld += keys.length;
      while (previews.size > 1 && (previews.size > maxPreviews || keysHeld > maxKeys)) remove(previews.keys().next().value as string);
      return preview;
    },
    /** The preview, removed so it is applied once; undefined when unknown, expired or pushed out. */
    take(id: string): RearmPreview | undefined {
      const preview = previews.get(id);
      remove(id);
      return live(preview);
    },
    get(id: string): RearmPreview | undefined {
      return live(previews.get(id));
    },
    /** How many previews and keys are held now. */
    held(): { previews: number; keys: number } {
      return { previews: previews.size, keys: keysHeld };
    },
  };
}

export type RearmPreviews = ReturnType<typeof createRearmPreviews>;
