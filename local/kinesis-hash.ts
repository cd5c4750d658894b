/**
 * Which shard Kinesis routes a partition key to: MD5 of the key (UTF-8) read as a 128-bit big-endian
 * integer, in equal hash-key ranges of floor(2^128 / n), the last range taking the remainder (how a new
 * stream of n shards, and kinesalite, split the key space).
 *
 * MD5 of a short key is computed here (RFC 1321, one 64-byte block) because the replay's fast path routes
 * every record and `crypto.hash` costs about a microsecond per call in call overhead alone, as much as
 * parsing the record; longer or non-ASCII keys go to `crypto.hash`. `test/local/kinesis-hash.test.ts`
 * checks the two agree.
 */
import { hash } from "node:crypto";

/** Per-round shift amounts (RFC 1321, 3.4). */
const S = [
  7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22, 5, 9, 14, 20, 5, 9, 14, 20, 5, 9, 14, 20, 5, 9,
  14, 20, 4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23, 6, 10, 15, 21, 6, 10, 15, 21, 6, 10, 15,
  21, 6, 10, 15, 21,
];
/** T[i] = floor(2^32 * abs(sin(i + 1))) (RFC 1321, 3.4). */
const T = Int32Array.from({ length: 64 }, (_, i) => Math.floor(2 ** 32 * Math.abs(Math.sin(i + 1))) | 0);
const block = new Int32Array(16);

const swap32 = (x: number): number =>
  (((x & 0xff) << 24) | ((x & 0xff00) << 8) | ((x >>> 8) & 0xff00) | (x >>> 24)) >>> 0;

/**
 * The first 8 bytes of MD5(key) as two unsigned 32-bit big-endian words [high, low], for keys of at most
 * 55 ASCII characters; undefined otherwise.
 */
export function md5Prefix(key: string): [number, number] | undefined {
  const n = key.length;
  if (n > 55) return undefined;
  block.fill(0);
  for (let i = 0; i < n; i++) {
    const c = key.charCodeAt(i);
    if (c > 0x7f) return undefined;
    block[i >> 2]! |= c << ((i & 3) * 8);
  }
  block[n >> 2]! |= 0x80 << ((n & 3) * 8);
  block[14] = n * 8;
  let a = 0x67452301;
  let b = 0xefcdab89 | 0;
  let c = 0x98badcfe | 0;
  let d = 0x10325476;
  for (let i = 0; i < 64; i++) {
    let f: number;
    let g: number;
    if (i < 16) {
      f = (b & c) | (~b & d);
      g = i;
    } else if (i < 32) {
      f = (d & b) | (~d & c);
      g = (5 * i + 1) & 15;
    } else if (i < 48) {
      f = b ^ c ^ d;
      g = (3 * i + 5) & 15;
    } else {
      f = c ^ (b | ~d);
      g = (7 * i) & 15;
    }
    const x = (a + f + T[i]! + block[g]!) | 0;
    const s = S[i]!;
    a = d;
    d = c;
    c = b;
    b = (b + ((x << s) | (x >>> (32 - s)))) | 0;
  }
  // The digest is A, B, C, D (each little-endian); read big-endian, its first words are the swapped A and B.
  return [swap32((a + 0x67452301) | 0), swap32((b + 0xefcdab89) | 0)];
}

const TWO_128 = 1n << 128n;

/** MD5 of a string (UTF-8), hex. */
export const md5Hex = (s: string): string => hash("md5", s, "hex");

/** The shard index of `partitionKey` on a stream of `shardCount` shards with equal hash-key ranges. */
export function shardIndexOf(partitionKey: string, shardCount: number): number {
  if (shardCount <= 1) return 0;
  const prefix = md5Prefix(partitionKey);
  if (prefix !== undefined) {
    // The top 64 bits locate the range unless they sit within rounding distance of a boundary.
    const x = ((prefix[0] * 2 ** 32 + prefix[1]) / 2 ** 64) * shardCount;
    const i = Math.floor(x);
    if (x - i > 1e-6 && x - i < 1 - 1e-6) return Math.min(i, shardCount - 1);
  }
  const h = BigInt(`0x${hash("md5", partitionKey, "hex")}`);
  return Math.min(Number(h / (TWO_128 / BigInt(shardCount))), shardCount - 1);
}
