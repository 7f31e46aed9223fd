// The GPU kernels of dlcore's `cuda` feature, in CUDA C.
//
// `cargo xtask ptx` compiles this file to PTX (`sgemm.ptx`, committed beside it),
// which the Rust side embeds and hands to the driver; the driver compiles the PTX
// for whatever GPU it finds. Nothing here is compiled by `cargo build`.
//
// Storage is column-major, as in nalgebra's DMatrix: element (i, j) of a matrix
// with leading dimension `ld` (its number of rows) is at `[i + j * ld]`.

// ANCHOR: tile_sizes
// Each block of 16 × 16 threads computes a 64 × 64 tile of C, walking the shared
// dimension 16 at a time. Each thread keeps 4 × 4 results of C in registers: rows
// tx, tx + 16, tx + 32, tx + 48 and columns ty, ty + 16, ty + 32, ty + 48 of the
// tile. Spacing a thread's rows 16 apart keeps neighbouring threads on neighbouring
// rows, so that their reads of shared memory and their writes to C (column-major)
// are contiguous.
#define TILE_M 64
#define TILE_N 64
#define TILE_K 16
#define THREADS_X 16
#define THREADS_Y 16
#define THREADS (THREADS_X * THREADS_Y)
#define PER_THREAD_M (TILE_M / THREADS_X)
#define PER_THREAD_N (TILE_N / THREADS_Y)
// ANCHOR_END: tile_sizes

// ANCHOR: sgemm_tile
// C <- alpha * op(A) * op(B) + beta * C for the 64 × 64 tile of C at block
// (blockIdx.x, blockIdx.y). op(A) is m × k, op(B) is k × n, C is m × n; any
// sizes work: elements outside the matrices read as 0 and are never written.
// With beta == 0, C is only written, never read (it may hold NaN).
template <bool TRANSPOSE_A, bool TRANSPOSE_B>
__device__ void sgemm_tile(int m, int n, int k, float alpha, const float *__restrict__ a, int lda,
                           const float *__restrict__ b, int ldb, float beta, float *__restrict__ c,
                           int ldc)
{
    // One slice of op(A) (TILE_M rows × TILE_K columns) and of op(B) (TILE_K rows ×
    // TILE_N columns), both stored k-major. The + 1 spreads a column of the
    // transposed loads over different memory banks.
    __shared__ float a_tile[TILE_K][TILE_M + 1];
    __shared__ float b_tile[TILE_K][TILE_N + 1];

    const int tx = threadIdx.x;
    const int ty = threadIdx.y;
    const int thread = ty * THREADS_X + tx;
    const int row0 = blockIdx.x * TILE_M;
    const int col0 = blockIdx.y * TILE_N;

    float acc[PER_THREAD_M][PER_THREAD_N];
    for (int r = 0; r < PER_THREAD_M; ++r)
        for (int s = 0; s < PER_THREAD_N; ++s)
            acc[r][s] = 0.0f;

    for (int p0 = 0; p0 < k; p0 += TILE_K) {
        // Stage the two slices in shared memory, every thread loading a few
        // elements. Consecutive threads read consecutive addresses of global
        // memory: along a column of A as stored, whichever way op turns it.
        for (int e = thread; e < TILE_M * TILE_K; e += THREADS) {
            const int ti = TRANSPOSE_A ? e / TILE_K : e % TILE_M;
            const int tp = TRANSPOSE_A ? e % TILE_K : e / TILE_M;
            const int i = row0 + ti;
            const int p = p0 + tp;
            float v = 0.0f;
            if (i < m && p < k)
                v = TRANSPOSE_A ? a[p + (size_t)i * lda] : a[i + (size_t)p * lda];
            a_tile[tp][ti] = v;
        }
        for (int e = thread; e < TILE_K * TILE_N; e += THREADS) {
            const int tp = TRANSPOSE_B ? e / TILE_N : e % TILE_K;
            const int tj = TRANSPOSE_B ? e % TILE_N : e / TILE_K;
            const int p = p0 + tp;
            const int j = col0 + tj;
            float v = 0.0f;
            if (p < k && j < n)
                v = TRANSPOSE_B ? b[j + (size_t)p * ldb] : b[p + (size_t)j * ldb];
            b_tile[tp][tj] = v;
        }
        __syncthreads();

        // Multiply the slices: per step of p, 4 + 4 reads of shared memory feed
        // 16 multiply-adds held in registers.
#pragma unroll
        for (int p = 0; p < TILE_K; ++p) {
            float a_frag[PER_THREAD_M];
            float b_frag[PER_THREAD_N];
            for (int r = 0; r < PER_THREAD_M; ++r)
                a_frag[r] = a_tile[p][tx + r * THREADS_X];
            for (int s = 0; s < PER_THREAD_N; ++s)
                b_frag[s] = b_tile[p][ty + s * THREADS_Y];
            for (int r = 0; r < PER_THREAD_M; ++r)
                for (int s = 0; s < PER_THREAD_N; ++s)
                    acc[r][s] = fmaf(a_frag[r], b_frag[s], acc[r][s]);
        }
        // Nobody overwrites the slices until everybody has used them.
        __syncthreads();
    }

    for (int r = 0; r < PER_THREAD_M; ++r) {
        const int i = row0 + tx + r * THREADS_X;
        for (int s = 0; s < PER_THREAD_N; ++s) {
            const int j = col0 + ty + s * THREADS_Y;
            if (i < m && j < n) {
                float *out = &c[i + (size_t)j * ldc];
                *out = beta == 0.0f ? alpha * acc[r][s] : alpha * acc[r][s] + beta * *out;
            }
        }
    }
}
// ANCHOR_END: sgemm_tile

// The four entry points the Rust side launches, one per pair of transpose flags
// (n: as stored, t: transposed), so that no flag is tested inside the loops.
#define SGEMM_ENTRY(NAME, TA, TB)                                                               \
    extern "C" __global__ void __launch_bounds__(THREADS)                                     \
        NAME(int m, int n, int k, float alpha, const float *__restrict__ a, int lda,           \
             const float *__restrict__ b, int ldb, float beta, float *__restrict__ c, int ldc) \
    {                                                                                           \
        sgemm_tile<TA, TB>(m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);                      \
    }

SGEMM_ENTRY(sgemm_nn, false, false)
SGEMM_ENTRY(sgemm_nt, false, true)
SGEMM_ENTRY(sgemm_tn, true, false)
SGEMM_ENTRY(sgemm_tt, true, true)

// ANCHOR: sgd_step
// One SGD step on `len` weights, PyTorch's convention as in dlcore::optim::Sgd:
// g' = g + decay * w; with momentum, v <- momentum * v + g' and w <- w - lr * v;
// without, w <- w - lr * g'. The _rn intrinsics forbid fusing a multiply and an
// add into one rounding, so every weight gets exactly the CPU's float result.
extern "C" __global__ void sgd_step(int len, float lr, float momentum, float decay,
                                    float *__restrict__ w, const float *__restrict__ g,
                                    float *__restrict__ v)
{
    for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < len; i += gridDim.x * blockDim.x) {
        if (momentum == 0.0f) {
            const float step = __fadd_rn(g[i], __fmul_rn(decay, w[i]));
            w[i] = __fsub_rn(w[i], __fmul_rn(lr, step));
        } else {
            const float velocity =
                __fadd_rn(__fadd_rn(__fmul_rn(momentum, v[i]), g[i]), __fmul_rn(decay, w[i]));
            v[i] = velocity;
            w[i] = __fsub_rn(w[i], __fmul_rn(lr, velocity));
        }
    }
}
// ANCHOR_END: sgd_step
