/*
 * The per-byte and per-shingle loops of the near-duplicate step, in plain C.
 *
 * A shared library, not a Python module: dedup/compiled.py loads it with ctypes (which
 * releases the GIL around every call, so worker threads run these loops in parallel) and
 * allocates every output array with numpy before the call. Each function computes exactly
 * what the numpy code of dedup.text and dedup.sketch computes (the tests compare both);
 * the hashing constants come from dedup.text.hashing through dedup_init, so they are
 * written down once. Functions that allocate scratch memory return -1 when it fails.
 */

#define _XOPEN_SOURCE 700 /* pread under -std=c99 */
#define _FILE_OFFSET_BITS 64

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_NGRAM 16

static uint64_t BASE, LENGTH_MULT, MIX_ADD, MIX_MULT1, MIX_MULT2;
static uint64_t NGRAM_MULT[MAX_NGRAM];
static uint8_t CODES[256];
static const uint32_t LEAD = 0xC2 + 1; /* code of the least lead byte word_mask blanks */

/* Set the constants of dedup.text.hashing (base, length multiplier, the three splitmix64
 * constants, then the n-gram multipliers) and the byte codes of word_sets. */
int dedup_init(const uint64_t *consts, int64_t n_ngram, const uint8_t *codes)
{
    if (n_ngram < 1 || n_ngram > MAX_NGRAM)
        return -1;
    BASE = consts[0];
    LENGTH_MULT = consts[1];
    MIX_ADD = consts[2];
    MIX_MULT1 = consts[3];
    MIX_MULT2 = consts[4];
    for (int64_t j = 0; j < n_ngram; j++)
        NGRAM_MULT[j] = consts[5 + j];
    memcpy(CODES, codes, 256);
    return 0;
}

#if defined(__GNUC__) || defined(__clang__)
#define PREFETCH(address) __builtin_prefetch(address)
#else
#define PREFETCH(address) ((void)0)
#endif

/* Signatures are compared 8 slots at a time where the processor can (chosen at load time),
 * 4 elsewhere: the build stays portable. */
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__linux__)
#define EQUAL_SLOTS_CLONES __attribute__((target_clones("avx2", "default")))
#else
#define EQUAL_SLOTS_CLONES
#endif

/* The splitmix64 finalizer of one value (as dedup.text.hashing.splitmix64). */
static inline uint64_t mix(uint64_t x)
{
    x += MIX_ADD;
    x = (x ^ (x >> 30)) * MIX_MULT1;
    x = (x ^ (x >> 27)) * MIX_MULT2;
    return x ^ (x >> 31);
}

/* An open-addressing set of uint64 whose live slots carry the current mark: bumping the
 * mark empties it without touching the slots. */
typedef struct {
    uint64_t size; /* a power of two */
    uint64_t *keys;
    int64_t *stamp;
    int64_t mark;
} table_t;

static int table_init(table_t *t, uint64_t size)
{
    t->size = size;
    t->mark = 0;
    t->keys = malloc(size * sizeof(uint64_t));
    t->stamp = calloc(size, sizeof(int64_t));
    return t->keys && t->stamp ? 0 : -1;
}

static void table_free(table_t *t)
{
    free(t->keys);
    free(t->stamp);
    t->keys = NULL;
    t->stamp = NULL;
}

/* Grow the (emptied) table, if need be, so that n values fill at most half of it. */
static int table_room(table_t *t, int64_t n)
{
    if ((uint64_t)(2 * n) <= t->size)
        return 0;
    uint64_t size = t->size;
    while ((uint64_t)(2 * n) > size)
        size *= 2;
    table_free(t);
    return table_init(t, size);
}

/* Insert x; 0 if it was there already. */
static inline int table_add(table_t *t, uint64_t x)
{
    uint64_t mask = t->size - 1, slot = x & mask;
    while (t->stamp[slot] == t->mark) {
        if (t->keys[slot] == x)
            return 0;
        slot = (slot + 1) & mask;
    }
    t->stamp[slot] = t->mark;
    t->keys[slot] = x;
    return 1;
}

static inline int table_has(const table_t *t, uint64_t x)
{
    uint64_t mask = t->size - 1, slot = x & mask;
    while (t->stamp[slot] == t->mark) {
        if (t->keys[slot] == x)
            return 1;
        slot = (slot + 1) & mask;
    }
    return 0;
}

/* Insert x into a table that grows to stay at most half full (count: its values).
 * Returns 0, or -1 when out of memory. */
static int table_insert(table_t *t, int64_t *count, uint64_t x)
{
    if ((uint64_t)(2 * (*count + 1)) > t->size) {
        table_t bigger;
        if (table_init(&bigger, 2 * t->size) != 0) {
            table_free(&bigger);
            return -1;
        }
        bigger.mark = 1;
        for (uint64_t slot = 0; slot < t->size; slot++)
            if (t->stamp[slot] == t->mark)
                table_add(&bigger, t->keys[slot]);
        table_free(t);
        *t = bigger;
    }
    *count += table_add(t, x);
    return 0;
}

/* Length of the common punctuation or space character at i (U+0080-U+00BF,
 * U+2000-U+206F: not word bytes), else 0. */
static inline int64_t punctuation(const uint8_t *data, int64_t i, int64_t end)
{
    uint8_t b = data[i];
    if (b == 0xC2 && i + 1 < end && data[i + 1] >= 0x80 && data[i + 1] <= 0xBF)
        return 2;
    if (b == 0xE2 && i + 2 < end && (data[i + 1] == 0x80 || data[i + 1] == 0x81))
        return 3;
    return 0;
}

/* Lower-case in place the multi-byte UTF-8 characters of every text (bmp: lower case per
 * code point below U+10000, 0xFFFFFFFF where it is not one character of the same length;
 * astral: nonzero where a code point above has a lower case). special[d] = 1 for the texts
 * that hold such a character: the caller lower-cases them again with str.lower. */
void fold_multibyte(uint8_t *data, const int64_t *starts, const int64_t *ends, int64_t n_docs,
                    const uint32_t *bmp, const uint8_t *astral, uint8_t *special)
{
    for (int64_t d = 0; d < n_docs; d++) {
        int64_t i = starts[d], end = ends[d];
        while (i < end) {
            if (i + 8 <= end) { /* skip ASCII eight bytes at a time */
                uint8_t x = data[i] | data[i + 1] | data[i + 2] | data[i + 3] | data[i + 4]
                            | data[i + 5] | data[i + 6] | data[i + 7];
                if (x < 0x80) {
                    i += 8;
                    continue;
                }
            }
            uint32_t b = data[i];
            if (b < 0x80) {
                i += 1;
                continue;
            }
            uint32_t cp;
            int64_t size;
            if (b >= 0xF0 && i + 3 < end) {
                cp = ((b & 0x07) << 18) | ((uint32_t)(data[i + 1] & 0x3F) << 12)
                     | ((uint32_t)(data[i + 2] & 0x3F) << 6) | (data[i + 3] & 0x3F);
                if (cp >= 0x10000 && cp < 0x110000 && astral[cp - 0x10000]) {
                    special[d] = 1;
                    break;
                }
                i += 4;
                continue;
            }
            if (b >= 0xE0 && i + 2 < end) {
                size = 3;
                cp = ((b & 0x0F) << 12) | ((uint32_t)(data[i + 1] & 0x3F) << 6)
                     | (data[i + 2] & 0x3F);
            } else if (b >= 0xC0 && i + 1 < end) {
                size = 2;
                cp = ((b & 0x1F) << 6) | (data[i + 1] & 0x3F);
            } else { /* a continuation byte out of place (never made by an encoder) */
                i += 1;
                continue;
            }
            uint32_t low = bmp[cp];
            if (low == 0xFFFFFFFFu) {
                special[d] = 1;
                break;
            }
            if (low != cp) {
                if (size == 2) {
                    data[i] = (uint8_t)(0xC0 | (low >> 6));
                    data[i + 1] = (uint8_t)(0x80 | (low & 0x3F));
                } else {
                    data[i] = (uint8_t)(0xE0 | (low >> 12));
                    data[i + 1] = (uint8_t)(0x80 | ((low >> 6) & 0x3F));
                    data[i + 2] = (uint8_t)(0x80 | (low & 0x3F));
                }
            }
            i += size;
        }
    }
}

/* Distinct word ngram-gram hashes and distinct number-token hashes of every text, in CSR
 * layout, each document's values in first-seen order: shingles_and_numbers followed by
 * unique(). data holds the texts' UTF-8 bytes (non-ASCII characters lower-cased already;
 * ASCII letters are folded here), text d at starts[d]:ends[d]. out and nums need room for
 * len(data) / 2 + n_docs + 1 values; the offsets arrays start zeroed. */
int word_sets(const uint8_t *data, const int64_t *starts, const int64_t *ends, int64_t n_docs,
              int64_t ngram, uint64_t *out, int64_t *out_offsets, uint64_t *nums,
              int64_t *num_offsets)
{
    int64_t longest = 0;
    for (int64_t d = 0; d < n_docs; d++)
        if (ends[d] - starts[d] > longest)
            longest = ends[d] - starts[d];
    uint64_t *tokens = malloc((longest / 2 + 1) * sizeof(uint64_t));
    uint8_t *has_digit = malloc(longest / 2 + 1);
    table_t t = {0};
    int status = tokens && has_digit ? table_init(&t, 1024) : -1;
    int64_t o = 0, q = 0;
    for (int64_t d = 0; d < n_docs && status == 0; d++) {
        /* Tokens: the polynomial hash of their lower-cased bytes, as PrefixHash.slice_hash. */
        int64_t m = 0, i = starts[d], end = ends[d];
        while (i < end) {
            uint32_t c = CODES[data[i]];
            if (c == 0) {
                i += 1;
                continue;
            }
            if (c >= LEAD) {
                int64_t p = punctuation(data, i, end);
                if (p) {
                    i += p;
                    continue;
                }
            }
            uint64_t h = 0, power = 1;
            int64_t first = i;
            uint8_t digit = 0;
            for (;;) {
                h += (uint64_t)c * power;
                power *= BASE;
                digit |= c >= 0x31 && c <= 0x3A;
                i += 1;
                if (i >= end)
                    break;
                c = CODES[data[i]];
                if (c == 0 || (c >= LEAD && punctuation(data, i, end)))
                    break;
            }
            tokens[m] = mix(h + (uint64_t)(i - first) * LENGTH_MULT);
            has_digit[m] = digit;
            m += 1;
        }
        if (table_room(&t, m) != 0) {
            status = -1;
            break;
        }
        /* n-grams, as combine_ngrams: a text shorter than ngram gives one of all its tokens. */
        int64_t width = ngram < m ? ngram : m;
        t.mark += 1;
        for (int64_t k = 0; k < (m ? m - width + 1 : 0); k++) {
            uint64_t acc = 0;
            for (int64_t j = 0; j < width; j++)
                acc += tokens[k + j] * NGRAM_MULT[j];
            uint64_t x = mix(acc);
            if (table_add(&t, x))
                out[o++] = x;
        }
        out_offsets[d + 1] = o;
        t.mark += 1;
        for (int64_t k = 0; k < m; k++)
            if (has_digit[k] && table_add(&t, tokens[k]))
                nums[q++] = tokens[k];
        num_offsets[d + 1] = q;
    }
    free(tokens);
    free(has_digit);
    table_free(&t);
    return status;
}

/* Per document and bin, the least 32-bit value of the shingles hashed to that bin: the
 * one-permutation MinHash of oph_signatures, densified as _densify does. out (n_docs rows
 * of num_perm) starts filled with 0xFFFFFFFF; a document without shingles keeps it. */
void oph_minima(const uint64_t *hashes, const int64_t *offsets, int64_t n_docs, uint64_t salt,
                int64_t num_perm, uint32_t *out)
{
    const uint32_t empty = 0xFFFFFFFFu;
    const uint64_t bins = (uint64_t)num_perm;
    for (int64_t d = 0; d < n_docs; d++) {
        uint32_t *row = out + d * num_perm;
        for (int64_t k = offsets[d]; k < offsets[d + 1]; k++) {
            uint64_t x = mix(hashes[k] ^ salt);
            uint64_t b = ((x >> 32) * bins) >> 32;
            uint32_t value = (uint32_t)x;
            if (value < row[b])
                row[b] = value;
        }
        if (offsets[d + 1] == offsets[d])
            continue;
        /* Each empty bin takes the next non-empty bin's value (circularly) plus an offset
         * per bin of distance; scanning the row twice from the right finds that bin. */
        int64_t nxt = -1;
        for (int64_t twice = 2 * num_perm - 1; twice >= 0; twice--) {
            int64_t j = twice >= num_perm ? twice - num_perm : twice;
            if (row[j] != empty) {
                nxt = twice;
            } else if (twice < num_perm && nxt >= 0) {
                uint64_t source = row[nxt >= num_perm ? nxt - num_perm : nxt];
                row[j] = (uint32_t)(source + (uint64_t)(nxt - twice) * 0x9E3779B1u);
            }
        }
    }
}

/* Per document, the sum (mod 2**64) of the splitmix64 of its hashes. */
void mixed_sums(const uint64_t *hashes, const int64_t *offsets, int64_t n_docs, uint64_t *out)
{
    for (int64_t d = 0; d < n_docs; d++) {
        uint64_t total = 0;
        for (int64_t k = offsets[d]; k < offsets[d + 1]; k++)
            total += mix(hashes[k]);
        out[d] = total;
    }
}

/* found[k] = 1 for every entry whose key hashes[k] ^ doc_salt[d] is in sorted_keys, and
 * counts[d] += 1 for each (both start zeroed). bitmap marks the top bits of the sorted keys
 * (key >> shift), so most misses cost one look-up instead of a binary search. */
void salted_members(const uint64_t *hashes, const int64_t *offsets, int64_t n_docs,
                    const uint64_t *doc_salt, const uint64_t *sorted_keys, int64_t n_keys,
                    const uint8_t *bitmap, uint64_t shift, uint8_t *found, int64_t *counts)
{
    for (int64_t d = 0; d < n_docs; d++) {
        uint64_t salt = doc_salt[d];
        for (int64_t k = offsets[d]; k < offsets[d + 1]; k++) {
            uint64_t key = hashes[k] ^ salt;
            if (!bitmap[key >> shift])
                continue;
            int64_t lo = 0, hi = n_keys; /* the first sorted key >= key */
            while (lo < hi) {
                int64_t mid = lo + (hi - lo) / 2;
                if (sorted_keys[mid] < key)
                    lo = mid + 1;
                else
                    hi = mid;
            }
            if (lo < n_keys && sorted_keys[lo] == key) {
                found[k] = 1;
                counts[d] += 1;
            }
        }
    }
}

/* Slots where two signatures of n slots agree. */
EQUAL_SLOTS_CLONES
static uint32_t equal_slots(const uint32_t *a, const uint32_t *b, int64_t n)
{
    uint32_t equal = 0; /* 32 bits: the compare-and-add vectorizes unwidened */
    for (int64_t s = 0; s < n; s++)
        equal += a[s] == b[s];
    return equal;
}

/* How many slots the signatures of each pair agree in (rows pairs[2k] and pairs[2k + 1]),
 * read in place where numpy fancy indexing copied both rows of every pair first. */
void pair_equal_slots(const uint32_t *sigs, int64_t num_perm, const int64_t *pairs,
                      int64_t n_pairs, int32_t *out)
{
    for (int64_t k = 0; k < n_pairs; k++)
        out[k] = (int32_t)equal_slots(sigs + pairs[2 * k] * num_perm,
                                      sigs + pairs[2 * k + 1] * num_perm, num_perm);
}

/* The entries of every document without those marked in documents whose mode is set:
 * out has room for all entries, out_offsets (n_docs + 1) starts zeroed. */
void drop_marked(const uint64_t *hashes, const int64_t *offsets, int64_t n_docs,
                 const uint8_t *marked, const uint8_t *mode, uint64_t *out,
                 int64_t *out_offsets)
{
    int64_t o = 0;
    for (int64_t d = 0; d < n_docs; d++) {
        if (mode[d]) {
            for (int64_t k = offsets[d]; k < offsets[d + 1]; k++)
                if (!marked[k])
                    out[o++] = hashes[k];
        } else {
            int64_t n = offsets[d + 1] - offsets[d];
            memcpy(out + o, hashes + offsets[d], n * sizeof(uint64_t));
            o += n;
        }
        out_offsets[d + 1] = o;
    }
}

/* counts[b] += how many keys hashes[k] ^ doc_salt[d] (document d owns entry k) fall in
 * bucket b = key >> shift of the key space (counts starts zeroed). */
void bucket_counts(const uint64_t *hashes, const int64_t *offsets, int64_t n_docs,
                   const uint64_t *doc_salt, uint64_t shift, int64_t *counts)
{
    for (int64_t d = 0; d < n_docs; d++) {
        uint64_t salt = doc_salt[d];
        for (int64_t k = offsets[d]; k < offsets[d + 1]; k++)
            counts[(hashes[k] ^ salt) >> shift] += 1;
    }
}

/* The keys hashes[k] ^ doc_salt[d] that fall in a heavy bucket (heavy[key >> shift]), with
 * their documents (doc_base + d), grouped by partition (key >> part_shift) in entry order
 * into keys_out/docs_out; counts[p] (zeroed) gets the number of partition p's keys. One pass
 * over all entries copies the heavy ones, in entry order, to tmp_keys/tmp_docs (room for
 * every entry); a second pass over those alone places them. Returns how many there are, or
 * -1 when out of memory. */
int64_t heavy_keys(const uint64_t *hashes, const int64_t *offsets, int64_t n_docs,
                   const uint64_t *doc_salt, const uint8_t *heavy, uint64_t shift,
                   uint64_t part_shift, int64_t doc_base, int64_t *counts, uint64_t *tmp_keys,
                   int32_t *tmp_docs, uint64_t *keys_out, int32_t *docs_out)
{
    int64_t m = 0;
    for (int64_t d = 0; d < n_docs; d++) {
        uint64_t salt = doc_salt[d];
        int32_t doc = (int32_t)(doc_base + d);
        for (int64_t k = offsets[d]; k < offsets[d + 1]; k++) {
            uint64_t key = hashes[k] ^ salt;
            if (heavy[key >> shift]) {
                tmp_keys[m] = key;
                tmp_docs[m] = doc;
                m++;
                counts[key >> part_shift] += 1;
            }
        }
    }
    int64_t n_parts = (int64_t)1 << (64 - part_shift);
    int64_t *at = malloc(n_parts * sizeof(int64_t));
    if (at == NULL)
        return -1;
    for (int64_t p = 0, start = 0; p < n_parts; p++) {
        at[p] = start;
        start += counts[p];
    }
    for (int64_t i = 0; i < m; i++) {
        int64_t j = at[tmp_keys[i] >> part_shift]++;
        keys_out[j] = tmp_keys[i];
        docs_out[j] = tmp_docs[i];
    }
    free(at);
    return m;
}

/* |A & B| for every pair (a, b) of documents (rows of pairs), set d being sizes[d] distinct
 * values at address addrs[d] (where it lies: sets are read in place, not gathered first),
 * visited in order: the set already in the table is kept while the next pair shares it, as
 * pairs sorted by their first member do. A pair stops being counted once it can no longer
 * reach need[p] (its count is then some value below need[p]); need 0 counts exactly. */
int pair_intersections(const int64_t *addrs, const int64_t *sizes, const int64_t *pairs,
                       const int64_t *order, int64_t n_pairs, const int64_t *need,
                       int64_t *out)
{
    table_t t = {0};
    if (table_init(&t, 1024) != 0) {
        table_free(&t);
        return -1;
    }
    int64_t held = -1; /* the document whose set fills the table (under the current mark) */
    for (int64_t i = 0; i < n_pairs; i++) {
        int64_t p = order[i], a = pairs[2 * p], b = pairs[2 * p + 1];
        if (b == held) {
            b = a;
            a = held;
        } else if (a != held) {
            /* The first member goes in the table when the next pair shares it (it is read
             * once for all of them); else the smaller set. */
            int shared = i + 1 < n_pairs && pairs[2 * order[i + 1]] == a;
            if (!shared && sizes[a] > sizes[b]) {
                int64_t swap = a;
                a = b;
                b = swap;
            }
        }
        if (a != held) {
            if (table_room(&t, sizes[a]) != 0) {
                table_free(&t);
                return -1;
            }
            t.mark += 1;
            const uint64_t *set_a = (const uint64_t *)(uintptr_t)addrs[a];
            for (int64_t k = 0; k < sizes[a]; k++)
                table_add(&t, set_a[k]);
            held = a;
        }
        const uint64_t *set_b = (const uint64_t *)(uintptr_t)addrs[b];
        int64_t count = 0, left = sizes[b], floor = need[p];
        for (int64_t k = 0; k < sizes[b]; k++) {
            count += table_has(&t, set_b[k]);
            left -= 1;
            if (count + left < floor)
                break;
        }
        out[p] = count;
    }
    table_free(&t);
    return 0;
}

/* A slot of the table of one partition's buckets: its key, first document and mark. */
typedef struct {
    uint64_t key;
    int64_t owner;
    int64_t stamp;
} bucket_t;

/* i * n + j for every document j and the first document i < j of each bucket it shares in
 * bands first:stop: the pairs of dedup.sketch.lsh._pair_codes (unsorted, with repeats),
 * band keys as band_keys computes them (flip_salt xor-ed into those of flip documents),
 * buckets found in hash tables instead of by sorting. sigs: n rows of num_perm.
 * The keys of pass_bands bands are computed in one pass over the rows; then a band's keys are
 * grouped by their top part_bits bits (documents in order within a group), and each
 * group's buckets are found in a table small enough to stay in the core's cache: one table
 * of all n keys missed the cache at every document. A bucket's keys are all in one group
 * and its documents keep their order, so the pairs are the same.
 * The codes land in a buffer allocated here (*codes, *n_codes); free it with dedup_free. */
int band_pair_codes(const uint32_t *sigs, int64_t n, int64_t num_perm, int64_t rows,
                    int64_t first, int64_t stop, const uint8_t *valid, const uint8_t *flip,
                    uint64_t flip_salt, int64_t part_bits, int64_t pass_bands, int64_t **codes,
                    int64_t *n_codes)
{
    const int64_t parts = (int64_t)1 << part_bits;
    const int shift = (int)(64 - part_bits);
    const int64_t n_bands = stop > first ? stop - first : 0;
    if (pass_bands < 1 || pass_bands > n_bands)
        pass_bands = n_bands > 0 ? n_bands : 1;
    /* the keys of pass_bands bands, band after band, from one pass over the signature rows
     * (a pass per band read a few bytes of every row, a cache miss each) */
    uint64_t *keys = malloc((pass_bands * n > 0 ? pass_bands * n : 1) * sizeof(uint64_t));
    uint64_t *group_keys = malloc((n > 0 ? n : 1) * sizeof(uint64_t));
    int64_t *group_docs = malloc((n > 0 ? n : 1) * sizeof(int64_t));
    int64_t *start = malloc((parts + 1) * sizeof(int64_t));
    int64_t *fill = malloc(parts * sizeof(int64_t));
    int64_t room = n > 1024 ? n : 1024, o = 0;
    int64_t *buf = malloc(room * sizeof(int64_t));
    bucket_t *table = NULL;
    uint64_t size = 0;
    int64_t mark = 0;
    int failed = !keys || !group_keys || !group_docs || !start || !fill || !buf;
    for (int64_t b = 0; b < n_bands && !failed; b++) {
        const int64_t k = b % pass_bands;
        if (k == 0) {
            const int64_t in_pass = n_bands - b < pass_bands ? n_bands - b : pass_bands;
            for (int64_t d = 0; d < n; d++) {
                if (!valid[d])
                    continue;
                const uint32_t *sig = sigs + d * num_perm + (first + b) * rows;
                for (int64_t j = 0; j < in_pass; j++, sig += rows) {
                    uint64_t key = 0;
                    for (int64_t r = 0; r < rows; r++)
                        key = mix(key ^ (uint64_t)sig[r]);
                    key = mix(key + (uint64_t)(first + b + j));
                    keys[j * n + d] = flip[d] ? key ^ flip_salt : key;
                }
            }
        }
        const uint64_t *band = keys + k * n;
        memset(start, 0, (parts + 1) * sizeof(int64_t));
        for (int64_t d = 0; d < n; d++)
            if (valid[d])
                start[(part_bits ? band[d] >> shift : 0) + 1] += 1;
        int64_t largest = 0;
        for (int64_t p = 0; p < parts; p++) {
            if (start[p + 1] > largest)
                largest = start[p + 1];
            start[p + 1] += start[p];
            fill[p] = start[p];
        }
        for (int64_t d = 0; d < n; d++) {
            if (!valid[d])
                continue;
            int64_t at = fill[part_bits ? band[d] >> shift : 0]++;
            group_keys[at] = band[d];
            group_docs[at] = d;
        }
        if ((uint64_t)(2 * largest) > size) {
            while ((uint64_t)(2 * largest) > size)
                size = size ? 2 * size : 16;
            free(table);
            table = calloc(size, sizeof(bucket_t));
            mark = 0;
            if (!table) {
                failed = 1;
                break;
            }
        }
        const uint64_t mask = size - 1;
        for (int64_t p = 0; p < parts && !failed; p++) {
            mark += 1;
            for (int64_t i = start[p]; i < start[p + 1]; i++) {
                uint64_t key = group_keys[i];
                uint64_t slot = key & mask;
                while (table[slot].stamp == mark && table[slot].key != key)
                    slot = (slot + 1) & mask;
                if (table[slot].stamp != mark) {
                    table[slot].stamp = mark;
                    table[slot].key = key;
                    table[slot].owner = group_docs[i];
                    continue;
                }
                if (o == room) {
                    int64_t *grown = realloc(buf, 2 * room * sizeof(int64_t));
                    if (!grown) {
                        failed = 1;
                        break;
                    }
                    buf = grown;
                    room *= 2;
                }
                buf[o++] = table[slot].owner * n + group_docs[i];
            }
        }
    }
    free(keys);
    free(group_keys);
    free(group_docs);
    free(start);
    free(fill);
    free(table);
    if (failed) {
        free(buf);
        return -1;
    }
    *codes = buf;
    *n_codes = o;
    return 0;
}

void dedup_free(void *p)
{
    free(p);
}

/* Copy n runs of bytes: run i is lengths[i] bytes at src + src_at[i], to out + dest[i].
 * Gathers the sets of a store's documents held in memory (numpy's fancy indexing built an
 * 8-byte index per value and read it back: three times the traffic of the copy). */
void copy_runs(const uint8_t *src, uint8_t *out, const int64_t *src_at, const int64_t *dest,
               const int64_t *lengths, int64_t n)
{
    for (int64_t i = 0; i < n; i++)
        memcpy(out + dest[i], src + src_at[i], (size_t)lengths[i]);
}

/* Read n runs of a file into out: run i is lengths[i] bytes at file offset offsets[i], to
 * out + dest[i]. Positioned reads: threads may read the same file at once. Returns 0, or
 * the errno of a failed read, or -1 at an unexpected end of the file. */
int read_runs(int fd, uint8_t *out, const int64_t *dest, const int64_t *offsets,
              const int64_t *lengths, int64_t n)
{
    for (int64_t i = 0; i < n; i++) {
        int64_t done = 0;
        while (done < lengths[i]) { /* a positioned read may return fewer bytes than asked */
            ssize_t got = pread(fd, out + dest[i] + done, (size_t)(lengths[i] - done),
                                (off_t)(offsets[i] + done));
            if (got < 0 && errno == EINTR)
                continue;
            if (got < 0)
                return errno;
            if (got == 0)
                return -1;
            done += got;
        }
    }
    return 0;
}

/* Write n runs of bytes to a file: run i is lengths[i] bytes from src + src_at[i], to file
 * offset offsets[i]. Positioned writes: threads may write distinct runs of a file at once.
 * Returns 0, or the errno of a failed write. */
int write_runs(int fd, const uint8_t *src, const int64_t *src_at, const int64_t *offsets,
               const int64_t *lengths, int64_t n)
{
    for (int64_t i = 0; i < n; i++) {
        int64_t done = 0;
        while (done < lengths[i]) { /* a positioned write may take fewer bytes than given */
            ssize_t put = pwrite(fd, src + src_at[i] + done, (size_t)(lengths[i] - done),
                                 (off_t)(offsets[i] + done));
            if (put < 0 && errno == EINTR)
                continue;
            if (put < 0)
                return errno;
            done += put;
        }
    }
    return 0;
}

/* Connected components of n elements joined by pairs (an array union-find with path
 * halving): labels[i] gets the smallest member of i's component. A root is its component's
 * smallest member, so every parent lies below its child and one pass in order compresses. */
void union_components(int64_t n, const int64_t *pairs, int64_t n_pairs, int64_t *labels)
{
    for (int64_t i = 0; i < n; i++)
        labels[i] = i;
    for (int64_t k = 0; k < n_pairs; k++) {
        int64_t a = pairs[2 * k], b = pairs[2 * k + 1];
        while (labels[a] != a)
            a = labels[a] = labels[labels[a]];
        while (labels[b] != b)
            b = labels[b] = labels[labels[b]];
        if (a < b)
            labels[b] = a;
        else if (b < a)
            labels[a] = b;
    }
    for (int64_t i = 0; i < n; i++)
        labels[i] = labels[labels[i]];
}

/* Does member i come before member j: smaller key, then smaller index. */
static int member_before(const uint64_t *key, int64_t i, int64_t j)
{
    return key[i] < key[j] || (key[i] == key[j] && i < j);
}

/* Whether at least min_link of the pairs of left[0:nl] x right[0:nr] are linked (see
 * guard_t). Counting stops as soon as the answer is known either way. */
static int groups_alike(const int64_t *left, int64_t nl, const int64_t *right, int64_t nr,
                        const uint32_t *sigs, int64_t num_perm, const double *sizes,
                        double threshold, double containment, double min_link)
{
    double total = (double)(nl * nr);
    int64_t linked = 0, left_to_see = nl * nr;
    /* The samples' signatures lie anywhere in the array: ask for all of them at once, so
     * that their cache misses overlap instead of coming one after the other. */
    for (int64_t y = 0; y < nr; y++)
        for (int64_t off = 0; off < num_perm; off += 16)
            PREFETCH(sigs + right[y] * num_perm + off);
    for (int64_t x = 0; x < nl; x++)
        for (int64_t off = 0; off < num_perm; off += 16)
            PREFETCH(sigs + left[x] * num_perm + off);
    for (int64_t x = 0; x < nl; x++) {
        const uint32_t *sx = sigs + left[x] * num_perm;
        double size_x = sizes[left[x]];
        for (int64_t y = 0; y < nr; y++) {
            const uint32_t *sy = sigs + right[y] * num_perm;
            double j = (double)equal_slots(sx, sy, num_perm) / (double)num_perm;
            double size_y = sizes[right[y]];
            double small = size_x < size_y ? size_x : size_y;
            if (small < 1.0)
                small = 1.0;
            double c = j * (size_x + size_y) / ((1.0 + j) * small);
            linked += (j >= threshold) | (c >= containment);
            left_to_see--;
            if ((double)linked / total >= min_link)
                return 1;
            if ((double)(linked + left_to_see) / total < min_link)
                return 0;
        }
    }
    return (double)linked / total >= min_link;
}

/* A guarded clustering between calls: components of pairs taken in order where two groups
 * join only if alike as groups. Of the pairs of their first `sample` members (sorted by
 * member_key, then index), at least min_link must be linked, a pair being linked when its
 * share of equal signature slots j reaches threshold or its containment estimate
 * j (sa + sb) / ((1 + j) max(min(sa, sb), 1)) reaches containment. Two single documents
 * always join. labels[i] is the smallest member of i's group. Computes exactly what
 * dedup.sketch.cluster.guarded_components computes with the estimates of the near-duplicate
 * step.
 *
 * Judging two groups (reading their samples' signatures from anywhere in a large array) is
 * the cost, and it depends on the two samples only. Each sample has a number (drawn, from a
 * clock, never reused) that changes when the sample does, so a verdict on two numbers stands
 * until either group changes its sample: guard_judge gives the verdicts on a window of pairs
 * ahead from the state as it is (on several threads: it only reads), and guard_take takes
 * the pairs in order, with each verdict whose samples are still those judged and judging
 * the others itself. The joins are those of taking every pair one after the other. */
typedef struct {
    int64_t n, num_perm, sample;
    const uint32_t *sigs;
    const double *sizes;
    const uint64_t *member_key;
    double threshold, containment, min_link;
    int64_t **members; /* members[g]: group g's members in member order (NULL: one document) */
    int64_t *size, *drawn, *labels;
    /* Refused joins, remembered by their samples' numbers: many pairs of the same two groups
     * come by before either changes; all but the first are refused at once. Off when the
     * numbers of two samples do not fit one key. */
    table_t refused;
    int64_t n_refused, clock;
    int remember;
} guard_t;

void guard_free(guard_t *g)
{
    if (g == NULL)
        return;
    if (g->members != NULL)
        for (int64_t i = 0; i < g->n; i++)
            free(g->members[i]);
    free(g->members);
    free(g->size);
    free(g->drawn);
    table_free(&g->refused);
    free(g);
}

/* A state where every document is a group of its own (labels: n entries, filled here and
 * kept up to date by guard_take); NULL when out of memory. */
guard_t *guard_new(int64_t n, int64_t n_pairs, const uint32_t *sigs, int64_t num_perm,
                   const double *sizes, double threshold, double containment, double min_link,
                   const uint64_t *member_key, int64_t sample, int64_t *labels)
{
    guard_t *g = calloc(1, sizeof(guard_t));
    if (g == NULL)
        return NULL;
    int64_t room = n > 0 ? n : 1;
    g->n = n;
    g->num_perm = num_perm;
    g->sample = sample;
    g->sigs = sigs;
    g->sizes = sizes;
    g->member_key = member_key;
    g->threshold = threshold;
    g->containment = containment;
    g->min_link = min_link;
    g->labels = labels;
    g->members = calloc(room, sizeof(int64_t *));
    g->size = malloc(room * sizeof(int64_t));
    g->drawn = malloc(room * sizeof(int64_t));
    if (g->members == NULL || g->size == NULL || g->drawn == NULL
        || table_init(&g->refused, 1024) != 0) {
        guard_free(g);
        return NULL;
    }
    g->refused.mark = 1;
    g->clock = n;
    g->remember = n < ((int64_t)1 << 30) && n_pairs < ((int64_t)1 << 30);
    for (int64_t i = 0; i < n; i++) {
        labels[i] = i;
        g->size[i] = 1;
        g->drawn[i] = i;
    }
    return g;
}

/* The key of the refused join of two samples' numbers. */
static uint64_t refusal_key(int64_t da, int64_t db)
{
    uint64_t lo = (uint64_t)(da < db ? da : db), hi = (uint64_t)(da < db ? db : da);
    return mix((lo << 32) | hi); /* a bijection: keys stay distinct */
}

/* Members of group grp in its sample: all of them, up to `sample`. */
static inline int64_t sample_size(const guard_t *g, int64_t grp)
{
    return g->size[grp] < g->sample ? g->size[grp] : g->sample;
}

/* Whether groups ga and gb join without being judged (their samples make one pair). */
static int guard_trivial(const guard_t *g, int64_t ga, int64_t gb)
{
    return sample_size(g, ga) * sample_size(g, gb) <= 1;
}

/* Whether groups ga and gb (not trivial) are alike: 1 or 0. */
static int guard_alike(const guard_t *g, int64_t ga, int64_t gb)
{
    int64_t nl = sample_size(g, ga), nr = sample_size(g, gb);
    const int64_t *left = g->members[ga] ? g->members[ga] : &ga;
    const int64_t *right = g->members[gb] ? g->members[gb] : &gb;
    return groups_alike(left, nl, right, nr, g->sigs, g->num_perm, g->sizes, g->threshold,
                        g->containment, g->min_link);
}

/* Ask for what the pairs some places after k need, so that their misses overlap (in a
 * loop with the state's arrays in locals: read through the state, or passed to a function,
 * they were loaded again at every use, and the loop took a third longer). */
#define GUARD_PREFETCH(k, k1)                                                                  \
    do {                                                                                       \
        if ((k) + 16 < (k1))                                                                   \
            PREFETCH(pairs + 2 * order[(k) + 16]);                                             \
        if ((k) + 8 < (k1)) {                                                                  \
            PREFETCH(labels + pairs[2 * order[(k) + 8]]);                                      \
            PREFETCH(labels + pairs[2 * order[(k) + 8] + 1]);                                  \
        }                                                                                      \
        if ((k) + 4 < (k1)) {                                                                  \
            for (int side = 0; side < 2; side++) {                                             \
                int64_t grp = labels[pairs[2 * order[(k) + 4] + side]];                        \
                PREFETCH(members + grp);                                                       \
                PREFETCH(size + grp);                                                          \
                PREFETCH(drawn + grp);                                                         \
            }                                                                                  \
        }                                                                                      \
    } while (0)

#define JUDGE_BLOCK 64 /* pairs judged together: a block's verdicts fill one cache line */

/* Verdicts on the pairs order[k0:k1] from the state as it is: verdict[k - k0] is 1 (alike,
 * or two single documents), 0 (not alike) or -1 (one group already), and seen[2 (k - k0)]
 * and seen[2 (k - k0) + 1] the numbers of the two samples judged. Judges the blocks of
 * JUDGE_BLOCK pairs first, first + step, ...: `step` threads, each with its own `first`,
 * share the work about equally however it is spread over the pairs. Only reads the state:
 * threads may judge at once, while no guard_take runs. */
void guard_judge(const guard_t *g, const int64_t *pairs, const int64_t *order, int64_t k0,
                 int64_t k1, int64_t first, int64_t step, int8_t *verdict, int64_t *seen)
{
    const int64_t *labels = g->labels, *size = g->size, *drawn = g->drawn;
    int64_t *const *members = g->members;
    for (int64_t lo = k0 + first * JUDGE_BLOCK; lo < k1; lo += step * JUDGE_BLOCK) {
        int64_t hi = lo + JUDGE_BLOCK < k1 ? lo + JUDGE_BLOCK : k1;
        for (int64_t k = lo; k < hi; k++) {
            GUARD_PREFETCH(k, hi);
            int64_t p = order[k], i = k - k0;
            int64_t ga = labels[pairs[2 * p]], gb = labels[pairs[2 * p + 1]];
            seen[2 * i] = drawn[ga];
            seen[2 * i + 1] = drawn[gb];
            if (ga == gb)
                verdict[i] = -1;
            else if (guard_trivial(g, ga, gb))
                verdict[i] = 1;
            else if (g->remember && table_has(&g->refused, refusal_key(drawn[ga], drawn[gb])))
                verdict[i] = 0;
            else
                verdict[i] = (int8_t)guard_alike(g, ga, gb);
        }
    }
}

/* Join groups ga and gb; 0, or -1 when out of memory. */
static int guard_join(guard_t *g, int64_t ga, int64_t gb)
{
    int64_t keep = ga < gb ? ga : gb, gone = ga < gb ? gb : ga;
    int64_t n_keep = g->size[keep], n_gone = g->size[gone];
    int64_t *joined = malloc((n_keep + n_gone) * sizeof(int64_t));
    if (joined == NULL)
        return -1;
    const int64_t *a = g->members[keep] ? g->members[keep] : &keep;
    const int64_t *b = g->members[gone] ? g->members[gone] : &gone;
    int64_t i = 0, j = 0, m = 0;
    while (i < n_keep && j < n_gone)
        joined[m++] = member_before(g->member_key, b[j], a[i]) ? b[j++] : a[i++];
    while (i < n_keep)
        joined[m++] = a[i++];
    while (j < n_gone)
        joined[m++] = b[j++];
    for (int64_t x = 0; x < n_gone; x++)
        g->labels[b[x]] = keep;
    if (n_keep < g->sample || memcmp(joined, a, (size_t)g->sample * sizeof(int64_t)) != 0)
        g->drawn[keep] = g->clock++; /* a new sample */
    free(g->members[keep]);
    free(g->members[gone]);
    g->members[keep] = joined;
    g->members[gone] = NULL;
    g->size[keep] = n_keep + n_gone;
    return 0;
}

/* Take the pairs order[k0:k1] in order. verdict and seen (as guard_judge gave them for the
 * same pairs, or NULL): a verdict stands where the pair's groups still have the samples
 * judged. Returns 0, or -1 when out of memory. */
int guard_take(guard_t *g, const int64_t *pairs, const int64_t *order, int64_t k0, int64_t k1,
               const int8_t *verdict, const int64_t *seen)
{
    int64_t *labels = g->labels, *size = g->size, *drawn = g->drawn;
    int64_t **members = g->members;
    for (int64_t k = k0; k < k1; k++) {
        GUARD_PREFETCH(k, k1);
        int64_t p = order[k], i = k - k0;
        int64_t ga = labels[pairs[2 * p]], gb = labels[pairs[2 * p + 1]];
        if (ga == gb)
            continue;
        if (!guard_trivial(g, ga, gb)) {
            int64_t da = drawn[ga], db = drawn[gb];
            int alike;
            if (verdict != NULL && verdict[i] >= 0 && seen[2 * i] == da && seen[2 * i + 1] == db)
                alike = verdict[i];
            else if (g->remember && table_has(&g->refused, refusal_key(da, db)))
                alike = 0;
            else
                alike = guard_alike(g, ga, gb);
            if (!alike) {
                if (g->remember && table_insert(&g->refused, &g->n_refused, refusal_key(da, db)))
                    return -1;
                continue;
            }
        }
        if (guard_join(g, ga, gb) != 0)
            return -1;
    }
    return 0;
}
