/** One item a source found, ready to become a run. */
export interface SourceItem {
  /** Stable within the source: a file name, or the item's id field. */
  itemId: string;
  /** sha256 (hex) of the item's content: a new hash is a new version. */
  hash: string;
  /** The run's input text. */
  input: string;
}

/** What one fetch of a source returned. */
export interface SourceBatch {
  items: SourceItem[];
  /** Items present but unusable (too large, no id, no input): counted as failed, never submitted. */
  failures: Array<{ itemId: string; reason: string }>;
  /** Items present but not ready yet (a file still being written): kept in memory, looked at next poll. */
  pending: string[];
  /**
   * True when the batch is the whole source, so a remembered item that is not in it was deleted
   * and is forgotten. False for an incremental page, which lists only what is new.
   */
  snapshot: boolean;
  /** The cursor to send next time; undefined keeps the current one. */
  nextCursor?: string;
}

/** Fetches a source's current items; throws `PollFetchError` when the source cannot be read. */
export interface PollSource {
  fetch(request: { cursor?: string; signal: AbortSignal }): Promise<SourceBatch>;
  /** Whether fetching again with `nextCursor` may return more (an incremental feed). */
  readonly paged: boolean;
}
