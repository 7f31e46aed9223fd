// Runs the kernels of sgemm.cu on the CPU, to check their index arithmetic, their
// edge handling and their use of __syncthreads on a machine without a GPU.
//
// `cargo xtask ptx --check` compiles this file with g++ (ThreadSanitizer on) and
// runs it. Every thread of a block is a real thread; blocks run one after the
// other; __shared__ arrays become statics, shared by the threads of the block;
// __syncthreads is a barrier. A missing barrier shows up as a data race, a wrong
// index as a wrong product. What this cannot check: the PTX itself, the driver,
// the launch code on the Rust side, and speed. Those need a real GPU.

#include <barrier>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <thread>
#include <vector>

struct dim3 {
    unsigned x = 1, y = 1, z = 1;
};
static thread_local dim3 threadIdx;
static thread_local dim3 blockIdx;
static dim3 blockDim;
static dim3 gridDim;
static std::barrier<> *block_barrier = nullptr;

static void __syncthreads() { block_barrier->arrive_and_wait(); }
// Compiled with -ffp-contract=off, so these round after every operation, as the
// GPU intrinsics do.
static float __fmul_rn(float a, float b) { return a * b; }
static float __fadd_rn(float a, float b) { return a + b; }
static float __fsub_rn(float a, float b) { return a - b; }

#define __global__
#define __device__
#define __shared__ static
#define __launch_bounds__(n)

#include "sgemm.cu"

// Runs `kernel` over the grid: every block's threads together, blocks in turn.
template <class Kernel> static void launch(dim3 grid, dim3 block, Kernel kernel)
{
    gridDim = grid;
    blockDim = block;
    const unsigned threads = block.x * block.y * block.z;
    std::barrier<> barrier(threads);
    block_barrier = &barrier;
    std::vector<std::thread> pool;
    for (unsigned t = 0; t < threads; ++t) {
        pool.emplace_back([&, t] {
            threadIdx = dim3{t % block.x, t / block.x % block.y, t / (block.x * block.y)};
            for (unsigned z = 0; z < grid.z; ++z)
                for (unsigned y = 0; y < grid.y; ++y)
                    for (unsigned x = 0; x < grid.x; ++x) {
                        blockIdx = dim3{x, y, z};
                        kernel();
                        // A real block has its own shared memory; here the next
                        // block reuses it, so wait until this one is done.
                        barrier.arrive_and_wait();
                    }
        });
    }
    for (auto &thread : pool)
        thread.join();
}

static unsigned blocks(int size, int tile) { return unsigned((size + tile - 1) / tile); }

static int failures = 0;

// C <- alpha op(A) op(B) + beta C through the kernel, against a double-precision
// product. The tolerance is a float rounding per term of the sum, relative to the
// sum of the terms' magnitudes.
static void check_sgemm(int m, int n, int k, bool ta, bool tb, float alpha, float beta,
                        std::mt19937 &rng)
{
    std::uniform_real_distribution<float> uniform(-1.0f, 1.0f);
    const int a_rows = ta ? k : m, a_cols = ta ? m : k;
    const int b_rows = tb ? n : k, b_cols = tb ? k : n;
    std::vector<float> a(size_t(a_rows) * a_cols), b(size_t(b_rows) * b_cols), c(size_t(m) * n);
    for (auto &v : a)
        v = uniform(rng);
    for (auto &v : b)
        v = uniform(rng);
    for (auto &v : c)
        v = beta == 0.0f ? NAN : uniform(rng);
    const std::vector<float> c0 = c;
    auto op_a = [&](int i, int p) { return ta ? a[p + size_t(i) * a_rows] : a[i + size_t(p) * a_rows]; };
    auto op_b = [&](int p, int j) { return tb ? b[j + size_t(p) * b_rows] : b[p + size_t(j) * b_rows]; };

    auto kernel = ta ? (tb ? sgemm_tt : sgemm_tn) : (tb ? sgemm_nt : sgemm_nn);
    const int lda = a_rows > 0 ? a_rows : 1, ldb = b_rows > 0 ? b_rows : 1, ldc = m > 0 ? m : 1;
    if (m > 0 && n > 0)
        launch(dim3{blocks(m, TILE_M), blocks(n, TILE_N), 1}, dim3{THREADS_X, THREADS_Y, 1}, [&] {
            kernel(m, n, k, alpha, a.data(), lda, b.data(), ldb, beta, c.data(), ldc);
        });

    double worst = 0.0;
    for (int j = 0; j < n; ++j)
        for (int i = 0; i < m; ++i) {
            double sum = 0.0, magnitude = 0.0;
            for (int p = 0; p < k; ++p) {
                sum += double(op_a(i, p)) * op_b(p, j);
                magnitude += std::fabs(double(op_a(i, p)) * op_b(p, j));
            }
            const double old = beta == 0.0f ? 0.0 : c0[i + size_t(j) * m];
            const double expected = alpha * sum + beta * old;
            const double scale = std::fabs(alpha) * magnitude + std::fabs(beta * old);
            const double error = std::fabs(c[i + size_t(j) * m] - expected);
            const double allowed = 1e-6 * (k + 2) * scale + 1e-30;
            if (!(error <= allowed))
                worst = std::isnan(error) ? INFINITY : std::fmax(worst, error / allowed);
        }
    const bool ok = worst == 0.0;
    std::printf("%s sgemm_%c%c m=%d n=%d k=%d alpha=%g beta=%g\n", ok ? "ok  " : "FAIL", ta ? 't' : 'n',
                tb ? 't' : 'n', m, n, k, alpha, beta);
    failures += !ok;
}

// The SGD kernel against the CPU formula of dlcore::optim::Sgd, which must agree
// to the last bit.
static void check_sgd(int len, float lr, float momentum, float decay, std::mt19937 &rng)
{
    std::uniform_real_distribution<float> uniform(-1.0f, 1.0f);
    std::vector<float> w(len), g(len), v(len);
    for (int i = 0; i < len; ++i) {
        w[i] = uniform(rng);
        g[i] = uniform(rng);
        v[i] = momentum == 0.0f ? 0.0f : uniform(rng);
    }
    std::vector<float> w_cpu = w, v_cpu = v;
    for (int i = 0; i < len; ++i) {
        if (momentum == 0.0f) {
            w_cpu[i] -= lr * (g[i] + decay * w_cpu[i]);
        } else {
            v_cpu[i] = momentum * v_cpu[i] + g[i] + decay * w_cpu[i];
            w_cpu[i] -= lr * v_cpu[i];
        }
    }
    launch(dim3{2, 1, 1}, dim3{64, 1, 1}, [&] { sgd_step(len, lr, momentum, decay, w.data(), g.data(), v.data()); });
    const bool ok = w == w_cpu && v == v_cpu;
    std::printf("%s sgd_step len=%d lr=%g momentum=%g decay=%g\n", ok ? "ok  " : "FAIL", len, lr, momentum, decay);
    failures += !ok;
}

int main()
{
    std::mt19937 rng(7);
    // Shapes below, at and above one tile, odd and prime sizes, an empty inner
    // dimension, a vector, and the products of a 784-256-256-10 MLP at batch 128.
    const int shapes[][3] = {{1, 1, 1},    {1, 1, 0},    {3, 5, 7},     {64, 64, 16},   {65, 63, 17},
                             {17, 129, 33}, {1, 200, 31}, {200, 1, 31},  {97, 101, 103}, {256, 128, 784},
                             {256, 784, 128}, {784, 128, 256}, {10, 128, 256}};
    for (const auto &s : shapes)
        for (int t = 0; t < 4; ++t)
            check_sgemm(s[0], s[1], s[2], t & 1, t & 2, 1.0f, 0.0f, rng);
    for (int t = 0; t < 4; ++t)
        check_sgemm(70, 33, 45, t & 1, t & 2, -0.5f, 0.75f, rng);
    check_sgemm(5, 6, 0, false, false, 2.0f, 0.5f, rng);
    check_sgd(300, 0.05f, 0.9f, 5e-4f, rng);
    check_sgd(300, 0.1f, 0.0f, 0.0f, rng);
    check_sgd(1, 0.1f, 0.0f, 0.01f, rng);
    if (failures > 0) {
        std::printf("%d kernel checks failed\n", failures);
        return 1;
    }
    std::printf("all kernel checks passed on the CPU emulation\n");
    return 0;
}
