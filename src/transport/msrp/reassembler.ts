import type { ByteRange } from './byteRange.js';
import type { ContinuationFlag } from './message.js';
import { type MsrpLimits, resolveMsrpLimits } from './limits.js';

/** One received chunk, as the reassembler needs it. */
export interface ChunkIn {
  readonly messageId: string;
  /** Absent Byte-Range means the whole message in one chunk (section 7.1.1 default 1-*\/*). */
  readonly byteRange: ByteRange | undefined;
  readonly body: Buffer;
  readonly flag: ContinuationFlag;
  readonly contentType: string | undefined;
}

export type ReassemblyResult =
  | { readonly kind: 'partial'; readonly messageId: string; readonly received: number }
  | {
      readonly kind: 'complete';
      readonly messageId: string;
      readonly body: Buffer;
      readonly contentType: string | undefined;
    }
  | { readonly kind: 'aborted'; readonly messageId: string }
  | { readonly kind: 'error'; readonly messageId: string; readonly status: number; readonly code: string };

interface PartialMessage {
  readonly chunks: Array<{ start: number; data: Buffer }>;
  /** Merged covered intervals [start, end], 1-based inclusive, sorted. */
  covered: Array<[number, number]>;
  stored: number;
  total: number | undefined;
  /** End of the `$` chunk, once seen. */
  finalEnd: number | undefined;
  contentType: string | undefined;
}

const REFUSED_MEMORY = 64;

/**
 * Reassembles chunked messages of one session by Message-ID and Byte-Range (RFC 4975
 * section 7.1.1 / 7.3): chunks may interleave with other messages, arrive out of order or
 * twice; `#` aborts; totals may be unknown (`*`). Bounded by maxMessageBytes per message and
 * maxPartialMessages per session; beyond either -> 413 ("stop sending this message").
 */
export class Reassembler {
  private readonly limits: MsrpLimits;
  private readonly partials = new Map<string, PartialMessage>();
  private readonly refused = new Set<string>();

  constructor(limits?: Partial<MsrpLimits>) {
    this.limits = resolveMsrpLimits(limits);
  }

  /** Messages currently being reassembled. */
  get partialCount(): number {
    return this.partials.size;
  }

  /** Takes one chunk; tells whether its message is complete, still partial, aborted or refused. */
  push(c: ChunkIn): ReassemblyResult {
    const id = c.messageId;
    if (this.refused.has(id)) return this.error(id, 413, 'MSRP_MESSAGE_REFUSED', false);
    const start = c.byteRange?.start ?? 1;
    const total = c.byteRange?.total;
    const end = start + c.body.length - 1;
    let p = this.partials.get(id);
    if (c.flag === '#') {
      this.partials.delete(id);
      return { kind: 'aborted', messageId: id };
    }
    if ((total !== undefined && total > this.limits.maxMessageBytes) || end > this.limits.maxMessageBytes) {
      this.partials.delete(id);
      return this.error(id, 413, 'MSRP_MESSAGE_TOO_LARGE', true);
    }
    // Fast path: a whole message in one chunk.
    if (p === undefined && start === 1 && c.flag === '$') {
      return { kind: 'complete', messageId: id, body: c.body, contentType: c.contentType };
    }
    if (p === undefined) {
      if (this.partials.size >= this.limits.maxPartialMessages) {
        return this.error(id, 413, 'MSRP_TOO_MANY_PARTIAL_MESSAGES', true);
      }
      p = { chunks: [], covered: [], stored: 0, total: undefined, finalEnd: undefined, contentType: undefined };
      this.partials.set(id, p);
    }
    if (total !== undefined) p.total = total;
    if (p.contentType === undefined) p.contentType = c.contentType;
    if (c.flag === '$') p.finalEnd = end;
    if (c.body.length > 0 && !isCovered(p.covered, start, end)) {
      if (p.stored + c.body.length > this.limits.maxMessageBytes) {
        this.partials.delete(id);
        return this.error(id, 413, 'MSRP_MESSAGE_TOO_LARGE', true);
      }
      p.chunks.push({ start, data: c.body });
      p.stored += c.body.length;
      p.covered = addInterval(p.covered, start, end);
    }
    const last = p.finalEnd ?? p.total;
    if (last !== undefined && (last === 0 || (p.covered.length === 1 && p.covered[0][0] === 1 && p.covered[0][1] >= last))) {
      this.partials.delete(id);
      const body = Buffer.allocUnsafe(last);
      for (const ch of p.chunks) {
        const off = ch.start - 1;
        if (off < last) ch.data.copy(body, off, 0, Math.min(ch.data.length, last - off));
      }
      return { kind: 'complete', messageId: id, body, contentType: p.contentType };
    }
    return { kind: 'partial', messageId: id, received: p.stored };
  }

  /** Forgets a message (e.g. the application refused it). */
  drop(messageId: string): void {
    this.partials.delete(messageId);
  }

  /** Forgets everything (session ended). */
  clear(): void {
    this.partials.clear();
    this.refused.clear();
  }

  private error(messageId: string, status: number, code: string, remember: boolean): ReassemblyResult {
    if (remember) {
      // Later chunks of a refused message are refused too; the memory is bounded.
      if (this.refused.size >= REFUSED_MEMORY) this.refused.delete(this.refused.values().next().value as string);
      this.refused.add(messageId);
    }
    return { kind: 'error', messageId, status, code };
  }
}

function isCovered(cov: Array<[number, number]>, s: number, e: number): boolean {
  return cov.some(([a, b]) => a <= s && b >= e);
}

function addInterval(cov: Array<[number, number]>, s: number, e: number): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  let ns = s;
  let ne = e;
  let placed = false;
  for (const [a, b] of cov) {
    if (b + 1 < ns) out.push([a, b]);
    else if (a > ne + 1) {
      if (!placed) {
        out.push([ns, ne]);
        placed = true;
      }
      out.push([a, b]);
    } else {
      ns = Math.min(ns, a);
      ne = Math.max(ne, b);
    }
  }
  if (!placed) out.push([ns, ne]);
  return out;
}
