// Forward pass of eccentricity-aware attention on the CPU, block-sparse, keys read in place.
//
// Built at first use by gazemodels/attention/cpu_kernel.py (g++ -O3 -march=native
// -ffp-contract=off) and called through ctypes, once per batch element, with q, k (H, N, D),
// v (H, N, Dv), the positions (N, 2) and sigma (Hs, N) in token order, the Morton order of
// the tokens, and optionally the additive bias already sorted and padded (Hb, Np, Np).
//
// Design: block-sparse attention over (query, key) tiles of Morton-sorted tokens, 16 x 16
// with AVX-512 (TILE: one vector of floats; 8 x 8 with AVX2),
// as the block-sparse variants of flash-attention (Dao et al. 2022) skip masked tiles.
// 1. prepare: q (scaled by 1/sqrt(D)) and k are copied once into the sorted, tiled layout
//    (H, Np / TILE, D, TILE), v into (H, Np, Dv padded to TILE): every query tile reads the
//    keys and values of the tiles it visits where they lie (no per-block gather).
// 2. For every query tile, the key tiles whose bounding box is within the tile's largest
//    reach (cutoff sigma) are visited, with a bit per query row saying whether that row's
//    own reach touches the key tile's box (rows out of reach skip the exp and P V).
// 3. Per (head, query tile): S = Q K^T tile by tile (TILE x TILE register tile, one
//    vector per query row), plus -|p_i - p_j|^2 / (2 sigma_i^2), plus the bias, -inf where
//    |p_i - p_j|^2 > (cutoff sigma_i)^2; the classic two-pass safe softmax over the row
//    (max, then exp and sum, the scores held in a per-thread buffer); then P V. The squared
//    distance is dx*dx + dy*dy rounded as in the torch reference (no FMA contraction:
//    -ffp-contract=off; the FMAs of the products are explicit), so that both agree on
//    which pairs are in. A row whose every key is masked (bias -inf) gives zeros.
// Work items (head-major, so that neighbouring query tiles of one head share their keys in
// the core's L2 cache) are handed out to std::threads through an atomic counter.

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdint>
#include <limits>
#include <mutex>
#include <new>
#include <thread>
#include <vector>

#if defined(__x86_64__) || defined(_M_X64)
#include <immintrin.h>
#endif

namespace {

#if defined(__AVX512F__)
constexpr int TILE = 16;  // tokens per query and key tile: one vector of floats
#else
constexpr int TILE = 8;  // AVX2 (or generic vector code): 16 registers of 8 floats
#endif
constexpr int PAD = 16;  // tokens are padded to a multiple of 16 (the bias layout of cpu_kernel.py)
typedef float vec __attribute__((vector_size(4 * TILE)));
typedef float vecu __attribute__((vector_size(4 * TILE), aligned(4)));
typedef int32_t ivec __attribute__((vector_size(4 * TILE)));

inline vec load(const float* p) { return *reinterpret_cast<const vecu*>(p); }
inline void store(float* p, vec x) { *reinterpret_cast<vecu*>(p) = x; }
inline vec splat(float x) {
#if defined(__AVX512F__)
    return (vec)_mm512_set1_ps(x);
#elif defined(__AVX__)
    return (vec)_mm256_set1_ps(x);
#else
    vec r;
    for (int i = 0; i < TILE; ++i) r[i] = x;
    return r;
#endif
}
inline vec vmax(vec a, vec b) { return a > b ? a : b; }

// a * b + c, fused where the CPU has FMA (explicit, since contraction is off).
inline vec fmadd(vec a, vec b, vec c) {
#if defined(__AVX512F__)
    return (vec)_mm512_fmadd_ps((__m512)a, (__m512)b, (__m512)c);
#elif defined(__FMA__)
    return (vec)_mm256_fmadd_ps((__m256)a, (__m256)b, (__m256)c);
#else
    return a * b + c;
#endif
}

float hmax(vec x) {
    float m = x[0];
    for (int i = 1; i < TILE; ++i) m = std::max(m, x[i]);
    return m;
}

float hsum(vec x) {
    float s = 0.0f;
    for (int i = 0; i < TILE; ++i) s += x[i];
    return s;
}

// exp(x) for x <= 0 (Cephes expf: x = n ln2 + r, degree-6 polynomial in r, times 2^n);
// exactly 0 below -87, where the float result would be denormal.
inline vec vexp(vec x) {
    const vec lo = splat(-87.0f), magic = splat(12582912.0f);  // 1.5 * 2^23: round to nearest
    vec xc = x < lo ? lo : x;
    vec n = fmadd(xc, splat(1.44269504088896341f), magic) - magic;
    vec r = fmadd(n, splat(-0.693359375f), xc);
    r = fmadd(n, splat(2.12194440e-4f), r);
    vec p = splat(1.9875691500e-4f);
    p = fmadd(p, r, splat(1.3981999507e-3f));
    p = fmadd(p, r, splat(8.3334519073e-3f));
    p = fmadd(p, r, splat(4.1665795894e-2f));
    p = fmadd(p, r, splat(1.6666665459e-1f));
    p = fmadd(p, r, splat(5.0000001201e-1f));
    p = fmadd(p, r * r, r + splat(1.0f));
    ivec e = (__builtin_convertvector(n, ivec) + 127) << 23;
    vec y = p * (vec)e;
    return x < lo ? splat(0.0f) : y;
}

// A key tile visited by a query tile, and which of the query rows may keep one of its keys.
struct Visit {
    int32_t tile;
    uint32_t rows;  // bit r: row r of the query tile is within reach of the key tile's box
};

struct Problem {
    int64_t n, np, d, dv, dvp, heads, sig_heads, bias_heads;
    const float *q, *k, *v, *pos, *sig, *bias;  // q, k, v, pos, sig in token order
    const int64_t* perm;
    float cutoff, scale;
    float* out;
    // built by prepare(): Morton-sorted, padded, tiled
    float *qt, *kt, *vp;  // in the workspace
    std::vector<float> px, py, coef, reach2;
    std::vector<std::vector<Visit>> visits;  // visited key tiles of every query tile
};

struct Box {
    float xlo, xhi, ylo, yhi;
};

Box tile_box(const Problem& p, int64_t j0) {
    Box b{p.px[j0], p.px[j0], p.py[j0], p.py[j0]};
    for (int64_t j = j0 + 1; j < std::min(j0 + TILE, p.n); ++j) {
        b.xlo = std::min(b.xlo, p.px[j]);
        b.xhi = std::max(b.xhi, p.px[j]);
        b.ylo = std::min(b.ylo, p.py[j]);
        b.yhi = std::max(b.yhi, p.py[j]);
    }
    return b;
}

// Sorted token of padded position i (padding repeats the last token).
inline int64_t token(const Problem& p, int64_t i) { return p.perm[std::min(i, p.n - 1)]; }

// Positions, -1 / (2 sigma^2) and (cutoff sigma)^2 in sorted order (as the torch reference
// rounds them: float products, no contraction).
void prepare_geometry(Problem& p) {
    p.px.resize(p.np);
    p.py.resize(p.np);
    p.coef.resize(p.sig_heads * p.np);
    p.reach2.resize(p.sig_heads * p.np);
    for (int64_t i = 0; i < p.np; ++i) {
        const int64_t t = token(p, i);
        p.px[i] = p.pos[2 * t];
        p.py[i] = p.pos[2 * t + 1];
        for (int64_t h = 0; h < p.sig_heads; ++h) {
            const float s = p.sig[h * p.n + t], r = p.cutoff * s;
            p.coef[h * p.np + i] = -0.5f / (s * s);
            p.reach2[h * p.np + i] = r * r;
        }
    }
}

// Tiles of head h, tile t: queries (scaled) and keys transposed to (D, TILE), values padded.
void prepare_tile(Problem& p, int64_t h, int64_t t) {
    const int64_t d = p.d, base = (h * p.np + t * TILE);
    for (int r = 0; r < TILE; ++r) {
        const int64_t tok = token(p, t * TILE + r);
        const bool pad = t * TILE + r >= p.n;
        const float* q = p.q + (h * p.n + tok) * d;
        const float* k = p.k + (h * p.n + tok) * d;
        const float* v = p.v + (h * p.n + tok) * p.dv;
        for (int64_t c = 0; c < d; ++c) {
            p.qt[base * d + c * TILE + r] = q[c] * p.scale;
            p.kt[base * d + c * TILE + r] = pad ? 0.0f : k[c];
        }
        float* vr = p.vp + (base + r) * p.dvp;
        for (int64_t c = 0; c < p.dvp; ++c) vr[c] = (pad || c >= p.dv) ? 0.0f : v[c];
    }
}

// Squared distance from a point to a box (0 inside).
inline float box_d2(const Box& b, float x, float y) {
    float gx = std::max(0.0f, std::max(b.xlo - x, x - b.xhi));
    float gy = std::max(0.0f, std::max(b.ylo - y, y - b.yhi));
    return gx * gx + gy * gy;
}

// Visited key tiles of query tile i0: first the box-to-box distance within the tile's largest
// reach, then, per query row, the point-to-box distance within that row's largest reach over
// the heads (both with a slack, so that rounding can never drop a kept pair).
void visit_list(const Problem& p, const std::vector<Box>& kbox, int64_t i0, std::vector<Visit>& visits) {
    const Box qb = tile_box(p, i0);
    float r2row[TILE] = {}, r2 = 0.0f;
    const int rows = static_cast<int>(std::min<int64_t>(TILE, p.n - i0));
    for (int r = 0; r < rows; ++r) {
        for (int64_t h = 0; h < p.sig_heads; ++h) r2row[r] = std::max(r2row[r], p.reach2[h * p.np + i0 + r]);
        r2row[r] = r2row[r] * (1.0f + 1e-5f) + 1e-12f;
        r2 = std::max(r2, r2row[r]);
    }
    visits.clear();
    for (int64_t t = 0; t < static_cast<int64_t>(kbox.size()); ++t) {
        const Box& kb = kbox[t];
        float gx = std::max(0.0f, std::max(kb.xlo - qb.xhi, qb.xlo - kb.xhi));
        float gy = std::max(0.0f, std::max(kb.ylo - qb.yhi, qb.ylo - kb.yhi));
        if (gx * gx + gy * gy > r2) continue;
        uint32_t mask = 0;
        for (int r = 0; r < rows; ++r)
            if (box_d2(kb, p.px[i0 + r], p.py[i0 + r]) <= r2row[r]) mask |= 1u << r;
        if (mask) visits.push_back({static_cast<int32_t>(t), mask});
    }
}

// S (TILE x TILE) = Q K^T for one tile of queries and one of keys, both stored (d, TILE).
inline void qk_tile(const float* qt, int64_t d, const float* kt, vec acc[TILE]) {
#pragma GCC unroll 16
    for (int r = 0; r < TILE; ++r) acc[r] = splat(0.0f);
    for (int64_t c = 0; c < d; ++c) {
        vec kv = load(kt + c * TILE);
#pragma GCC unroll 16
        for (int r = 0; r < TILE; ++r) acc[r] = fmadd(splat(qt[c * TILE + r]), kv, acc[r]);
    }
}

// O[4 rows, NV vectors] += P[4 rows, nk keys] V[nk keys, NV vectors] (O, V row strides dvp).
template <int NV>
inline void pv_rows(const float* p, int64_t ldp, const float* v, int64_t dvp, int nk, float* o) {
    vec acc[4][NV];
    for (int r = 0; r < 4; ++r)
        for (int c = 0; c < NV; ++c) acc[r][c] = load(o + r * dvp + c * TILE);
    for (int j = 0; j < nk; ++j) {
        vec vr[NV];
        for (int c = 0; c < NV; ++c) vr[c] = load(v + j * dvp + c * TILE);
        for (int r = 0; r < 4; ++r) {
            vec pr = splat(p[r * ldp + j]);
            for (int c = 0; c < NV; ++c) acc[r][c] = fmadd(pr, vr[c], acc[r][c]);
        }
    }
    for (int r = 0; r < 4; ++r)
        for (int c = 0; c < NV; ++c) store(o + r * dvp + c * TILE, acc[r][c]);
}

// O += P V for the rows of the query tile that may keep a key of the tile (bits of rows).
void pv_tile(const float* p, int64_t ldp, const float* v, int64_t dvp, int nk, uint32_t rows, float* o) {
    for (int64_t c0 = 0; c0 < dvp; c0 += 4 * TILE) {  // chunks of at most 4 vectors
        int nv = static_cast<int>(std::min<int64_t>(4, (dvp - c0) / TILE));
        for (int r = 0; r < TILE; r += 4) {
            if (((rows >> r) & 0xFu) == 0) continue;  // four rows without a kept key
            const float* pr = p + r * ldp;
            float* orow = o + r * dvp + c0;
            switch (nv) {
                case 1: pv_rows<1>(pr, ldp, v + c0, dvp, nk, orow); break;
                case 2: pv_rows<2>(pr, ldp, v + c0, dvp, nk, orow); break;
                case 3: pv_rows<3>(pr, ldp, v + c0, dvp, nk, orow); break;
                default: pv_rows<4>(pr, ldp, v + c0, dvp, nk, orow); break;
            }
        }
    }
}

struct Scratch {
    float* s;  // scores, then probabilities, TILE x (TILE * visited key tiles)
    float* o;  // unnormalised output, TILE x dvp
};

// The large buffers, reused from call to call: a fresh multi-megabyte block is given back to
// the system when freed, and touching it again costs a page fault per 4 KB page (8,000 per
// call at N = 4,096, 8 heads, D = 64: 10-20 % of the time). One cached block, which one call
// at a time uses (a concurrent call allocates its own); it keeps the largest size needed.
struct Workspace {
    std::mutex mu;
    std::vector<float> buf;
};

Workspace& workspace() {
    static Workspace ws;
    return ws;
}

// Scores of head h over the visited tiles of query tile i0, with the distance penalty, the
// bias and the exclusion; returns the row maxima.
void scores(const Problem& p, int64_t h, int64_t i0, const std::vector<Visit>& tiles, float* sbuf, float m[TILE]) {
    const int64_t hs = std::min(h, p.sig_heads - 1), ld = TILE * static_cast<int64_t>(tiles.size());
    const float* qt = p.qt + (h * p.np + i0) * p.d;
    const float* coef = p.coef.data() + hs * p.np + i0;
    const float* reach2 = p.reach2.data() + hs * p.np + i0;
    const float* bias = p.bias ? p.bias + (std::min(h, p.bias_heads - 1) * p.np + i0) * p.np : nullptr;
    const vec ninf = splat(-std::numeric_limits<float>::infinity());
    vec lane;
    for (int l = 0; l < TILE; ++l) lane[l] = static_cast<float>(l);
    vec mrow[TILE], acc[TILE];
    for (int r = 0; r < TILE; ++r) mrow[r] = ninf;
    for (size_t t = 0; t < tiles.size(); ++t) {
        const int64_t j0 = static_cast<int64_t>(tiles[t].tile) * TILE;
        qk_tile(qt, p.d, p.kt + (h * p.np + j0) * p.d, acc);
        const vec pxk = load(p.px.data() + j0), pyk = load(p.py.data() + j0);
        const vec valid = splat(static_cast<float>(p.n - j0));  // lanes >= n - j0 are padding
        for (int r = 0; r < TILE; ++r) {
            vec dx = p.px[i0 + r] - pxk, dy = p.py[i0 + r] - pyk;
            vec d2 = dx * dx + dy * dy;  // as the reference: no contraction
            vec s = fmadd(d2, splat(coef[r]), acc[r]);
            if (bias) s += load(bias + r * p.np + j0);
            s = (d2 > reach2[r]) | (lane >= valid) ? ninf : s;
            store(sbuf + r * ld + t * TILE, s);
            mrow[r] = vmax(mrow[r], s);
        }
    }
    for (int r = 0; r < TILE; ++r) m[r] = hmax(mrow[r]);
}

// Output rows of head h for query tile t: scores, softmax, P V, written in token order.
void attend(const Problem& p, int64_t h, int64_t t, Scratch& w) {
    const std::vector<Visit>& tiles = p.visits[t];
    const int64_t i0 = t * TILE, ld = TILE * static_cast<int64_t>(tiles.size());
    float m[TILE], l[TILE];
    scores(p, h, i0, tiles, w.s, m);
    for (int r = 0; r < TILE; ++r) {  // second pass: probabilities (unnormalised) and sums
        float* s = w.s + r * ld;
        if (m[r] == -std::numeric_limits<float>::infinity()) {  // fully masked row: zeros
            std::fill(s, s + ld, 0.0f);
            l[r] = 0.0f;
            continue;
        }
        vec sum = splat(0.0f), mr = splat(m[r]);
        for (size_t u = 0; u < tiles.size(); ++u) {
            float* su = s + u * TILE;
            if (!((tiles[u].rows >> r) & 1u)) {  // every key of the tile is out of reach
                store(su, splat(0.0f));
                continue;
            }
            vec e = vexp(load(su) - mr);
            store(su, e);
            sum += e;
        }
        l[r] = hsum(sum);
    }
    std::fill(w.o, w.o + TILE * p.dvp, 0.0f);
    for (size_t u = 0; u < tiles.size(); ++u) {
        const int64_t j0 = static_cast<int64_t>(tiles[u].tile) * TILE;
        const int nk = static_cast<int>(std::min<int64_t>(TILE, p.n - j0));
        pv_tile(w.s + u * TILE, ld, p.vp + (h * p.np + j0) * p.dvp, p.dvp, nk, tiles[u].rows, w.o);
    }
    for (int r = 0; r < TILE && i0 + r < p.n; ++r) {
        const float inv = l[r] > 0.0f ? 1.0f / l[r] : 0.0f;
        float* dst = p.out + (h * p.n + p.perm[i0 + r]) * p.dv;
        for (int64_t c = 0; c < p.dv; ++c) dst[c] = w.o[r * p.dvp + c] * inv;
    }
}

// Runs fn(item, worker) for item in [0, n_items) on at most nthreads threads, numbered
// worker = 0, 1, ..., handing the items out through an atomic counter (dynamic schedule).
template <class Fn>
void parallel(int64_t n_items, int nthreads, Fn fn) {
    std::atomic<int64_t> next{0};
    std::atomic<bool> failed{false};
    auto worker = [&](int id) {
        try {
            for (int64_t i; (i = next.fetch_add(1)) < n_items && !failed.load();) fn(i, id);
        } catch (...) {
            failed = true;
        }
    };
    std::vector<std::thread> pool;
    for (int i = 1; i < std::min<int64_t>(nthreads, n_items); ++i) pool.emplace_back(worker, i);
    worker(0);
    for (auto& th : pool) th.join();
    if (failed) throw std::bad_alloc();
}

}  // namespace

extern "C" {

// Frees the cached workspace (it is allocated again by the next call).
void ecc_release_workspace() {
    std::lock_guard<std::mutex> lock(workspace().mu);
    std::vector<float>().swap(workspace().buf);
}

// Forward pass of one batch element; q, k (H, n, d), v (H, n, dv), pos (n, 2), sig (Hs, n) in
// token order, perm the Morton order, bias (Hb, np, np) already sorted and padded (or null),
// out (H, n, dv). Returns 0 on success, 1 on bad arguments, 2 when memory runs out.
int ecc_forward(int64_t n, int64_t d, int64_t dv, int64_t heads, int64_t sig_heads, int64_t bias_heads,
                const float* q, const float* k, const float* v, const float* pos, const float* sig,
                const float* bias, const int64_t* perm, float cutoff, float* out, int nthreads) {
    if (n < 1 || d < 1 || dv < 1 || heads < 1 || sig_heads < 1 || (bias && bias_heads < 1)) return 1;
    Problem p;
    p.n = n, p.np = (n + PAD - 1) / PAD * PAD, p.d = d, p.dv = dv, p.dvp = (dv + TILE - 1) / TILE * TILE;
    p.heads = heads, p.sig_heads = sig_heads, p.bias_heads = bias_heads;
    p.q = q, p.k = k, p.v = v, p.pos = pos, p.sig = sig, p.bias = bias, p.perm = perm;
    p.cutoff = cutoff, p.scale = 1.0f / std::sqrt(static_cast<float>(d)), p.out = out;
    const int64_t n_tiles = p.np / TILE;
    try {
        prepare_geometry(p);
        std::vector<Box> kbox(n_tiles);
        for (int64_t t = 0; t < n_tiles; ++t) kbox[t] = tile_box(p, t * TILE);
        const int64_t workers = std::max<int64_t>(1, std::min<int64_t>(nthreads, heads * n_tiles));
        const int64_t tiles_size = heads * p.np * d, values_size = heads * p.np * p.dvp;
        const size_t need = 2 * tiles_size + values_size + workers * TILE * (p.np + p.dvp);
        std::unique_lock<std::mutex> lock(workspace().mu, std::try_to_lock);
        std::vector<float> own;
        std::vector<float>& buf = lock.owns_lock() ? workspace().buf : own;
        if (buf.size() < need) {
            std::vector<float>().swap(buf);
            buf.resize(need);
        }
        p.qt = buf.data(), p.kt = p.qt + tiles_size, p.vp = p.kt + tiles_size;
        p.visits.resize(n_tiles);
        parallel(heads * n_tiles + n_tiles, nthreads, [&](int64_t i, int) {
            if (i < heads * n_tiles)
                prepare_tile(p, i / n_tiles, i % n_tiles);
            else
                visit_list(p, kbox, (i - heads * n_tiles) * TILE, p.visits[i - heads * n_tiles]);
        });
        // Head-major order: neighbouring query tiles of one head share their keys and values,
        // which then stay in the core's L2 cache.
        std::vector<Scratch> scratch(workers);
        for (int64_t i = 0; i < workers; ++i) {
            scratch[i].s = p.vp + values_size + i * TILE * (p.np + p.dvp);
            scratch[i].o = scratch[i].s + TILE * p.np;
        }
        parallel(heads * n_tiles, nthreads, [&](int64_t i, int id) { attend(p, i / n_tiles, i % n_tiles, scratch[id]); });
        return 0;
    } catch (const std::bad_alloc&) {
        return 2;
    }
}

}  // extern "C"
